#include "tests/support/pki.hpp"

#include <cstdlib>
#include <stdexcept>

#include "gateway/domain/time.hpp"
#include "tests/support/test_env.hpp"

namespace vkhid::testing {

std::string pkiDir() {
  static const std::string dir = [] {
    std::string d = varDir() + "/pki";
    std::string cmd = sourceDir() + "/certs/make-dev-pki " + d + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("certs/make-dev-pki failed");
    return d;
  }();
  return dir;
}

crypto::FileSigner signerOf(const std::string& name) {
  auto s = crypto::FileSigner::load(pkiDir() + "/" + name + ".key", pkiDir() + "/" + name + ".pem");
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

crypto::TrustStore devTrust() {
  crypto::TrustStore t;
  auto s = t.addPem(readFile(pkiDir() + "/ca.pem"));
  if (!s) throw std::runtime_error(s.error().message);
  return t;
}

sev::EnvelopeParty uccParty() { return {kUccOrg, "Урядовий контактний центр", "vkhid-gateway", "Вхід"}; }

sev::EnvelopeParty participantParty(const std::string& org_id) {
  return {org_id, "Учасник " + org_id, "edms-" + org_id, "СЕД учасника"};
}

domain::Case sampleCase() {
  domain::Case c;
  c.id = "7b2f3c9e-2d7a-4c11-9d55-1a8e0c6f4b21";
  c.ucc_number = "УКЦ-2026-0000123";
  c.registered_on = "2026-11-28";
  c.kind = domain::CaseKind::Appeal;
  c.applicant = {
      false, false, "Шевченко", "Олена", "Петрівна", "м. Київ, вул. Хрещатик, 1", "olena@example.org", "+380501234567"};
  c.consent = {true, true};
  c.classification.form_of_receipt = "1.1";
  c.classification.sign = "2.1";
  c.classification.type = "3.2";
  c.classification.subject = "5.1";
  c.classification.topic = "004";
  c.text = "Прошу полагодити освітлення на вулиці.";
  c.attachments.push_back({"фото.jpg", "image/jpeg", std::string("\xFF\xD8\xFF\xE0") + " not really a jpeg"});
  c.channel = "web";
  c.received_at = "2026-11-28T09:15:00Z";
  c.addressee_org_id = kP1Org;
  c.deadlines.push_back({"answer", "2026-12-28T23:59:59+02:00", "Закон 393/96-ВР, ст. 20"});
  return c;
}

sev::Envelope envelopeFromUcc(const std::string& to_org) {
  // The certificates must exist before the package's time is taken: a seal made by a certificate
  // issued after the time the package claims is, rightly, refused.
  (void)pkiDir();
  return {uccParty(), participantParty(to_org), "0b7c1f52-3f1a-4e7e-8f1e-6a1c2b3d4e5f",
          formatIsoUtc(std::time(nullptr))};
}

}  // namespace vkhid::testing
