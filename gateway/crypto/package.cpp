#include "gateway/crypto/package.hpp"

#include <map>

#include "gateway/crypto/cms.hpp"
#include "gateway/crypto/seal.hpp"
#include "gateway/sev/codec.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::crypto {

std::vector<const sev::DocTransfer*> allTransfers(const sev::Header& h) {
  std::vector<const sev::DocTransfer*> out;
  if (h.document) {
    for (const auto& t : h.document->transfers) out.push_back(&t);
  }
  if (h.task_list) {
    for (const auto& task : h.task_list->tasks) {
      for (const auto& t : task.transfers) out.push_back(&t);
    }
  }
  if (h.add_documents) {
    for (const auto& f : h.add_documents->folders) {
      for (const auto& t : f.transfers) out.push_back(&t);
    }
  }
  if (h.acknowledgement && h.acknowledgement->transfer) out.push_back(&*h.acknowledgement->transfer);
  return out;
}

Status signAttachments(sev::Header& header, const Signer& signer) {
  if (!header.expansion) {
    header.expansion = sev::Expansion{};
    header.expansion->organization = "Урядовий контактний центр";
    header.expansion->exp_ver = "vkhid/1";
  }
  auto& infos = header.expansion->sign_infos;
  for (const auto* t : allTransfers(header)) {
    bool signed_already = false;
    for (const auto& i : infos) signed_already |= i.doc_transfer_idnumber == t->idnumber;
    if (signed_already) continue;
    auto cms = signer.signCms(t->content);
    if (!cms) return cms.error();
    sev::SignInfo info;
    info.doc_transfer_idnumber = t->idnumber;
    info.certificate_data = cms->certificate;
    if (!cms->signing_time.empty()) info.signing_time = cms->signing_time;
    info.sign_data = std::move(cms->der);
    infos.push_back(std::move(info));
  }
  return {};
}

Result<std::string> sealedPackage(const sev::Header& header, const Signer& signer) {
  auto doc = sev::buildDocument(header);
  if (auto s = seal(doc.get(), signer); !s) return s.error();
  return sev::serialize(doc.get());
}

Result<std::string> resealPackage(std::string_view bytes, const Signer& signer, const sev::ParseLimits& limits) {
  auto doc = sev::parseAndValidate(bytes, limits);
  if (!doc) return doc.error();
  if (auto s = seal(doc->get(), signer); !s) return s.error();
  return sev::serialize(doc->get());
}

PackageReport verifyPackage(std::string_view bytes, const TrustStore& trust, const VerifyOptions& options) {
  PackageReport report;
  auto doc = sev::parseAndValidate(bytes, options.limits);
  if (!doc) {
    report.findings.push_back(doc.error());
    return report;
  }
  auto header = sev::readHeader(doc->get());
  if (!header) {
    report.findings.push_back(header.error());
    return report;
  }
  if (auto s = sev::checkZones(*header); !s) report.findings.push_back(s.error());

  report.seal = verifySeal(doc->get(), trust, options.at);
  if (report.seal.state == SignatureState::Missing) {
    if (options.require_seal) report.findings.push_back(sev::sevError(sev::SevError::SealMissing, ""));
  } else if (!report.seal.valid()) {
    report.findings.push_back(sev::sevError(report.seal.code, report.seal.detail));
  }

  std::map<std::string, const sev::SignInfo*> by_id;
  if (header->expansion) {
    for (const auto& info : header->expansion->sign_infos) by_id[info.doc_transfer_idnumber] = &info;
  }
  auto transfers = allTransfers(*header);
  for (const auto* t : transfers) {
    AttachmentReport a{t->idnumber, t->description, t->type, t->content.size(), {}};
    auto it = by_id.find(t->idnumber);
    if (it == by_id.end()) {
      a.verdict.state = SignatureState::Missing;
      a.verdict.code = sev::SevError::AttachmentSignatureMissing;
      a.verdict.detail = "DocTransfer idnumber=" + t->idnumber + " has no SignInfo";
    } else {
      a.verdict = verifyDetached(t->content, it->second->sign_data, trust, header->from_org_id,
                                 it->second->certificate_data.value_or(""), options.at);
      if (!a.verdict.valid()) a.verdict.detail = "DocTransfer idnumber=" + t->idnumber + ": " + a.verdict.detail;
    }
    if (!a.verdict.valid()) report.findings.push_back(sev::sevError(a.verdict.code, a.verdict.detail));
    report.attachments.push_back(std::move(a));
  }
  for (const auto& [id, info] : by_id) {
    bool known = false;
    for (const auto* t : transfers) known |= t->idnumber == id;
    if (!known) {
      report.findings.push_back(
          sev::sevError(sev::SevError::AttachmentSignatureOrphan, "SignInfo docTransfer_idnumber=" + id));
    }
  }
  report.header = std::move(header).value();
  return report;
}

}  // namespace vkhid::crypto
