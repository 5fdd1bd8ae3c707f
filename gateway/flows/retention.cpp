#include "gateway/flows/retention.hpp"

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/domain/case_status.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/data_keys.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

// What an erased case's body keeps: nothing that names or describes a person.
constexpr const char* kKeptBody =
    "(SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(body) WHERE key IN ('kind', "
    "'classification', 'channel', 'received_at', 'urgency', 'priority', 'no_further_study', 'addressee_org_id', "
    "'complained_of_org_id', 'handling_minutes', 'deadlines')) "
    "|| jsonb_build_object('applicant', jsonb_build_object('anonymous', coalesce(body->'applicant'->'anonymous', "
    "'false'::jsonb), 'collective', coalesce(body->'applicant'->'collective', 'false'::jsonb)), "
    "'consent', coalesce(body->'consent', '{}'::jsonb) - 'notify', "
    "'violence', jsonb_build_object('forms', coalesce(body->'violence'->'forms', '[]'::jsonb), 'child_involved', "
    "coalesce(body->'violence'->'child_involved', 'false'::jsonb)), "
    "'erased', jsonb_build_object('rule', $2::text, 'at', now()))";

std::string yearsRule(const std::string& kind, int years) {
  return "retention:" + kind + ":" + std::to_string(years) + "y";
}

}  // namespace

Result<ErasureOutcome> eraseCase(store::PgConnection& db, const std::string& case_id, const std::string& rule,
                                 const std::string& reason) {
  ErasureOutcome out{case_id, rule, 0};
  auto st = store::inTransaction(db, [&]() -> Status {
    auto c = db.exec("SELECT status, erased_at IS NOT NULL FROM cases WHERE id = vkhid_uuid($1) FOR UPDATE", {case_id});
    if (!c) return c.error();
    if (c->rows() == 0) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    const auto status = domain::caseStatusFromName(std::string(c->get(0, 0)));
    if (c->get(0, 1) == "t") return Error{ErrorKind::Conflict, "case.erased", "case " + case_id + " is erased already"};
    if (!status || !domain::isFinal(*status)) {
      return Error{ErrorKind::Conflict, "case.not_ended",
                   "case " + case_id + " is still being handled (" + std::string(c->get(0, 0)) +
                       "): its data is needed until it ends"};
    }
    // The packages: bytes gone, row and digest kept; each an evidence entry with its digest.
    auto packages = db.exec(
        "UPDATE message SET bytes = ''::bytea, erased_at = now(), erased_rule = $2, updated_at = now() "
        "WHERE case_id = vkhid_uuid($1) AND erased_at IS NULL RETURNING msg_id::text, sha256",
        {case_id, rule});
    if (!packages) return packages.error();
    for (int i = 0; i < packages->rows(); ++i) {
      if (auto s = store::appendEvidence(
              db, "erasure.package", "msg:" + std::string(packages->get(i, 0)) + " case:" + case_id + " rule:" + rule,
              std::string(packages->get(i, 1)));
          !s) {
        return s;
      }
    }
    out.packages = packages->rows();
    auto body =
        db.exec(std::string("UPDATE cases SET body = ") + kKeptBody +
                    ", personal = NULL, applicant_key = NULL, contact_keys = NULL, text_hash = NULL, erased_at = now() "
                    "WHERE id = vkhid_uuid($1)",
                {case_id, rule});
    if (!body) return body.error();
    if (auto r = db.exec("UPDATE case_rating SET comment = '' WHERE case_id = vkhid_uuid($1)", {case_id}); !r) {
      return r.error();
    }
    if (auto e =
            db.exec("INSERT INTO case_event (case_id, actor, event, status_from, status_to, detail) SELECT id, "
                    "vkhid_audit_actor(), 'erased', status, status, jsonb_build_object('rule', $2::text, 'packages', "
                    "$3::int) FROM cases WHERE id = vkhid_uuid($1)",
                    {case_id, rule, std::to_string(out.packages)});
        !e) {
      return e.error();
    }
    return store::appendEvidence(db, "erasure.case", "case:" + case_id + " rule:" + rule, sha256Hex(reason));
  });
  if (!st) return st.error();
  app::metrics().counter("vkhid_erased_cases_total", "Cases whose personal data was erased").inc();
  return out;
}

Result<ErasureOutcome> eraseOnRequest(store::PgConnection& db, const std::string& case_id, const std::string& reason,
                                      const std::string& ground) {
  auto usable = [](const std::string& s) {
    return isCleanText(s) && s.find_first_not_of(" \t") != std::string::npos && s.size() <= 500;
  };
  if (!usable(reason)) return Error::invalid("erasure.invalid", "reason: the data subject's request, 1-500 characters");
  // The ground goes into the rule, which names it in the evidence: a short code, no spaces.
  if (!usable(ground) || ground.size() > 80 || ground.find_first_of(" \t") != std::string::npos) {
    return Error::invalid("erasure.invalid",
                          "ground: the legal ground, a short code without spaces (e.g. zpd-art8-p2-8: Law 2297-VI "
                          "art. 8 p. 2 subp. 8)");
  }
  return eraseCase(db, case_id, "request:" + ground, reason);
}

Result<RetentionRun> runRetention(store::PgConnection& db, const app::RetentionSettings& settings, bool dry_run,
                                  int limit) {
  // One run at a time, whichever gateway or command comes first; the others find nothing to do.
  auto locked = db.exec("SELECT pg_try_advisory_lock(hashtext('vkhid.retention'))");
  if (!locked) return locked.error();
  if (locked->get(0, 0) != "t") return RetentionRun{.busy = true};
  struct Unlock {
    store::PgConnection& db;
    ~Unlock() { (void)db.exec("SELECT pg_advisory_unlock(hashtext('vkhid.retention'))"); }
  } unlock{db};
  // Ended cases past their kind's period since their last event (the end), not erased yet.
  auto due = db.exec(
      "SELECT c.id::text, c.kind FROM cases c WHERE c.erased_at IS NULL AND c.status IN ('closed', 'withdrawn', "
      "'not_considered', 'merged', 'returned') AND (SELECT max(e.at) FROM case_event e WHERE e.case_id = c.id) < "
      "now() - make_interval(years => CASE c.kind WHEN 'appeal' THEN $1::int WHEN 'info_request' THEN $2::int "
      "ELSE $3::int END) ORDER BY c.registered_at LIMIT $4::int",
      {std::to_string(settings.appeal_years), std::to_string(settings.info_request_years),
       std::to_string(settings.violence_report_years), std::to_string(limit)});
  if (!due) return due.error();
  RetentionRun run;
  for (int i = 0; i < due->rows(); ++i) {
    const std::string id(due->get(i, 0)), kind(due->get(i, 1));
    if (dry_run) {
      ++run.cases;
      continue;
    }
    const int years = kind == "appeal"         ? settings.appeal_years
                      : kind == "info_request" ? settings.info_request_years
                                               : settings.violence_report_years;
    auto erased = eraseCase(db, id, yearsRule(kind, years), settings.basis);
    if (!erased) {
      ++run.failed;
      log::error("retention: a case could not be erased", {{"case_id", id}, {"error", erased.error().message}});
      continue;
    }
    ++run.cases;
    run.packages += erased->packages;
  }
  // A month whose values are all erased loses its data key: no copy of the database opens it again.
  if (!dry_run) {
    auto keys = destroyEmptyMonthKeys(db);
    if (!keys) return keys.error();
    run.keys = *keys;
  }
  return run;
}

}  // namespace vkhid::flows
