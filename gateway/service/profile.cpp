#include "gateway/service/profile.hpp"

#include <openssl/x509.h>
#include <sys/stat.h>

#include "gateway/crypto/openssl.hpp"

namespace vkhid::service {
namespace {

// What certs/make-dev-pki names its CA and every certificate it issues: O=Vkhid development.
constexpr const char* kDevelopmentOrganization = "Vkhid development";

bool namesDevelopment(const X509_NAME* name) {
  char o[256] = {};
  return X509_NAME_get_text_by_NID(const_cast<X509_NAME*>(name), NID_organizationName, o, sizeof o) > 0 &&
         std::string(o) == kDevelopmentOrganization;
}

// A PEM file of certificates any of which is, or was issued by, the development CA.
void checkNotDevelopment(std::vector<Refusal>& out, const std::string& key, const std::string& path,
                         const std::string& fix) {
  if (path.empty()) return;
  auto pem = crypto::readFile(path);
  if (!pem) {
    out.push_back({key, path + ": cannot be read (" + pem.error().message + ")", fix});
    return;
  }
  auto certs = crypto::certificatesFromPem(*pem);
  if (!certs) {
    out.push_back({key, path + ": not PEM certificates", fix});
    return;
  }
  for (const auto& c : *certs) {
    if (namesDevelopment(X509_get_subject_name(c.get())) || namesDevelopment(X509_get_issuer_name(c.get()))) {
      out.push_back({key, path + " is the development CA's (certs/make-dev-pki)", fix});
      return;
    }
  }
}

// The user a broker URL connects as: the part before ':' or '@' after the scheme; none means guest.
std::string brokerUser(const std::string& url) {
  const auto scheme = url.find("://");
  const std::string rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  const auto at = rest.find('@');
  if (at == std::string::npos) return "guest";
  const std::string userinfo = rest.substr(0, at);
  return userinfo.substr(0, userinfo.find(':'));
}

// A password written in a libpq URL (user:password@) or keyword string (password=).
bool hasPassword(const std::string& url) {
  if (url.find("password=") != std::string::npos) return true;
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string rest = url.substr(scheme + 3);
  const auto at = rest.find('@');
  return at != std::string::npos && rest.substr(0, at).find(':') != std::string::npos;
}

}  // namespace

std::vector<Refusal> productionRefusals(const app::Config& c) {
  std::vector<Refusal> out;
  if (hasPassword(c.database.url) || hasPassword(c.database.read_url)) {
    out.push_back({"database.url", "holds a password",
                   "keep the password in a file libpq reads — ~/.pgpass, or the file PGPASSFILE names (mode 0600) "
                   "— and leave it out of the URL"});
  }
  if (brokerUser(c.broker.url) == "guest") {
    out.push_back({"broker.url", "connects as the broker's guest user",
                   "give the gateway a broker user of its own (rabbitmqctl add_user) and name it in the URL"});
  }
  if (c.intake.tls_cert.empty() || c.intake.tls_key.empty()) {
    out.push_back({"intake.tls_cert", "the intake listens on plain HTTP",
                   "set intake.tls_cert and intake.tls_key to the intake's certificate and key"});
  }
  if (c.audit.tsa_url.empty()) {
    out.push_back({"audit.tsa_url", "no time-stamp authority: the evidence log would never be time-stamped",
                   "set audit.tsa_url to the qualified time-stamp authority (RFC 3161)"});
  }
  if (c.gateway.pkcs11_module.empty()) {
    struct stat st {};
    if (::stat(c.gateway.seal_key.c_str(), &st) != 0) {
      out.push_back({"gateway.seal_key", c.gateway.seal_key + ": cannot be read",
                     "name the seal's key file, or its PKCS#11 token (gateway.pkcs11_module)"});
    } else if ((st.st_mode & S_IRWXO) != 0) {
      out.push_back({"gateway.seal_key", c.gateway.seal_key + " may be read by every user of the machine",
                     "chmod 600 it and give it to the gateway's user — or keep the key on a PKCS#11 token"});
    }
  }
  {
    struct stat st {};
    if (::stat(c.at_rest.master_key.c_str(), &st) != 0) {
      out.push_back({"at_rest.master_key", c.at_rest.master_key + ": cannot be read",
                     "make this deployment's master key (`vkhid keys new --out FILE`), give it to the gateway's "
                     "user, and keep a copy offline"});
    } else if ((st.st_mode & (S_IRWXO | S_IRWXG)) != 0) {
      out.push_back({"at_rest.master_key", c.at_rest.master_key + " may be read by other users of the machine",
                     "chmod 600 it and give it to the gateway's user"});
    }
    if (c.at_rest.master_key_id.rfind("dev-", 0) == 0) {
      out.push_back({"at_rest.master_key_id", "the development master key (" + c.at_rest.master_key_id + ")",
                     "make a master key for this deployment (`vkhid keys new --out FILE`) and name it"});
    }
  }
  const std::string qualified = "the UCC's qualified certificates and their CAs, not the development PKI";
  checkNotDevelopment(out, "gateway.seal_cert", c.gateway.seal_cert, qualified);
  checkNotDevelopment(out, "audit.ca_file", c.audit.ca_file, qualified);
  checkNotDevelopment(out, "edms.client_ca", c.edms.client_ca, qualified);
  checkNotDevelopment(out, "intake.client_ca", c.intake.client_ca, qualified);
  checkNotDevelopment(out, "admin.client_ca", c.admin.client_ca, qualified);
  if (c.admin.console_tokens) {
    out.push_back({"admin.console_tokens", "the console takes bearer tokens",
                   "false: people sign in with personal accounts (vkhid account add); tokens serve machine clients"});
  }
  return out;
}

}  // namespace vkhid::service
