// The participants repository (DESIGN §5), as the exchange reads it: who a transport identity is, with
// the trust and policy its packages are judged by. The registry's own writes (onboarding, lifecycle)
// live with flows/participants.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// A participant that may send to us (active, being checked, or suspended), as its packages are judged.
struct PeerRow {
  std::string org_id, name, sys_id, system;
  bool require_seal = true;
  std::string trust_list;  // a pinned list of qualified providers (as published), or empty: the global one
  std::string trust_pem;
  bool own_channel = false;  // its own contact centre's appeals come in through the exchange
  std::string pinned;        // registered seal certificates in force (SHA-256, comma-separated), when any
};

// The participant a transport identity names: its AMQP user, "tls:<sha256>" of a client certificate
// registered (and in force) for it, or "endpoint:<adapter>:<org>" — an active endpoint of that adapter
// vouches for the organisation; nullopt for none.
Result<std::optional<PeerRow>> findPeer(PgConnection& db, const std::string& identity);

// What a participant's signatures are judged by: its CA certificates (PEM) and its pinned list of
// qualified providers (empty: the global one); nullopt for an unknown participant.
struct ParticipantTrustRow {
  std::string trust_pem, trust_list;
};
Result<std::optional<ParticipantTrustRow>> participantTrust(PgConnection& db, const std::string& org_id);

// Every participant not retired, by org id: those whose queues the broker must have.
Result<std::vector<std::string>> participantsNotRetired(PgConnection& db);
// The same, each with whether every active endpoint it has is on `adapter` (false with none).
Result<std::vector<std::pair<std::string, bool>>> participantsNotRetiredOnlyOn(PgConnection& db,
                                                                               const std::string& adapter);

// A participant as an envelope names it; nullopt for an unknown one.
struct PartyRow {
  std::string name, sys_id, system_name;
};
Result<std::optional<PartyRow>> participantParty(PgConnection& db, const std::string& org_id);

// The active endpoints of every participant not retired, by adapter, participant and id: what the
// inbound adapters listen on.
struct EndpointOfRow {
  std::string org_id, adapter;
  std::string settings;  // JSON
};
Result<std::vector<EndpointOfRow>> activeEndpointsOfAll(PgConnection& db);

}  // namespace vkhid::store
