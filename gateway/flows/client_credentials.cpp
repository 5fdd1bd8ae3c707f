// The API clients' credentials (`vkhid token issue|rotate|revoke|bind-cert`, declared in
// flows/intake.hpp): random bearer tokens kept as their SHA-256, rotation with an overlap, revocation,
// and bound client certificates. A person's console account is given no token (issue 29).
#include <openssl/rand.h>

#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/store/clients.hpp"

namespace vkhid::flows {

namespace {

// A random token for the client; only its SHA-256 is kept.
Result<std::string> saveNewToken(store::PgConnection& db, const std::string& client_id, const std::string& role,
                                 int valid_days, const std::string& org_id, int overlap_hours) {
  unsigned char b[32];
  RAND_bytes(b, sizeof b);
  std::string token = "vkh_" + sha256Hex(std::string_view(reinterpret_cast<char*>(b), sizeof b)).substr(0, 40);
  if (auto s = store::saveClientToken(db, client_id, role, sha256Hex(token), valid_days, org_id, overlap_hours); !s) {
    return s.error();
  }
  return token;
}

}  // namespace

Result<std::string> issueToken(store::PgConnection& db, const std::string& client_id, const std::string& role,
                               int valid_days, const std::string& org_id) {
  if ((role == "participant") != !org_id.empty()) {
    return Error::invalid("cli.org", role == "participant" ? "--org: a participant's client names its body (EDRPOU)"
                                                           : "--org: only a participant's client names a body");
  }
  auto person = db.exec("SELECT 1 FROM console_account WHERE client_id = $1", {client_id});
  if (!person) return person.error();
  if (person->rows() > 0) {
    return Error::invalid("client.person", "--client: " + client_id +
                                               " is a person's account; people sign in with their password and code "
                                               "(vkhid account), tokens are for machine clients");
  }
  return saveNewToken(db, client_id, role, valid_days, org_id, 0);
}

Result<std::string> rotateToken(store::PgConnection& db, const std::string& client_id, int overlap_hours,
                                int valid_days) {
  if (overlap_hours < 0 || overlap_hours > 24 * 30) {
    return Error::invalid("cli.overlap", "--overlap-hours: 0 to 720");
  }
  auto c = db.exec(
      "SELECT role, coalesce(org_id, '') FROM api_client WHERE id = $1 AND revoked_at IS NULL AND token_sha256 IS NOT "
      "NULL AND (expires_at IS NULL OR expires_at > now())",
      {client_id});
  if (!c) return c.error();
  if (c->rows() == 0) {
    return Error{ErrorKind::NotFound, "client.unknown", "no machine client in force with a token: " + client_id};
  }
  return saveNewToken(db, client_id, std::string(c->get(0, 0)), valid_days, std::string(c->get(0, 1)), overlap_hours);
}

Status revokeClient(store::PgConnection& db, const std::string& client_id) {
  auto revoked = store::revokeClientRow(db, client_id);
  if (!revoked) return revoked.error();
  if (!*revoked) return Error{ErrorKind::NotFound, "client.unknown", "no active client " + client_id};
  return {};
}

Result<std::string> bindClientCertificate(store::PgConnection& db, const std::string& client_id,
                                          const std::string& role, const std::string& cert_pem,
                                          const std::string& org_id) {
  auto certs = crypto::certificatesFromPem(cert_pem);
  if (!certs) return certs.error();
  if (certs->size() != 1) return Error::invalid("cli.cert", "the file must hold exactly one certificate");
  std::string fingerprint = crypto::describe((*certs)[0].get()).sha256;
  if (auto s = store::saveClientCertificate(db, client_id, role, fingerprint, org_id); !s) return s.error();
  return fingerprint;
}

}  // namespace vkhid::flows
