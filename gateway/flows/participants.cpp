#include "gateway/flows/participants.hpp"
#include "gateway/flows/participants_internal.hpp"

#include <toml++/toml.h>

#include <boost/json.hpp>
#include <set>

#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/participant_registry.hpp"
#include "gateway/store/participants.hpp"

namespace vkhid::flows {

namespace json = boost::json;

namespace participant_detail {

Error invalid(const std::string& what) { return Error::invalid("participant.invalid", what); }
Error transition(const std::string& what) { return Error::invalid("participant.transition", what); }

Status alert(store::PgConnection& db, const std::string& key, const std::string& message_id, json::object body) {
  return enqueueOutbox(db, bus::names::kAlerts, key, message_id, json::serialize(body));
}

Result<json::array> contactsOf(store::PgConnection& db, const std::string& org_id) {
  auto r = store::participantContacts(db, org_id);
  if (!r) return r.error();
  if (!*r) return Error::invalid("participant.unknown", "no participant " + org_id);
  return json::parse(**r).as_array();
}

}  // namespace participant_detail

using namespace participant_detail;

namespace {

// What a participant's signatures are judged against, in words: its pinned list, or the global one.
std::string trustListText(const std::string& pinned) {
  if (pinned.empty()) return "global (trust.qualified_lists)";
  crypto::TrustStore list;
  (void)list.addAny(pinned);
  return "pinned: " + std::to_string(list.size()) + " certificates";
}

}  // namespace

Status setActor(store::PgConnection& db, const std::string& actor) { return store::setSessionActor(db, actor); }

Result<std::string> saveParticipant(store::PgConnection& db, std::string_view text, const std::string& source,
                                    const SaveOptions& options) {
  auto read = readParticipantFile(text, source);
  if (!read) return read.error();
  const ParticipantFile& p = *read;
  const std::string& org = p.org_id;

  std::string status;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto existing = store::lockParticipant(db, org);
    if (!existing) return existing.error();
    bool complete = !p.endpoints.empty() && !p.trust_pem.empty();
    if (*existing) {
      status = **existing;
      if (status == "retired") return transition("participant " + org + " is retired; it cannot be changed");
      if (status == "draft" && complete) status = "pending_check";
    } else {
      status = !p.wanted_status.empty() ? p.wanted_status : complete ? "pending_check" : "draft";
      if (status == "pending_check" && !complete) status = "draft";
    }
    if (options.skip_check) status = "active";
    const store::ParticipantRecord row{
        .org_id = p.org_id,
        .sys_id = p.sys_id,
        .name = p.name,
        .system_name = p.system_name,
        .full_name = p.full_name,
        .short_name = p.short_name,
        .memorandum_number = p.memorandum_number,
        .memorandum_date = p.memorandum_date,
        .kinds = p.kinds,
        .own_channel = p.own_channel,
        .require_seal = p.require_seal,
        .trust_list = p.trust_list,
        .trust_pem = p.trust_pem,
        .transport_user = p.transport_user,
        .status = status,
        .contacts = p.contacts,
        .status_reason = options.skip_check
                             ? std::optional<std::string>("activated without a connectivity check (--skip-check)")
                             : std::nullopt,
        .checked_now = options.skip_check};
    if (auto s = store::saveParticipantRecord(db, row); !s) return s;
    if (auto s = store::replaceEndpoints(db, org, p.endpoints); !s) return s;
    for (const auto& c : p.certs) {
      if (auto s = store::addParticipantCert(db, org, {c.purpose, c.pem, c.sha256, c.subject, c.not_after}, false);
          !s) {
        return s;
      }
    }
    return {};
  });
  if (!done) return done.error();
  return status;
}

Result<std::string> listParticipants(store::PgConnection& db) {
  auto rows = store::listParticipantRows(db);
  if (!rows) return rows.error();
  json::array out;
  for (const auto& r : *rows) {
    out.push_back(json::object{{"org_id", r.org_id},
                               {"name", r.name},
                               {"short_name", r.short_name},
                               {"status", r.status},
                               {"status_reason", r.status_reason},
                               {"adapters", r.adapters},
                               {"checked_at", r.checked_at},
                               {"ready_for_activation", r.ready_for_activation},
                               {"seal_cert_not_after", r.seal_cert_not_after}});
  }
  return json::serialize(out);
}

Result<std::string> showParticipant(store::PgConnection& db, const std::string& org_id) {
  auto found = store::readParticipant(db, org_id);
  if (!found) return found.error();
  if (!*found) return Error::invalid("participant.unknown", "no participant " + org_id);
  const auto& p = **found;
  json::object o{{"org_id", p.org_id},
                 {"sys_id", p.sys_id},
                 {"name", p.name},
                 {"system_name", p.system_name},
                 {"full_name", p.full_name},
                 {"short_name", p.short_name},
                 {"memorandum_number", p.memorandum_number},
                 {"memorandum_date", p.memorandum_date},
                 {"kinds", p.kinds},
                 {"own_channel", p.own_channel},
                 {"require_seal", p.require_seal},
                 {"trust_list", trustListText(p.trust_list)},
                 {"status", p.status},
                 {"status_reason", p.status_reason},
                 {"contacts", json::parse(p.contacts)},
                 {"transport_user", p.transport_user},
                 {"ready_for_activation", p.ready_for_activation}};
  auto endpoints = store::activeEndpoints(db, org_id);
  if (!endpoints) return endpoints.error();
  json::array e;
  for (const auto& r : *endpoints) {
    e.push_back(json::object{{"id", r.id}, {"adapter", r.adapter}, {"settings", json::parse(r.settings)}});
  }
  o["endpoints"] = std::move(e);
  auto certs = store::participantCerts(db, org_id);
  if (!certs) return certs.error();
  json::array c;
  for (const auto& r : *certs) {
    c.push_back(json::object{{"purpose", r.purpose},
                             {"sha256", r.sha256},
                             {"subject", r.subject},
                             {"not_after", r.not_after},
                             {"retire_after", r.retire_after},
                             {"in_use", r.in_use}});
  }
  o["certificates"] = std::move(c);
  auto check = store::lastCheck(db, org_id);
  if (!check) return check.error();
  if (*check) {
    o["last_check"] =
        json::object{{"at", (*check)->at}, {"passed", (*check)->passed}, {"report", json::parse((*check)->report)}};
  }
  return json::serialize(o);
}

namespace {

Status changeStatus(store::PgConnection& db, const std::string& org_id, const std::set<std::string>& from,
                    const std::string& to, const std::string& reason,
                    const std::function<Status(const std::string&)>& more) {
  return store::inTransaction(db, [&]() -> Status {
    auto locked = store::lockParticipant(db, org_id);
    if (!locked) return locked.error();
    if (!*locked) return Error::invalid("participant.unknown", "no participant " + org_id);
    const std::string status = **locked;
    if (!from.count(status)) {
      std::string allowed;
      for (const auto& s : from) allowed += (allowed.empty() ? "" : ", ") + s;
      return transition("participant " + org_id + " is " + status + "; it can become " + to + " only from " + allowed);
    }
    if (more) {
      if (auto s = more(status); !s) return s;
    }
    if (auto s = store::setParticipantStatus(db, org_id, to, reason); !s) return s;
    auto contacts = contactsOf(db, org_id);
    if (!contacts) return contacts.error();
    json::array notify{"ucc:coordinator"};
    for (const auto& c : *contacts) notify.push_back(c);
    return alert(
        db, "participant." + to, "participant:" + org_id + ":" + to + ":" + std::to_string(std::time(nullptr)),
        json::object{{"org_id", org_id}, {"from", status}, {"to", to}, {"reason", reason}, {"notify", notify}});
  });
}

}  // namespace

Status activateParticipant(store::PgConnection& db, const std::string& org_id, bool force) {
  return changeStatus(db, org_id, {"pending_check", "suspended"}, "active",
                      force ? "activated without a passed check (--force)" : "", [&](const std::string&) -> Status {
                        if (force) return {};
                        auto checked = store::checkedSinceChange(db, org_id);
                        if (!checked) return checked.error();
                        if (!*checked) {
                          return transition("participant " + org_id +
                                            " has no passed connectivity check since its last change; run `vkhid "
                                            "participant check " +
                                            org_id + "` first");
                        }
                        return {};
                      });
}

Status suspendParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason) {
  if (reason.empty()) return invalid("a suspension needs a reason (--reason)");
  return changeStatus(db, org_id, {"active"}, "suspended", reason, {});
}

Status retireParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason) {
  return changeStatus(db, org_id, {"draft", "pending_check", "active", "suspended"}, "retired", reason, {});
}

Result<std::string> rotateCertificate(store::PgConnection& db, const std::string& org_id, const std::string& pem,
                                      const std::string& purpose, int overlap_days) {
  if (purpose != "seal" && purpose != "tls") return invalid("--purpose: seal or tls");
  if (overlap_days < 0) return invalid("--overlap-days: zero or more");
  auto p = store::participantTrust(db, org_id);
  if (!p) return p.error();
  if (!*p) return Error::invalid("participant.unknown", "no participant " + org_id);
  crypto::TrustStore trust;
  if (!(*p)->trust_pem.empty()) (void)trust.addPem((*p)->trust_pem);
  auto row = registeredCert("--cert", purpose, pem, org_id, &trust);
  if (!row) return row.error();
  Status done = store::inTransaction(db, [&]() -> Status {
    if (auto s = store::retireReplacedCerts(db, org_id, purpose, row->sha256, overlap_days); !s) return s;
    return store::addParticipantCert(db, org_id, {purpose, row->pem, row->sha256, row->subject, row->not_after}, true);
  });
  if (!done) return done.error();
  return row->sha256;
}

Result<int> warnExpiringCertificates(store::PgConnection& db) {
  int warned = 0;
  for (int days : {30, 7}) {
    Status s = store::inTransaction(db, [&]() -> Status {
      auto expiring = store::takeExpiringCerts(db, days);
      if (!expiring) return expiring.error();
      for (const auto& c : *expiring) {
        json::array notify{"ucc:coordinator"};
        const json::value contacts = json::parse(c.contacts);
        for (const auto& contact : contacts.as_array()) notify.push_back(contact);
        if (auto a = alert(db, "certificate.expiring", "cert:" + c.sha256 + ":" + std::to_string(days),
                           json::object{{"org_id", c.org_id},
                                        {"purpose", c.purpose},
                                        {"sha256", c.sha256},
                                        {"not_after", c.not_after},
                                        {"within_days", days},
                                        {"notify", notify}});
            !a) {
          return a;
        }
        ++warned;
      }
      return {};
    });
    if (!s) return s.error();
  }
  return warned;
}

}  // namespace vkhid::flows
