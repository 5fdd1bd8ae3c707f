// A participant's TOML (docs/onboarding.md) read and checked before anything is written: every key
// known, the EDRPOU code, the kinds, the certificates of this organisation chained to its trust anchor,
// a pinned trust list that holds certificates. Errors name the key.
#include <toml++/toml.h>

#include <boost/json.hpp>
#include <cstdio>
#include <set>

#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/case.hpp"
#include "gateway/flows/participants_internal.hpp"

namespace vkhid::flows::participant_detail {
namespace {

namespace json = boost::json;

// A PEM from `<key>_file` (read from disk) or `<key>_pem` (inline); empty when neither is given.
Result<std::string> pemOf(const toml::table& t, const std::string& key) {
  if (auto inline_pem = t[key + "_pem"].value<std::string>()) return *inline_pem;
  auto file = t[key + "_file"].value_or(std::string());
  if (file.empty()) return std::string();
  auto pem = crypto::readFile(file);
  if (!pem) return invalid(key + "_file: " + pem.error().message);
  return *pem;
}

Status checkKeys(const toml::table& t, const std::string& source) {
  static const std::set<std::string> known = {"org_id",
                                              "sys_id",
                                              "name",
                                              "system_name",
                                              "full_name",
                                              "short_name",
                                              "memorandum_number",
                                              "memorandum_date",
                                              "kinds",
                                              "own_channel",
                                              "require_seal",
                                              "trust_list_file",
                                              "trust_ca_file",
                                              "trust_ca_pem",
                                              "seal_cert_file",
                                              "seal_cert_pem",
                                              "tls_cert_file",
                                              "tls_cert_pem",
                                              "transport_user",
                                              "status",
                                              "contact",
                                              "endpoint"};
  for (const auto& [k, v] : t) {
    if (k.str() == "accept_unsupported_signatures") {
      return invalid(source +
                     ": accept_unsupported_signatures is no longer a setting: DSTU 4145, ECDSA and RSA qualified "
                     "signatures are verified against the qualified providers' trust list (the gateway's "
                     "trust.qualified_lists, or this participant's own with trust_list_file = \"….p7b\"); remove "
                     "the key");
    }
    if (!known.count(std::string(k.str()))) return invalid(source + ": unknown key '" + std::string(k.str()) + "'");
  }
  return {};
}

// Who it is: org_id (EDRPOU), sys_id and name required; the status asked for, if any.
Status readIdentity(const toml::table& t, const std::string& source, ParticipantFile& p) {
  auto str = [&](const char* k) { return t[k].value_or(std::string()); };
  p.org_id = str("org_id");
  p.sys_id = str("sys_id");
  p.name = str("name");
  p.system_name = str("system_name");
  p.full_name = str("full_name");
  p.short_name = str("short_name");
  p.memorandum_number = str("memorandum_number");
  p.transport_user = str("transport_user");
  p.own_channel = t["own_channel"].value_or(false);
  p.require_seal = t["require_seal"].value_or(true);
  if (p.org_id.empty() || p.sys_id.empty() || p.name.empty()) {
    return invalid(source + ": org_id, sys_id and name are required");
  }
  if (p.org_id.size() < 8 || p.org_id.size() > 10 || p.org_id.find_first_not_of("0123456789") != std::string::npos) {
    return invalid(source + ": org_id: an EDRPOU code (8 to 10 digits)");
  }
  p.wanted_status = str("status");
  if (!p.wanted_status.empty() && p.wanted_status != "draft" && p.wanted_status != "pending_check") {
    return invalid(source +
                   ": status: draft or pending_check (a participant becomes active by `participant "
                   "activate` after a passed check)");
  }
  if (auto d = t["memorandum_date"].as_date()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d->get().year, d->get().month, d->get().day);
    p.memorandum_date = buf;
  } else if (auto s = t["memorandum_date"].value<std::string>()) {
    p.memorandum_date = *s;
  }
  return {};
}

// Its trust anchor, the qualified providers' list it pins (as published: PKCS#7 bundle, DER or PEM
// certificates; its attachment signatures are judged against it instead of the global one), and its
// seal and TLS certificates, each chained to the anchor now.
Status readTrust(const toml::table& t, ParticipantFile& p) {
  auto trust_pem = pemOf(t, "trust_ca");
  if (!trust_pem) return trust_pem.error();
  p.trust_pem = *trust_pem;
  if (auto file = t["trust_list_file"].value<std::string>()) {
    auto bytes = crypto::readFile(*file);
    if (!bytes) return invalid("trust_list_file: " + bytes.error().message);
    crypto::TrustStore list;
    if (auto s = list.addAny(*bytes); !s || list.size() == 0) {
      return invalid("trust_list_file: " + (s ? std::string("no certificate in it") : s.error().message));
    }
    p.trust_list = std::move(bytes).value();
  }
  crypto::TrustStore trust;
  if (!p.trust_pem.empty()) {
    if (auto certs = crypto::certificatesFromPem(p.trust_pem); !certs) {
      return invalid("trust_ca_file: " + certs.error().message);
    }
    (void)trust.addPem(p.trust_pem);
  }
  for (const auto& [key, purpose] : {std::pair{"seal_cert", "seal"}, std::pair{"tls_cert", "tls"}}) {
    auto pem = pemOf(t, key);
    if (!pem) return pem.error();
    if (pem->empty()) continue;
    auto row = registeredCert(std::string(key) + "_file", purpose, *pem, p.org_id, &trust);
    if (!row) return row.error();
    p.certs.push_back(std::move(row).value());
  }
  return {};
}

// The kinds it takes (all three when not said), its contacts and its endpoints.
Status readLists(const toml::table& t, const std::string& source, ParticipantFile& p) {
  p.kinds = "{appeal,info_request,violence_report}";
  if (auto* arr = t["kinds"].as_array()) {
    p.kinds = "{";
    for (std::size_t i = 0; i < arr->size(); ++i) {
      std::string k = (*arr)[i].value_or(std::string());
      if (!domain::caseKindFromName(k)) return invalid(source + ": kinds: appeal, info_request or violence_report");
      p.kinds += (i ? "," : "") + k;
    }
    p.kinds += "}";
  }
  json::array contacts;
  if (auto* arr = t["contact"].as_array()) {
    for (const auto& c : *arr) {
      const auto* ct = c.as_table();
      if (ct == nullptr) return invalid(source + ": [[contact]] must be a table");
      json::object o;
      for (const char* k : {"name", "email", "phone", "role"}) {
        if (auto v = (*ct)[k].value<std::string>()) o[k] = *v;
      }
      contacts.push_back(std::move(o));
    }
  }
  p.contacts = json::serialize(contacts);
  if (auto* arr = t["endpoint"].as_array()) {
    for (const auto& e : *arr) {
      const auto* table = e.as_table();
      if (table == nullptr) return invalid(source + ": [[endpoint]] must be a table");
      json::object settings;
      std::string adapter;
      for (const auto& [k, v] : *table) {
        if (k.str() == "adapter") {
          adapter = v.value_or(std::string());
        } else {
          settings[std::string(k.str())] = v.value_or(std::string());
        }
      }
      if (adapter.empty()) return invalid(source + ": [[endpoint]]: adapter is required");
      p.endpoints.emplace_back(adapter, json::serialize(settings));
    }
  }
  return {};
}

}  // namespace

Result<CertRow> registeredCert(const std::string& key, const std::string& purpose, const std::string& pem,
                               const std::string& org_id, const crypto::TrustStore* trust) {
  auto certs = crypto::certificatesFromPem(pem);
  if (!certs) return invalid(key + ": " + certs.error().message);
  if (certs->empty()) return invalid(key + ": no certificate in it");
  X509* cert = (*certs)[0].get();
  auto info = crypto::describe(cert);
  if (purpose == "seal" && !info.org_id.empty() && info.org_id != org_id) {
    return invalid(key + ": the certificate is of organisation " + info.org_id + ", not " + org_id);
  }
  if (trust != nullptr && trust->size() > 0) {
    if (auto s = trust->verifyChain(cert, {}, std::time(nullptr)); !s) {
      return invalid(key + ": does not chain to trust_ca_file now: " + s.error().message);
    }
  }
  return CertRow{purpose, pem, info.sha256, info.subject, info.not_after};
}

Result<ParticipantFile> readParticipantFile(std::string_view text, const std::string& source) {
  toml::table t;
  try {
    t = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return invalid(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  ParticipantFile p;
  if (auto s = checkKeys(t, source); !s) return s.error();
  if (auto s = readIdentity(t, source, p); !s) return s.error();
  if (auto s = readTrust(t, p); !s) return s.error();
  if (auto s = readLists(t, source, p); !s) return s.error();
  return p;
}

}  // namespace vkhid::flows::participant_detail
