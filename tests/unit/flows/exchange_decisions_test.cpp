// What the exchange decides, against rows held in memory: no database, the same code the inbound and
// delivery flows run against PostgreSQL (store::PgReceiptRepository and the delivery claim, exercised
// by the exchange and edms tests).
#include <boost/test/unit_test.hpp>

#include <map>

#include "gateway/flows/deadlines.hpp"
#include "gateway/flows/delivery.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/inbound_decisions.hpp"
#include "gateway/flows/receipt_decision.hpp"
#include "gateway/sev/errors.hpp"

using namespace vkhid;
using Kind = flows::ReceiptDecision::Kind;
using domain::CaseStatus;

namespace {

constexpr const char* kUs = "11111111";     // the participant sending the receipts
constexpr const char* kOther = "22222222";  // another participant

struct OurPackage {
  std::string to, case_id;
  int msg_type = 1;
  std::string direction = "out";
};

// Our packages and their cases as rows in memory, with the semantics of PgReceiptRepository's SQL: a
// package judged as a batch of arrivals judges the one it read (store::ReferredPackage).
class InMemoryReceipts final : public store::ReceiptRepository {
 public:
  std::map<std::string, OurPackage> packages;  // by msg_id
  std::map<std::string, store::ReceiptCaseRow> cases;
  int locked = 0;

  Result<std::optional<store::OurMessageRow>> ourMessage(const std::string& msg_id,
                                                         const std::string& peer_org_id) override {
    auto p = packages.find(msg_id);
    if (p == packages.end()) return std::optional<store::OurMessageRow>{};
    const auto& row = p->second;
    return store::ReferredPackage{row.case_id, row.msg_type, row.direction, row.to}.ourTo(peer_org_id);
  }
  Result<std::optional<store::ReceiptCaseRow>> lockCase(const std::string& case_id) override {
    ++locked;
    auto c = cases.find(case_id);
    if (c == cases.end()) return std::optional<store::ReceiptCaseRow>{};
    return std::optional<store::ReceiptCaseRow>{c->second};
  }
};

// Package "p-sent" of case "c-sent" (sent to us), "p-registered" of a case we registered as "15/2-7",
// "p-answered" of a case we answered, "p-forwarded" of a case forwarded to the other participant since,
// "p-receipt" one of our receipts, "p-gone" a package whose case is no more, "p-inbound" one the participant
// sent us.
InMemoryReceipts exchange() {
  InMemoryReceipts m;
  m.packages = {{"p-sent", {kUs, "c-sent"}},         {"p-registered", {kUs, "c-registered"}},
                {"p-answered", {kUs, "c-answered"}}, {"p-forwarded", {kUs, "c-forwarded"}},
                {"p-receipt", {kUs, "c-sent", 0}},   {"p-gone", {kUs, "c-gone"}},
                {"p-theirs", {kOther, "c-sent"}},    {"p-inbound", {kUs, "c-sent", 1, "in"}}};
  m.cases = {{"c-sent", {CaseStatus::Sent, kUs, ""}},
             {"c-registered", {CaseStatus::RegisteredByParticipant, kUs, "15/2-7"}},
             {"c-answered", {CaseStatus::Answered, kUs, ""}},
             {"c-forwarded", {CaseStatus::Sent, kOther, ""}}};
  return m;
}

sev::Header receipt(const std::string& of, int ack_type, const std::string& number = "", int error = 0,
                    const std::string& error_text = "") {
  sev::Header h;
  h.msg_type = 0;
  h.acknowledgement = sev::Acknowledgement{};
  h.acknowledgement->msg_id = of;
  h.acknowledgement->ack_type = ack_type;
  if (!number.empty()) h.acknowledgement->reg_number = sev::RegNumber{number, "2026-12-01", std::nullopt};
  if (error != 0) h.acknowledgement->results.push_back({error, error_text});
  return h;
}

flows::ReceiptDecision decide(InMemoryReceipts& rows, const sev::Header& h) {
  auto d = flows::decideReceipt(rows, kUs, h);
  BOOST_REQUIRE(d.ok());
  return *d;
}

// The SEV code a decision (a receipt's, a notice's, an extension's verdict) refuses with.
template <class Decision>
int refusedWith(const Decision& d) {
  BOOST_REQUIRE(d.kind == Decision::Kind::Refuse);
  BOOST_REQUIRE(d.refusal.has_value());
  return static_cast<int>(sev::sevErrorOf(*d.refusal).value_or(sev::SevError::Malformed));
}

constexpr int kNotInCompetence = static_cast<int>(sev::SevError::NotInCompetence);

}  // namespace

BOOST_AUTO_TEST_SUITE(receipts)

BOOST_AUTO_TEST_CASE(a_receipt_for_what_we_never_sent_that_participant_is_refused_with_code_40) {
  auto rows = exchange();
  BOOST_TEST(refusedWith(decide(rows, receipt("p-unknown", 1))) == 40);
  // Ours, but sent to another participant: one body cannot acknowledge another's package.
  BOOST_TEST(refusedWith(decide(rows, receipt("p-theirs", 2))) == 40);
  // Not ours at all: a package that participant sent us, acknowledged as if we had sent it.
  BOOST_TEST(refusedWith(decide(rows, receipt("p-inbound", 2))) == 40);
  BOOST_TEST(rows.locked == 0);  // no case was locked for a refused receipt
}

BOOST_AUTO_TEST_CASE(a_registration_number_outside_the_format_is_refused_with_code_32) {
  auto rows = exchange();
  BOOST_TEST(refusedWith(decide(rows, receipt("p-sent", 3, "15/2-7<script>"))) == 32);
  BOOST_TEST(rows.locked == 0);
}

BOOST_AUTO_TEST_CASE(a_receipt_for_our_receipt_or_for_a_case_that_is_gone_moves_nothing) {
  auto rows = exchange();
  auto of_receipt = decide(rows, receipt("p-receipt", 1));
  BOOST_TEST((of_receipt.kind == Kind::OfNoCase));
  BOOST_TEST(rows.locked == 0);
  BOOST_TEST((decide(rows, receipt("p-gone", 2)).kind == Kind::UnknownCase));
}

BOOST_AUTO_TEST_CASE(a_receipt_from_the_body_a_case_has_left_is_late_and_moves_nothing) {
  auto rows = exchange();
  auto d = decide(rows, receipt("p-forwarded", 3, "99/1"));
  BOOST_TEST((d.kind == Kind::MovedOn));
  BOOST_TEST(d.case_id == "c-forwarded");
}

BOOST_AUTO_TEST_CASE(receipts_in_order_move_the_case_and_a_late_one_is_only_recorded) {
  auto rows = exchange();
  auto registered = decide(rows, receipt("p-sent", 3, "15/2-9"));
  BOOST_TEST((registered.kind == Kind::Apply));
  BOOST_TEST(registered.reg_number == "15/2-9");
  BOOST_TEST((registered.from == CaseStatus::Sent));
  // The same number again is no conflict; a receipt after the answer that would move nothing is late.
  BOOST_TEST((decide(rows, receipt("p-registered", 3, "15/2-7")).kind == Kind::Apply));
  BOOST_TEST((decide(rows, receipt("p-answered", 1)).kind == Kind::Late));
  BOOST_TEST((decide(rows, receipt("p-answered", 5)).kind == Kind::Late));
}

BOOST_AUTO_TEST_CASE(a_receipt_that_would_change_what_the_case_recorded_is_a_conflict) {
  auto rows = exchange();
  auto renumbered = decide(rows, receipt("p-registered", 3, "15/2-8"));
  BOOST_TEST((renumbered.kind == Kind::Conflict));
  BOOST_TEST(renumbered.conflict.find("15/2-7") != std::string::npos);
  // Not in competence, after the answer: the answer stands, the case is not forwarded.
  auto late_refusal = decide(rows, receipt("p-answered", 4, "", kNotInCompetence, "not ours: 33333333"));
  BOOST_TEST((late_refusal.kind == Kind::Conflict));
}

BOOST_AUTO_TEST_CASE(not_in_competence_forwards_to_the_one_body_its_text_names) {
  auto rows = exchange();
  auto named = decide(rows, receipt("p-sent", 4, "", kNotInCompetence, "Надіслати до 33333333 за належністю"));
  BOOST_TEST((named.kind == Kind::Forward));
  BOOST_TEST(named.competent_org_id == "33333333");
  // Two codes (or a longer number) name no one body: the UCC decides.
  auto two = decide(rows, receipt("p-sent", 4, "", kNotInCompetence, "33333333 або 44444444"));
  BOOST_TEST((two.kind == Kind::Forward));
  BOOST_TEST(two.competent_org_id.empty());
  BOOST_TEST(decide(rows, receipt("p-sent", 4, "", kNotInCompetence, "№ 333333331")).competent_org_id.empty());
  // Our forwarding notice names the body outright, whatever the text says.
  auto h = receipt("p-sent", 4, "", kNotInCompetence, "33333333");
  h.expansion.emplace();
  h.expansion->notice.emplace();
  h.expansion->notice->competent_org_id = "55555555";
  BOOST_TEST(decide(rows, h).competent_org_id == "55555555");
  // Another rejection code is a rejection, not a forward.
  BOOST_TEST((decide(rows, receipt("p-sent", 4, "", 31, "33333333")).kind == Kind::Apply));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(delivery)

using Outcome = adapters::DeliveryOutcome::Kind;
using Step = flows::DeliveryStep::Kind;

BOOST_AUTO_TEST_CASE(a_transient_failure_waits_in_each_retry_tier_in_turn_then_the_package_is_dead) {
  // Three tiers: attempts 1, 2 and 3 wait in tiers 0, 1 and 2; the fourth failure is the last.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto s = flows::deliveryStep(Outcome::Retry, attempt, 3);
    BOOST_TEST((s.kind == Step::Retry));
    BOOST_TEST(s.tier == static_cast<std::size_t>(attempt - 1));
  }
  BOOST_TEST((flows::deliveryStep(Outcome::Retry, 4, 3).kind == Step::Dead));
  BOOST_TEST((flows::deliveryStep(Outcome::Retry, 1, 0).kind == Step::Dead));  // no tiers: no retries
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_is_dead_at_once_and_a_delivery_is_sent_at_any_attempt) {
  BOOST_TEST((flows::deliveryStep(Outcome::Failed, 1, 3).kind == Step::Dead));
  BOOST_TEST((flows::deliveryStep(Outcome::Delivered, 1, 3).kind == Step::Sent));
  BOOST_TEST((flows::deliveryStep(Outcome::Delivered, 9, 3).kind == Step::Sent));
}

store::OutboxRow job(const std::string& id, const std::string& org, const std::string& msg_id, int priority = 0) {
  return {id, "vkhid.delivery", org, msg_id, R"({"msg_id":")" + msg_id + R"("})", "{}", priority};
}

BOOST_AUTO_TEST_CASE(a_relay_round_sends_each_participants_jobs_as_one_message_of_at_most_a_batch) {
  std::vector<store::OutboxRow> round{
      job("1", kUs, "a1"),
      job("2", kOther, "b1"),
      {"3", "vkhid.notifications", "case.answered", "n1", R"({"case":"c"})", "{}", 0},
      job("4", kUs, "a2"),
      job("5", kUs, "p1", 5),  // a priority case's: its own message, served first
      {"6", "vkhid.retry", "10s." + std::string(kUs), "a0", R"({"msg_id":"a0"})", R"({"expiration":"9000"})", 0},
      job("7", kUs, "a3"),
      job("8", kUs, "a4"),
  };
  auto sent = flows::relayPublications(round, 3);
  BOOST_REQUIRE(sent.size() == 6u);
  // Ours: the first three in one message, in order, under the first row's id; the fourth starts the next.
  BOOST_TEST(sent[0].routing_key == kUs);
  BOOST_TEST(sent[0].message_id == "a1");
  BOOST_TEST((flows::packagesOfJob(sent[0].payload) == std::vector<std::string>{"a1", "a2", "a3"}));
  BOOST_TEST((sent[0].rows == std::vector<std::size_t>{0, 3, 6}));
  BOOST_TEST((flows::packagesOfJob(sent[1].payload) == std::vector<std::string>{"b1"}));
  BOOST_TEST(sent[1].payload == round[1].payload);  // alone: as it was written
  // A notice, a priority job and a retry's job travel as written, the retry with its expiration.
  BOOST_TEST(sent[2].payload == round[2].payload);
  BOOST_TEST(sent[3].priority == 5);
  BOOST_TEST((flows::packagesOfJob(sent[3].payload) == std::vector<std::string>{"p1"}));
  BOOST_TEST(sent[4].exchange == "vkhid.retry");
  BOOST_TEST(sent[4].expiration == "9000");
  BOOST_TEST((flows::packagesOfJob(sent[5].payload) == std::vector<std::string>{"a4"}));
  // Every row carried once.
  std::size_t carried = 0;
  for (const auto& p : sent) carried += p.rows.size();
  BOOST_TEST(carried == round.size());
}

BOOST_AUTO_TEST_CASE(a_relay_round_marks_a_row_sent_unless_all_of_it_came_back_and_keeps_what_did) {
  // Migration 0040: a row holds a transaction's publications, read one after another with its place.
  std::vector<store::OutboxRow> round{
      {"(0,1)", "vkhid.notifications", "applicant.registered", "n1", "{}", "{}", 0},
      job("(0,1)", kUs, "a1"),
      {"(0,2)", "vkhid.events", "test.nowhere", "e1", "{}", "{}", 0},
      {"(0,3)", "vkhid.events", "test.part", "e2", "{}", "{}", 0},
      {"(0,3)", "vkhid.events", "test.nowhere", "e3", "{}", "{}", 0},
  };
  const auto sent = flows::relayPublications(round, 3);
  const auto r = flows::relayRound(round, sent, {"e1", "e3"});
  BOOST_TEST((r.sent == std::vector<std::string>{"(0,1)", "(0,3)"}));  // (0,2) came back whole: unsent
  BOOST_TEST((r.again == std::vector<std::size_t>{4}));                // e3 alone, e2 not again
  BOOST_TEST(r.messages == 3);
  // Nothing came back: every row sent, nothing again.
  const auto all = flows::relayRound(round, sent, {});
  BOOST_TEST(all.sent.size() == 3u);
  BOOST_TEST(all.again.empty());
}

BOOST_AUTO_TEST_CASE(a_job_names_its_packages_or_none) {
  BOOST_TEST((flows::packagesOfJob(R"({"msg_id":"x"})") == std::vector<std::string>{"x"}));
  BOOST_TEST((flows::packagesOfJob(R"({"msg_ids":["x","y"]})") == std::vector<std::string>{"x", "y"}));
  BOOST_TEST(flows::packagesOfJob(R"({"msg_ids":[1,""]})").empty());
  BOOST_TEST(flows::packagesOfJob("not json").empty());
  BOOST_TEST(flows::packagesOfJob(R"({"case_id":"c"})").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(due_timers)

store::DueTimerRow timer(const std::string& kind, const std::string& status, const std::string& with = kUs) {
  store::DueTimerRow t;
  t.id = "1";
  t.case_id = "c-1";
  t.kind = kind;
  t.case_status = status;
  t.participant_org_id = with;
  if (kind == "delivery_receipt" || kind == "registration") {
    t.msg_id = "p-1";
    t.sent_to = kUs;
  }
  return t;
}

BOOST_AUTO_TEST_CASE(a_transport_timer_fires_only_while_its_package_waits_with_the_same_participant) {
  BOOST_TEST(!flows::timerIsMoot(timer("delivery_receipt", "sent"), false));
  BOOST_TEST(!flows::timerIsMoot(timer("registration", "delivered"), false));
  BOOST_TEST(flows::timerIsMoot(timer("delivery_receipt", "sent"), true));       // the receipt came
  BOOST_TEST(flows::timerIsMoot(timer("registration", "sent", kOther), false));  // forwarded since
  BOOST_TEST(flows::timerIsMoot(timer("registration", "sent", ""), false));      // with no participant now
  BOOST_TEST(flows::timerIsMoot(timer("delivery_receipt", "answered"), false));  // answered meanwhile
}

BOOST_AUTO_TEST_CASE(an_answer_term_timer_fires_until_the_answer_is_in_whoever_has_the_case) {
  for (const char* kind : {"warning_3wd", "warning_1d", "overdue"}) {
    BOOST_TEST(!flows::timerIsMoot(timer(kind, "registered_by_participant"), false));
    BOOST_TEST(!flows::timerIsMoot(timer(kind, "forwarded", kOther), false));
    BOOST_TEST(!flows::timerIsMoot(timer(kind, "delivery_failed", ""), false));
    for (const char* settled : {"answered", "closed", "withdrawn", "not_considered", "merged"}) {
      BOOST_TEST(flows::timerIsMoot(timer(kind, settled), false));
    }
  }
}

// A package's registration watch (flows::registrationWatchCutoff): a package queued on a day is due by the
// end of the next working day, and the watch takes every package queued before the instant it names.
BOOST_AUTO_TEST_CASE(a_registration_watch_takes_the_packages_whose_next_working_day_has_ended) {
  static const flows::LegalClock clock = flows::LegalClock::load(app::DeadlineSettings{}).value();
  const auto& calendar = clock.calendar();
  auto at = [](const char* iso) { return *domain::parseInstant(iso); };
  auto cutoff = [&](const char* now) { return flows::registrationWatchCutoff(calendar, at(now)); };
  // Queued on Friday 6 March 2026: due by the end of Monday. Late Monday the watch has taken Thursday's.
  BOOST_TEST(domain::formatKyiv(cutoff("2026-03-09T23:00:00+02:00")) ==
             domain::formatKyiv(at("2026-03-06T00:00:00+02:00")));
  // A second after Monday ends: Friday's, Saturday's and Sunday's too, not Monday's.
  BOOST_TEST(domain::formatKyiv(cutoff("2026-03-10T00:00:01+02:00")) ==
             domain::formatKyiv(at("2026-03-09T00:00:00+02:00")));
  // On Saturday: Thursday's were due at the end of Friday; Friday's wait for Monday.
  BOOST_TEST(domain::formatKyiv(cutoff("2026-03-07T12:00:00+02:00")) ==
             domain::formatKyiv(at("2026-03-06T00:00:00+02:00")));
  // And by the definition, across three weeks with a change of clocks (29 March): a package queued at
  // any hour is taken exactly when its deadline has passed.
  const domain::Instant first = at("2026-03-16T00:30:00+02:00");
  for (int now_h = 0; now_h < 21 * 24; now_h += 5) {
    const domain::Instant now = first + std::chrono::hours(now_h);
    const domain::Instant before = flows::registrationWatchCutoff(calendar, now);
    for (int q = -240; q <= now_h; q += 7) {
      const domain::Instant queued = first + std::chrono::hours(q);
      const bool due = domain::kyivEndOfDay(calendar.nthWorkingDayAfter(domain::kyivDate(queued), 1)) <= now;
      BOOST_TEST((queued < before) == due,
                 "queued " << domain::formatKyiv(queued) << ", now " << domain::formatKyiv(now));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(notices)

using std::chrono::hours;

// The shipped calendar and rules (config/deadlines.toml), as a gateway runs with by default.
const flows::LegalClock& legalClock() {
  static const flows::LegalClock c = flows::LegalClock::load(app::DeadlineSettings{}).value();
  return c;
}

// Received on a Monday morning in Kyiv; its term in force by its kind's rule.
store::CaseTermRow term(const std::string& kind, CaseStatus status = CaseStatus::RegisteredByParticipant) {
  const domain::Instant from = *domain::parseInstant("2026-03-02T10:00:00+02:00");
  const auto due = legalClock().due(kind, from);
  BOOST_REQUIRE(due.has_value());
  return {kind, status, "T", from.time_since_epoch().count(), due->at.time_since_epoch().count()};
}

domain::Instant received(const store::CaseTermRow& c) {
  return domain::Instant{std::chrono::seconds(c.clock_from_epoch)};
}
domain::Instant inForce(const store::CaseTermRow& c) { return domain::Instant{std::chrono::seconds(c.due_epoch)}; }
domain::Instant cap(const std::string& kind, const store::CaseTermRow& c) {
  return legalClock().due(kind, received(c))->at;
}

BOOST_AUTO_TEST_CASE(an_appeal_is_extended_up_to_45_days_from_receipt_and_never_shortened) {
  const auto c = term("appeal");
  const auto soon = received(c) + hours(1);
  const auto within = flows::judgeExtension(legalClock(), c, cap("appeal_extended", c) - hours(1), soon);
  BOOST_TEST((within.kind == flows::ExtensionVerdict::Kind::Extend));
  BOOST_TEST(within.cap_kind == "appeal_extended");
  BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, cap("appeal_extended", c) + hours(24), soon)) == 133);
  BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, inForce(c) - hours(1), soon)) == 135);
  BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, inForce(c), soon)) == 135);
}

BOOST_AUTO_TEST_CASE(an_information_request_is_extended_only_on_a_notice_within_5_working_days) {
  const auto c = term("info_request");
  const auto window = cap("info_request_extension_notice", c);
  const auto new_due = cap("info_request_extended", c) - hours(1);
  const auto in_time = flows::judgeExtension(legalClock(), c, new_due, window - hours(1));
  BOOST_TEST((in_time.kind == flows::ExtensionVerdict::Kind::Extend));
  BOOST_TEST(in_time.cap_kind == "info_request_extended");
  BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, new_due, window + hours(1))) == 134);
}

BOOST_AUTO_TEST_CASE(a_violence_report_is_never_extended) {
  const auto c = term("violence_report");
  BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, inForce(c) + hours(24), received(c) + hours(1))) ==
             135);
}

BOOST_AUTO_TEST_CASE(a_lawful_notice_after_the_answer_moves_nothing_and_an_unlawful_one_is_still_refused) {
  for (auto settled : {CaseStatus::Answered, CaseStatus::Closed}) {
    const auto c = term("appeal", settled);
    const auto late = received(c) + hours(48);
    BOOST_TEST((flows::judgeExtension(legalClock(), c, cap("appeal_extended", c) - hours(1), late).kind ==
                flows::ExtensionVerdict::Kind::AfterAnswer));
    BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, cap("appeal_extended", c) + hours(24), late)) == 133);
    BOOST_TEST(refusedWith(flows::judgeExtension(legalClock(), c, inForce(c) - hours(1), late)) == 135);
  }
}

// A participant's cases and the packages received before, as rows in memory.
class InMemoryInbound final : public store::InboundRows {
 public:
  std::map<std::string, store::ParticipantCaseRow> cases;  // by id, all handed to kUs
  std::map<std::string, std::string> digests;              // by msg_id
  int lookups = 0;

  Result<std::optional<store::ParticipantCaseRow>> lockCase(const std::string& case_id,
                                                            const std::string& participant_org_id) override {
    auto c = cases.find(case_id);
    if (c == cases.end() || participant_org_id != kUs) return std::optional<store::ParticipantCaseRow>{};
    return std::optional<store::ParticipantCaseRow>{c->second};
  }
  Result<std::optional<std::string>> earlierDigest(const std::string& msg_id) override {
    ++lookups;
    auto d = digests.find(msg_id);
    if (d == digests.end()) return std::optional<std::string>{};
    return std::optional<std::string>{d->second};
  }
  Result<std::optional<store::OurMessageRow>> ourMessage(const std::string&, const std::string&) override {
    return std::optional<store::OurMessageRow>{};  // a notice names its case, not a package of ours
  }
  Result<std::optional<store::ReceiptCaseRow>> lockReceiptCase(const std::string&) override {
    return std::optional<store::ReceiptCaseRow>{};  // notices only: no receipt reads a case here
  }
  Result<std::optional<store::ParticipantCaseRow>> lockReplyCase(const std::string&, const std::string&) override {
    return std::optional<store::ParticipantCaseRow>{};  // nor a reply
  }
};

sev::NoticeExpansion notice(const std::string& kind, const std::string& case_id) {
  sev::NoticeExpansion n;
  n.kind = kind;
  n.case_id = case_id;
  if (kind == "extension") n.new_due = "2026-04-10T18:00:00+03:00";
  if (kind == "forwarding") n.competent_org_id = kOther;
  return n;
}

BOOST_AUTO_TEST_CASE(a_notice_for_a_case_the_participant_does_not_hold_is_refused) {
  InMemoryInbound rows;
  rows.cases = {{"c-1", {"c-1", CaseStatus::RegisteredByParticipant, "T", false, {}}}};
  const int mismatch = static_cast<int>(sev::SevError::ReferenceMismatch);
  BOOST_TEST(refusedWith(*flows::decideNotice(rows, kUs, notice("extension", "c-9"))) == mismatch);
  BOOST_TEST(refusedWith(*flows::decideNotice(rows, kOther, notice("forwarding", "c-1"))) == mismatch);
}

BOOST_AUTO_TEST_CASE(a_forward_moves_a_case_still_to_answer_and_never_an_answered_one) {
  InMemoryInbound rows;
  rows.cases = {{"c-open", {"c-open", CaseStatus::RegisteredByParticipant, "T", false, {}}},
                {"c-answered", {"c-answered", CaseStatus::Answered, "T", true, {}}},
                {"c-closed", {"c-closed", CaseStatus::Closed, "T", true, {}}}};
  auto open = flows::decideNotice(rows, kUs, notice("forwarding", "c-open"));
  BOOST_REQUIRE(open.ok());
  BOOST_TEST((open->kind == flows::NoticeDecision::Kind::Forward));
  BOOST_TEST(open->competent_org_id == kOther);
  BOOST_TEST((open->from == CaseStatus::RegisteredByParticipant));
  const int mismatch = static_cast<int>(sev::SevError::ReferenceMismatch);
  BOOST_TEST(refusedWith(*flows::decideNotice(rows, kUs, notice("forwarding", "c-answered"))) == mismatch);
  BOOST_TEST(refusedWith(*flows::decideNotice(rows, kUs, notice("forwarding", "c-closed"))) == mismatch);
}

BOOST_AUTO_TEST_CASE(an_extension_needs_a_date_and_is_then_judged_against_the_cap) {
  InMemoryInbound rows;
  rows.cases = {{"c-1", {"c-1", CaseStatus::RegisteredByParticipant, "T", false, {}}}};
  auto n = notice("extension", "c-1");
  auto d = flows::decideNotice(rows, kUs, n);
  BOOST_REQUIRE(d.ok());
  BOOST_TEST((d->kind == flows::NoticeDecision::Kind::Extend));
  BOOST_TEST((d->new_due == *domain::parseInstant("2026-04-10T18:00:00+03:00")));
  for (const char* bad : {"", "next month", "2026-13-01T00:00:00Z"}) {
    n.new_due = bad;
    BOOST_TEST(refusedWith(*flows::decideNotice(rows, kUs, n)) == static_cast<int>(sev::SevError::BadAttribute), bad);
  }
  n.new_due.reset();
  BOOST_TEST(refusedWith(*flows::decideNotice(rows, kUs, n)) == static_cast<int>(sev::SevError::BadAttribute));
}

BOOST_AUTO_TEST_CASE(a_package_seen_before_is_a_duplicate_with_its_bytes_and_a_conflict_with_others) {
  InMemoryInbound rows;
  const std::string id = "0b7c8f3e-2f8a-4c1d-9e4b-5a6f7d8e9f01";
  rows.digests = {{id, "sha-a"}};
  BOOST_TEST((*flows::decideRepeat(rows, id, "sha-a") == flows::Repeat::SameBytes));
  BOOST_TEST((*flows::decideRepeat(rows, id, "sha-b") == flows::Repeat::OtherBytes));
  BOOST_TEST((*flows::decideRepeat(rows, "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "sha-a") == flows::Repeat::None));
  const int looked_up = rows.lookups;
  // A msg_id that is no UUID is never looked up: the package is refused for it afterwards.
  BOOST_TEST((*flows::decideRepeat(rows, "not-a-uuid", "sha-a") == flows::Repeat::None));
  BOOST_TEST(rows.lookups == looked_up);
}

BOOST_AUTO_TEST_SUITE_END()
