#include "gateway/flows/conformance.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "gateway/crypto/package.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// One test appeal of the run: its case (channel `conformance`) and the package that carries it.
struct TestAppeal {
  domain::Case kase;
  std::string msg_id, bytes;
};

// A case of the channel `conformance`, as the participant would get any appeal; routed to it already
// (the run delivers it itself), with its answer deadline planned like any other.
Result<TestAppeal> makeTestAppeal(ExchangeContext& ctx, store::PgConnection& db, const std::string& org_id,
                                  const sev::EnvelopeParty& to, const std::string& label) {
  TestAppeal t;
  t.kase.id = newUuid();
  t.kase.ucc_number = "ПЕРЕВІРКА-" + t.kase.id.substr(0, 8);
  t.kase.registered_on = formatIsoUtc(std::time(nullptr)).substr(0, 10);
  t.kase.applicant.anonymous = true;
  t.kase.consent = {false, true};
  t.kase.classification.topic = "024";
  t.kase.text = "Тестове звернення перевірки сумісності СЕД з обміном УКЦ (" + label +
                "). Зареєструйте його та надайте відповідь, як на будь-яке інше.";
  t.kase.attachments.push_back({"перевірка.txt", "text/plain", "Вкладення тестового звернення."});
  t.kase.channel = "conformance";
  t.kase.received_at = formatIsoUtc(std::time(nullptr));
  t.kase.addressee_org_id = org_id;
  t.msg_id = newUuid();
  Status made = store::inTransaction(db, [&]() -> Status {
    if (auto s = store::insertConformanceCase(db, t.kase.id, t.kase.ucc_number, "CONF-" + t.kase.id.substr(0, 14),
                                              org_id, caseToJson(t.kase));
        !s) {
      return s;
    }
    if (auto s = recordEvent(db, t.kase.id, "conformance", "registered", "received", "routed",
                             json::serialize(json::object{{"label", label}, {"participant", org_id}}));
        !s) {
      return s;
    }
    return planAnswerDeadline(db, ctx.legal, t.kase.id, "appeal", ctx.legal.now(), "conformance", "registered");
  });
  if (!made) return made.error();
  sev::Envelope env{ctx.ucc, to, t.msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildAppealPackage(t.kase, env);
  if (auto s = crypto::signAttachments(header, ctx.signer); !s) return s.error();
  auto bytes = crypto::sealedPackage(header, ctx.signer);
  if (!bytes) return bytes.error();
  t.bytes = std::move(bytes).value();
  return t;
}

// The package with one byte of its first attachment changed after it was signed and sealed: what a
// damaged or forged transfer looks like to the EDMS.
std::string tampered(const std::string& bytes) {
  std::string out = bytes;
  auto at = out.find("<DocTransfer");
  if (at != std::string::npos) at = out.find('>', at);
  if (at != std::string::npos && at + 8 < out.size()) out[at + 5] = out[at + 5] == 'A' ? 'B' : 'A';
  return out;
}

// Polls until `done` says the answer is in, or the timeout passes.
template <class Done>
Result<bool> waitUntil(std::chrono::seconds timeout, Done&& done) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto d = done();
    if (!d) return d.error();
    if (*d) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// One conformance run against a participant's EDMS: each step of the exchange profile in turn, recorded
// in the report; a step that stops the run ends it with the test cases' timers cancelled.
class ConformanceRun {
 public:
  ConformanceRun(ExchangeContext& ctx, store::PgConnection& db, std::string org_id, ParticipantEndpoint target,
                 const ConformanceOptions& o)
      : ctx_(ctx), db_(db), org_id_(std::move(org_id)), target_(std::move(target)), o_(o) {
    report_.passed_text = "conformance passed: the EDMS follows the exchange profile";
    report_.failed_text = "conformance FAILED";
  }

  Result<CheckReport> run() {
    // 1. An appeal it must register: receipts 1, 2 and 3 (with its number), each sealed by it.
    auto a = makeTestAppeal(ctx_, db_, org_id_, target_.party, "A");
    if (!a) return a.error();
    auto registered = appealRegistered(*a);
    if (!registered) return registered.error();
    if (!*registered) return finish({a->kase.id});
    // 2. The same package again (same msg_id): it must not register it twice.
    if (auto s = duplicateNotRegisteredTwice(*a); !s) return s.error();
    // 3. A package changed after it was signed: refused with a receipt 4, never registered.
    auto b = makeTestAppeal(ctx_, db_, org_id_, target_.party, "B");
    if (!b) return b.error();
    if (auto s = tamperedRefused(*b); !s) return s.error();
    // 4. The answer: a reply to A, sealed and its attachments signed, that closes the case.
    if (auto s = answerSigned(*a); !s) return s.error();
    // 5, 6. What it may send: an extension notice, a forward.
    if (auto s = optionalNotices(*a, *b); !s) return s.error();
    return finish({a->kase.id, b->kase.id});
  }

 private:
  bool step(std::string name, std::string result, std::string detail, Clock::time_point t0) {
    report_.steps.push_back({std::move(name), std::move(result), std::move(detail), msSince(t0)});
    return report_.steps.back().result != "failed";
  }

  Status deliver(const TestAppeal& t, const std::string& bytes, bool record) {
    if (record) {
      if (auto s = store::recordTestPackage(db_, t.msg_id, t.kase.id, org_id_, bytes); !s) return s;
    }
    auto outcome = target_.adapter->deliver(bytes, t.msg_id, target_.endpoint);
    if (outcome.kind != adapters::DeliveryOutcome::Kind::Delivered) {
      return Error::unavailable("conformance.delivery",
                                "not taken by the " + target_.endpoint.adapter + " endpoint: " + outcome.detail);
    }
    return store::settleTestPackage(db_, t.msg_id, true, "");
  }

  Result<CheckReport> finish(const std::vector<std::string>& case_ids) {
    // The test cases' timers never fire: nothing escalates about a conformance run.
    for (const auto& id : case_ids) (void)cancelTimersOfSettledCase(db_, id);
    report_.passed = std::none_of(report_.steps.begin(), report_.steps.end(),
                                  [](const CheckStep& s) { return s.result == "failed"; });
    return report_;
  }

  // False when the run cannot go on (the appeal was not registered).
  Result<bool> appealRegistered(const TestAppeal& a) {
    auto t0 = Clock::now();
    if (auto s = deliver(a, a.bytes, true); !s) return step("appeal_registered", "failed", s.error().message, t0);
    std::vector<store::InboundRow> got;
    auto registered = waitUntil(o_.receipt_timeout, [&]() -> Result<bool> {
      auto r = store::messagesReferringTo(db_, a.msg_id);
      if (!r) return r.error();
      got = std::move(r).value();
      return std::any_of(got.begin(), got.end(),
                         [](const store::InboundRow& i) { return i.ack_type == 3 || i.ack_type == 4; });
    });
    if (!registered) return registered.error();
    std::string problem;
    std::set<int> acks;
    for (const auto& i : got) {
      if (i.status == "rejected") {
        problem = "its receipt was refused with code " + std::to_string(i.error_code) + ": " + i.last_error;
      }
      if (i.ack_type == 4) problem = "rejected the appeal (receipt 4, code " + std::to_string(i.error_code) + ")";
      if (i.ack_type == 3 && i.status == "applied") number_ = i.reg_number;
      acks.insert(i.ack_type);
    }
    if (problem.empty() && number_.empty()) {
      problem = "no registration receipt (3) within " + std::to_string(o_.receipt_timeout.count()) + " s";
    }
    if (problem.empty() && !acks.count(1)) problem = "registered, but sent no delivery receipt (1)";
    return step("appeal_registered", problem.empty() ? "ok" : "failed",
                problem.empty() ? "receipts 1" + std::string(acks.count(2) ? ", 2" : "") +
                                      " and 3, sealed; registered as " + number_
                                : problem,
                t0);
  }

  Status duplicateNotRegisteredTwice(const TestAppeal& a) {
    auto t0 = Clock::now();
    if (auto s = deliver(a, a.bytes, false); !s) {
      step("duplicate_not_registered_twice", "failed", s.error().message, t0);
      return {};
    }
    std::this_thread::sleep_for(o_.settle);
    auto twice = store::countCaseEvents(db_, a.kase.id, "receipt_conflict");
    if (!twice) return twice.error();
    step("duplicate_not_registered_twice", *twice == 0 ? "ok" : "failed",
         *twice == 0 ? "the repeat kept number " + number_
                     : "registered the repeat again under another number (the same msg_id must be de-duplicated)",
         t0);
    return {};
  }

  Status tamperedRefused(const TestAppeal& b) {
    auto t0 = Clock::now();
    if (auto s = deliver(b, tampered(b.bytes), true); !s) {
      step("tampered_refused", "failed", s.error().message, t0);
      return {};
    }
    std::vector<store::InboundRow> on_b;
    auto answered = waitUntil(o_.receipt_timeout, [&]() -> Result<bool> {
      auto r = store::messagesReferringTo(db_, b.msg_id);
      if (!r) return r.error();
      on_b = std::move(r).value();
      return std::any_of(on_b.begin(), on_b.end(), [](const store::InboundRow& i) { return i.ack_type >= 3; });
    });
    if (!answered) return answered.error();
    bool refused = std::any_of(on_b.begin(), on_b.end(), [](const store::InboundRow& i) { return i.ack_type == 4; });
    bool took = std::any_of(on_b.begin(), on_b.end(), [](const store::InboundRow& i) { return i.ack_type == 3; });
    step("tampered_refused", refused && !took ? "ok" : "failed",
         took      ? "registered a package whose signatures do not verify"
         : refused ? "refused with a receipt 4"
                   : "no receipt 4 within " + std::to_string(o_.receipt_timeout.count()) + " s",
         t0);
    return {};
  }

  Status answerSigned(const TestAppeal& a) {
    auto t0 = Clock::now();
    std::string problem;
    auto closed = waitUntil(o_.answer_timeout, [&]() -> Result<bool> {
      auto refused = store::replyRefusedSince(db_, org_id_, a.kase.id);
      if (!refused) return refused.error();
      if (*refused != 0) {
        problem = "its reply was refused with code " + std::to_string(*refused) + " (docs/sev-errors.md)";
        return true;
      }
      auto term = store::readCaseTerm(db_, a.kase.id);
      if (!term) return term.error();
      return *term && (*term)->status == domain::CaseStatus::Closed;
    });
    if (!closed) return closed.error();
    if (problem.empty() && !*closed) problem = "no answer within " + std::to_string(o_.answer_timeout.count()) + " s";
    step("answer_signed", problem.empty() ? "ok" : "failed",
         problem.empty() ? "a reply sealed and signed, referring to " + a.kase.ucc_number + "; the case closed"
                         : problem,
         t0);
    return {};
  }

  Status optionalNotices(const TestAppeal& a, const TestAppeal& b) {
    auto t0 = Clock::now();
    long long extended = 0, forwarded = 0;
    for (const auto* t : {&a, &b}) {
      for (const char* event : {"extended", "extension_after_answer", "forwarded"}) {
        auto n = store::countCaseEvents(db_, t->kase.id, event);
        if (!n) return n.error();
        (std::string_view(event) == "forwarded" ? forwarded : extended) += *n;
      }
    }
    auto refused = store::extensionRefusedLately(db_, org_id_);
    if (!refused) return refused.error();
    if (*refused != 0) {
      step("extension", "failed", "an extension notice refused with code " + std::to_string(*refused), t0);
    } else {
      step("extension", extended > 0 ? "ok" : "skipped",
           extended > 0 ? "an extension notice within the legal cap" : "none sent (optional)", t0);
    }
    step("forward", forwarded > 0 ? "ok" : "skipped",
         forwarded > 0 ? "a not-in-competence forward, naming the competent body" : "none sent (optional)",
         Clock::now());
    return {};
  }

  ExchangeContext& ctx_;
  store::PgConnection& db_;
  std::string org_id_;
  ParticipantEndpoint target_;
  const ConformanceOptions& o_;
  CheckReport report_;
  std::string number_;  // the registration number the EDMS gave appeal A
};

}  // namespace

Result<CheckReport> runConformance(ExchangeContext& ctx, const std::string& org_id, const ConformanceOptions& o) {
  auto db = ctx.pool.acquire();
  if (!db) return db.error();
  auto target = participantEndpoint(ctx, **db, org_id);
  if (!target) return target.error();
  return ConformanceRun(ctx, **db, org_id, std::move(target).value(), o).run();
}

}  // namespace vkhid::flows
