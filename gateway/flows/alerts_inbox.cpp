#include "gateway/flows/alerts_inbox.hpp"

#include <boost/json.hpp>
#include <regex>

#include "gateway/app/digest.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

namespace json = boost::json;

Result<std::string> listAlerts(store::PgConnection& db, bool open_only, bool restricted_access, int limit) {
  auto r = db.exec(
      "SELECT a.id, a.kind, a.severity, to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "AS created_at, a.restricted, coalesce(a.case_id::text, '') AS case_id, coalesce(c.ucc_number, '') AS "
      "ucc_number, coalesce(a.org_id, '') AS org_id, a.detail::text AS detail, a.rota_step, "
      "coalesce(to_char(a.acknowledged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') AS "
      "acknowledged_at, coalesce(a.acknowledged_by, '') AS acknowledged_by, coalesce(a.ack_comment, '') AS "
      "ack_comment, coalesce((SELECT json_agg(json_build_object('channel', n.channel, 'audience', n.audience, "
      "'recipient', n.recipient_masked, 'name', n.recipient_name, 'status', n.status, 'attempts', n.attempts, "
      "'sent_at', n.sent_at, 'error', n.last_error) ORDER BY n.id) FROM notice n WHERE n.alert_id = a.id), "
      "'[]')::text AS notices FROM alert a LEFT JOIN cases c ON c.id = a.case_id "
      "WHERE ($1::boolean IS FALSE OR a.acknowledged_at IS NULL) "
      "ORDER BY (a.acknowledged_at IS NULL) DESC, a.severity, a.created_at DESC, a.id DESC LIMIT $2",
      {open_only ? "true" : "false", std::to_string(limit)});
  if (!r) return r.error();
  json::array out;
  for (int i = 0; i < r->rows(); ++i) {
    const bool restricted = r->getBool(i, "restricted");
    const bool hide = restricted && !restricted_access;
    json::object a{{"id", r->getInt(i, "id")},
                   {"kind", r->get(i, "kind")},
                   {"severity", r->getInt(i, "severity")},
                   {"created_at", r->get(i, "created_at")},
                   {"restricted", restricted},
                   {"org_id", r->get(i, "org_id")},
                   {"rota_step", r->getInt(i, "rota_step")},
                   {"open", r->get(i, "acknowledged_at").empty()}};
    if (!hide) {
      a["case_id"] = r->get(i, "case_id");
      a["ucc_number"] = r->get(i, "ucc_number");
      boost::system::error_code ec;
      auto detail = json::parse(std::string(r->get(i, "detail")), ec);
      if (!ec) a["detail"] = std::move(detail);
    }
    if (!r->get(i, "acknowledged_at").empty()) {
      a["acknowledged"] = json::object{{"at", r->get(i, "acknowledged_at")},
                                       {"by", r->get(i, "acknowledged_by")},
                                       {"comment", r->get(i, "ack_comment")}};
    }
    boost::system::error_code ec;
    auto notices = json::parse(std::string(r->get(i, "notices")), ec);
    a["notices"] = ec ? json::value(json::array{}) : std::move(notices);
    out.push_back(std::move(a));
  }
  return json::serialize(out);
}

Status acknowledgeAlert(store::PgConnection& db, const std::string& id, const std::string& actor,
                        const std::string& comment) {
  static const std::regex id_re("[0-9]{1,18}");
  if (!std::regex_match(id, id_re)) return Error{ErrorKind::NotFound, "alert.unknown", "no alert " + id};
  if (comment.find_first_not_of(" \t\r\n") == std::string::npos || comment.size() > 2000) {
    return Error::invalid("alert.invalid", "comment: what was done, 1-2000 characters");
  }
  return store::inTransaction(db, [&]() -> Status {
    auto r = db.exec(
        "UPDATE alert SET acknowledged_at = now(), acknowledged_by = $2, ack_comment = $3, renotify_at = NULL "
        "WHERE id = $1::bigint AND acknowledged_at IS NULL RETURNING kind",
        {id, actor, comment});
    if (!r) return r.error();
    if (r->rows() == 0) {
      auto exists = db.exec("SELECT 1 FROM alert WHERE id = $1::bigint", {id});
      if (!exists) return exists.error();
      if (exists->rows() == 0) return Error{ErrorKind::NotFound, "alert.unknown", "no alert " + id};
      return Error{ErrorKind::Conflict, "alert.acknowledged", "alert " + id + " is acknowledged already"};
    }
    // Evidence: who acknowledged which alert, and the digest of what they wrote.
    auto logged =
        db.exec("INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ($1, 'alert.ack', $2, $3)",
                {actor, "alert:" + id + " kind:" + std::string(r->get(0, 0)), app::sha256Hex(comment)});
    return logged ? Status() : Status(logged.error());
  });
}

}  // namespace vkhid::flows
