#include "gateway/flows/ops_gauges.hpp"

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "gateway/app/metrics.hpp"

namespace vkhid::flows {
namespace {

double number(const store::PgResult& r, int row, int column) {
  return r.isNull(row, column) ? 0.0 : std::stod(std::string(r.get(row, column)));
}

// The UCC seal certificate's end, in seconds since the epoch; 0 when it cannot be read.
double sealNotAfter(const crypto::Signer& signer) {
  X509* cert = signer.certificate();
  if (!cert) return 0;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<double>(timegm(&tm));
}

}  // namespace

Status refreshOperationsGauges(ExchangeContext& context) {
  auto db = context.pool.acquire();
  if (!db) return db.error();
  auto& m = app::metrics();
  // Per active participant: when a package last reached it, and how many wait (0 included, so an alert
  // clears when the queue empties).
  // The last delivery from its own row (migration 0039), the queue through its partial index (migration
  // 0026): the cost is per participant, not per message ever sent.
  auto per = (*db)->exec(
      "SELECT p.org_id, extract(epoch FROM d.last_delivered_at), (SELECT count(*) FROM message o WHERE o.peer_org_id "
      "= p.org_id AND o.direction = 'out' AND o.status NOT IN ('sent', 'dead')) FROM participant p LEFT JOIN "
      "participant_delivery d ON d.org_id = p.org_id WHERE p.status = 'active'");
  if (!per) return per.error();
  for (int i = 0; i < per->rows(); ++i) {
    const std::string org(per->get(i, 0));
    m.gauge("vkhid_participant_last_delivered_timestamp_seconds",
            "When a package last reached the participant (0: never)", {{"participant", org}})
        .set(number(*per, i, 1));
    m.gauge("vkhid_participant_outbound_waiting", "Packages for the participant not yet delivered nor dead",
            {{"participant", org}})
        .set(number(*per, i, 2));
  }
  auto totals = (*db)->exec(
      "SELECT (SELECT count(*) FROM message WHERE direction = 'out' AND status = 'dead'), "
      "(SELECT coalesce(sum(1 + coalesce(jsonb_array_length(more), 0)), 0) FROM outbox WHERE sent_at IS NULL), "
      "(SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox WHERE sent_at IS NULL)");
  if (!totals) return totals.error();
  m.gauge("vkhid_dead_letters", "Outbound packages given up on (dead), waiting for a person")
      .set(number(*totals, 0, 0));
  m.gauge("vkhid_outbox_backlog", "Events not yet published to the broker").set(number(*totals, 0, 1));
  m.gauge("vkhid_outbox_oldest_seconds", "Age of the oldest event not yet published").set(number(*totals, 0, 2));
  // Certificates: each active participant's earliest in force, by purpose; and the UCC's seal.
  auto certs = (*db)->exec(
      "SELECT c.org_id, c.purpose, extract(epoch FROM min(c.not_after)) FROM participant_cert c JOIN participant p ON "
      "p.org_id = c.org_id WHERE p.status = 'active' AND (c.retire_after IS NULL OR c.retire_after > now()) "
      "GROUP BY 1, 2");
  if (!certs) return certs.error();
  const char* help = "When the certificate stops being valid (seconds since the epoch)";
  for (int i = 0; i < certs->rows(); ++i) {
    m.gauge("vkhid_certificate_expiry_timestamp_seconds", help,
            {{"participant", std::string(certs->get(i, 0))}, {"purpose", std::string(certs->get(i, 1))}})
        .set(number(*certs, i, 2));
  }
  m.gauge("vkhid_certificate_expiry_timestamp_seconds", help, {{"participant", "ucc"}, {"purpose", "seal"}})
      .set(sealNotAfter(context.signer));
  // A streaming replica (database.read_url): how far its replay is behind — 0 when it has replayed all it
  // received, so an idle primary does not read as lag.
  if (!context.config.database.read_url.empty()) {
    auto reader = context.readPool().acquire();
    if (!reader) return reader.error();
    auto lag = (*reader)->exec(
        "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
        "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END");
    if (!lag) return lag.error();
    m.gauge("vkhid_replica_lag_seconds", "How far the read replica's replay is behind the primary")
        .set(number(*lag, 0, 0));
  }
  return {};
}

}  // namespace vkhid::flows
