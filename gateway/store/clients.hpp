// The API clients repository (DESIGN §11): the intake's channels, the admins and auditors, by the
// digest of their bearer token or the fingerprint of a bound client certificate; and the console's
// sessions, kept by the digest of their id. A client is in force while neither revoked nor expired.
#pragma once

#include <optional>
#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

struct ClientRow {
  std::string id, role;
  bool restricted_access = false;
  std::string org_id;  // a participant body's client (role participant): its body; else empty
};

enum class ClientKey { TokenSha256, CertSha256 };

// The client in force with this token digest or certificate fingerprint; nullopt: none.
Result<std::optional<ClientRow>> findClient(PgConnection& db, ClientKey by, const std::string& value);

// Whether the client may see restricted cases (false for an unknown one).
Result<bool> clientRestrictedAccess(PgConnection& db, const std::string& client_id);

// The client with this role (and body, for role participant) and a new token (its digest); it expires
// after `valid_days` (0: never). A revoked client is reinstated. With `overlap_hours`, the token it
// replaces keeps working that long; without, it stops at once (and so does any earlier one).
Status saveClientToken(PgConnection& db, const std::string& client_id, const std::string& role,
                       const std::string& token_sha256, int valid_days, const std::string& org_id = {},
                       int overlap_hours = 0);
// The client with this role, known by a certificate (its fingerprint).
Status saveClientCertificate(PgConnection& db, const std::string& client_id, const std::string& role,
                             const std::string& cert_sha256, const std::string& org_id = {});
// False when there was no unrevoked client of that id.
Result<bool> revokeClientRow(PgConnection& db, const std::string& client_id);

// A console session, as its cookie finds it.
struct ConsoleSessionRow {
  std::string client_id, role, csrf;
  bool restricted_access = false;
  std::string org_id;  // read from the client when the session is touched
};
// A new session (the digest of its id), ending after `idle_minutes` unused or `max_minutes` after it
// began, whichever comes first; sessions a day past their end go.
Status insertConsoleSession(PgConnection& db, const std::string& id_sha256, const ConsoleSessionRow& s,
                            int idle_minutes, int max_minutes);
// The session, its idle time started again; nullopt when it ended (idle or at its end), or its client is no longer in
// force.
Result<std::optional<ConsoleSessionRow>> touchConsoleSession(PgConnection& db, const std::string& id_sha256,
                                                             int idle_minutes);
Status deleteConsoleSession(PgConnection& db, const std::string& id_sha256);

}  // namespace vkhid::store
