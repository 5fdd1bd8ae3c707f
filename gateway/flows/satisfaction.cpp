// Applicant satisfaction, the first of the Procedure's п. 3 criteria the exchange did not measure: once
// the answer has come, the applicant rates its handling 1–5 by the tracking code, with a comment if they
// like. Recorded once per case, as an event of the case (its evidence entry carries the score, never the
// comment); reports count scores, never comments or who gave them (flows/report_evaluation.cpp).
#include <boost/json.hpp>

#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxComment = 2000;

struct RatingRequest {
  long long score = 0;
  std::string comment;
};

// The request's fields, each wrong one named.
std::vector<FieldError> readRating(const std::string& body, RatingRequest& out) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return {{"", "a JSON object with score (1 to 5) and, if wished, comment"}};
  const auto& o = doc.as_object();
  std::vector<FieldError> errors;
  const auto* score = o.if_contains("score");
  if (score == nullptr || !score->is_int64() || score->as_int64() < 1 || score->as_int64() > 5) {
    errors.push_back({"/score", "a whole number from 1 (very dissatisfied) to 5 (fully satisfied)"});
  } else {
    out.score = score->as_int64();
  }
  if (const auto* comment = o.if_contains("comment"); comment != nullptr && !comment->is_null()) {
    if (!comment->is_string() || comment->as_string().size() > kMaxComment ||
        !isCleanText(std::string(comment->as_string()))) {
      errors.push_back({"/comment", "text of up to 2000 bytes without control characters (optional)"});
    } else {
      out.comment = std::string(comment->as_string());
    }
  }
  for (const auto& [key, value] : o) {
    if (key != "score" && key != "comment") errors.push_back({"/" + std::string(key), "no such field"});
  }
  return errors;
}

}  // namespace

IntakeOutcome Intake::rate(const std::string& raw_code, const std::string& body) {
  RatingRequest req;
  if (auto errors = readRating(body, req); !errors.empty()) {
    return IntakeOutcome::refusal(IntakeResult::invalid, "Invalid rating", "a wrong field", std::move(errors));
  }
  const std::string code = normalTrackingCode(raw_code);
  auto db = context_.pool.acquire();
  if (!db) {
    return IntakeOutcome::refusal(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  }
  std::optional<IntakeOutcome> refusal;
  std::string rated_at;
  Status done = store::inTransaction(**db, [&]() -> Status {
    // The case, locked so two ratings sent at once are one rating and one refusal. A mass appeal's
    // member is answered with its group: it may be rated once the group's answer has come.
    auto c = (*db)->exec(
        "SELECT id, status, EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.event = "
        "'answered_with_group') AS answered_with_group FROM cases c WHERE tracking_code = $1 FOR UPDATE",
        {code});
    if (!c) return c.error();
    if (c->rows() == 0) {
      refusal = IntakeOutcome::refusal(IntakeResult::not_found, "Not found", "no case has this tracking code");
      return {};
    }
    const std::string id(c->get(0, "id")), status(c->get(0, "status"));
    const bool answered =
        status == "answered" || status == "closed" || (status == "merged" && c->getBool(0, "answered_with_group"));
    if (!answered) {
      refusal = IntakeOutcome::refusal(IntakeResult::conflict, "Not yet",
                                       "a case is rated once its answer has come; this one is " + status);
      return {};
    }
    // The comment is the applicant's own words: sealed at rest like the case (store/at_rest.hpp).
    std::string comment;
    if (!req.comment.empty()) {
      auto sealed = store::sealText(**db, req.comment, "case_rating.comment:" + id);
      if (!sealed) return sealed.error();
      comment = std::move(*sealed);
    }
    auto inserted = (*db)->exec(
        "INSERT INTO case_rating (case_id, score, comment) VALUES ($1, $2::smallint, $3) ON CONFLICT (case_id) DO "
        "NOTHING RETURNING to_char(rated_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD\"T\"HH24:MI:SS')",
        {id, std::to_string(req.score), comment});
    if (!inserted) return inserted.error();
    if (inserted->rows() == 0) {
      auto first = (*db)->exec(
          "SELECT to_char(rated_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD') FROM case_rating WHERE case_id = $1",
          {id});
      refusal = IntakeOutcome::refusal(IntakeResult::conflict, "Rated already",
                                       "this case was rated on " +
                                           std::string(first && first->rows() ? first->get(0, 0) : "an earlier day") +
                                           "; a case is rated once");
      return {};
    }
    rated_at = std::string(inserted->get(0, 0));
    // The event (and so the evidence entry) carries the score, never the comment: the applicant's text.
    return recordEvent(**db, id, "applicant", "rated", status, status,
                       json::serialize(json::object{{"score", req.score}}));
  });
  if (!done) {
    return IntakeOutcome::refusal(IntakeResult::unavailable, "Unavailable",
                                  "the rating could not be recorded now; try again");
  }
  if (refusal) return *refusal;
  IntakeOutcome out;
  out.result = IntakeResult::created;
  out.body = json::serialize(json::object{{"tracking_code", code}, {"score", req.score}, {"rated_at", rated_at}});
  return out;
}

}  // namespace vkhid::flows
