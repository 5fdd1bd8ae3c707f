// `vkhid case show ID|NUMBER|TRACKING-CODE`: one case in the terminal, in words — its status, who has it
// and under which number, its deadline, its timeline, the packages exchanged with their receipts, and
// its timers. `--json` prints what the console's case page reads.
#include "gateway/cli/case_show.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <map>

#include "gateway/flows/case_access.hpp"
#include "gateway/flows/console.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::cli {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

// "2026-12-02T06:01:02.345678+00:00" -> "2026-12-02 06:01:02Z"
std::string when(const std::string& at) {
  if (at.size() < 19) return at;
  return at.substr(0, 10) + " " + at.substr(11, 8) + (at.ends_with("+00:00") ? "Z" : "");
}

std::string codeWords(long long code) {
  const auto& info = sev::sevErrorInfo(static_cast<sev::SevError>(code));
  if (info.code == sev::SevError::None && code != 0) return "code " + std::to_string(code);
  return "code " + std::to_string(code) + ": " + info.message;
}

// What an event means, in words an operator reads without the docs.
std::string eventWords(const std::string& event, const json::object& d) {
  static const std::map<std::string, std::string> words = {
      {"registered", "registered by the UCC"},
      {"deadline_set", "legal deadline set"},
      {"routed", "packaged, signed and sealed for the participant"},
      {"unrouted", "no routing rule placed it: waits for a person in the review queue"},
      {"delivered_to_transport", "handed to the participant's EDMS"},
      {"receipt_1", "participant: delivered"},
      {"receipt_2", "participant: accepted"},
      {"receipt_3", "participant: registered under its own number"},
      {"receipt_4", "participant: rejected"},
      {"late_receipt", "a late receipt: recorded, the case unchanged"},
      {"receipt_conflict", "a receipt that would change what is recorded: kept, alerted, not applied"},
      {"further_reply", "a further reply after the case was answered: kept as a document of the case, for review"},
      {"forwarded", "participant: not in its competence; sent on to the competent body"},
      {"extended", "deadline extended by the participant"},
      {"extension_after_answer",
       "participant: an extension within the legal cap, come after its answer; the term stands"},
      {"answered", "participant's signed answer received"},
      {"closed", "case closed"},
      {"resent", "UCC administrator: corrected and sent again"},
      {"rerouted", "UCC administrator: sent to another participant"},
      {"review_requested", "marked for a person's review"},
      {"delivery_failed", "could not be delivered: every retry used"},
      {"delivery_replayed", "UCC administrator: the dead delivery sent again"},
      {"received_from_participant", "came in from a participant's own contact centre"},
      {"timer_delivery_receipt", "no delivery receipt in time: escalated"},
      {"timer_registration", "no registration receipt in time: escalated"},
      {"timer_warning_3wd", "deadline in 3 working days: warned"},
      {"timer_warning_1d", "deadline in a day: warned"},
      {"timer_overdue", "deadline passed: overdue"},
  };
  auto it = words.find(event);
  std::string out = it != words.end() ? it->second : event;
  std::string extra;
  if (auto n = str(d, "participant_reg_number"); !n.empty()) extra = n;
  if (const auto* term = d.if_contains("deadline"); event == "registered" && term && term->is_object()) {
    extra = "answer due " + str(term->as_object(), "due") + ", " + str(term->as_object(), "kind");
  }
  if (const auto* c = d.if_contains("error_code"); c && c->is_int64()) extra = codeWords(c->as_int64());
  if (event == "routed" || event == "delivered_to_transport") {
    if (auto to = str(d, "participant"); !to.empty()) extra = "to " + to;
    if (auto a = str(d, "adapter"); !a.empty()) extra += (extra.empty() ? "" : ", ") + ("through " + a);
  }
  if (event == "forwarded") {
    if (auto to = str(d, "competent_org_id"); !to.empty()) extra = "to " + to;
    if (str(d, "to") == "review") extra += (extra.empty() ? "" : ", ") + std::string("to the UCC review queue");
  }
  if (auto due = str(d, "due"); !due.empty())
    extra = "answer due " + due + (d.contains("kind") ? ", " + str(d, "kind") : "");
  if (event == "resent" || event == "rerouted") extra = str(d, "reason");
  if (event == "review_requested") extra = str(d, "note");
  if (event == "receipt_conflict") extra = str(d, "conflict");
  return extra.empty() ? out : out + " (" + extra + ")";
}

std::string packageWords(const json::object& m) {
  static const std::map<std::string, std::string> ack = {{"1", "receipt: delivered"},
                                                         {"2", "receipt: accepted"},
                                                         {"3", "receipt: registered"},
                                                         {"4", "receipt: rejected"}};
  static const std::map<std::string, std::string> type = {
      {"1", "appeal package"}, {"2", "additions"}, {"3", "answer"}, {"4", "additions to the answer"}};
  std::string msg_type = str(m, "msg_type"), ack_type = str(m, "ack_type");
  if (msg_type == "0") return ack.count(ack_type) ? ack.at(ack_type) : "notice";
  return type.count(msg_type) ? type.at(msg_type) : "msg_type " + msg_type;
}

void printCase(const json::object& all) {
  const auto& c = all.at("case").as_object();
  std::printf("Case %s (%s), %s%s — status %s\n", str(c, "ucc_number").c_str(), str(c, "id").c_str(),
              str(c, "kind").c_str(), c.at("restricted").as_bool() ? ", restricted" : "", str(c, "status").c_str());
  std::printf("  tracking code   %s\n", str(c, "tracking_code").c_str());
  std::printf("  channel         %s, received %s\n", str(c, "channel").c_str(), when(str(c, "received_at")).c_str());
  if (auto p = str(c, "participant"); !p.empty()) {
    std::printf("  participant     %s %s\n", p.c_str(), str(c, "participant_name").c_str());
  } else {
    std::printf("  participant     none now\n");
  }
  if (auto n = str(c, "participant_reg_number"); !n.empty()) {
    std::printf("  its number      %s of %s\n", n.c_str(), str(c, "participant_reg_date").c_str());
  } else {
    std::printf("  its number      none: the participant sent no registration receipt (3)\n");
  }
  if (auto due = str(c, "due_at"); !due.empty()) {
    std::printf("  answer due      %s (%s)%s%s\n", when(due).c_str(), str(c, "due_kind").c_str(),
                str(c, "extended_at").empty() ? "" : ", extended", c.at("overdue").as_bool() ? ", OVERDUE" : "");
  }
  if (auto code = str(c, "rejection_code"); !code.empty()) {
    std::printf("  rejection       %s — %s\n", codeWords(std::stoll(code)).c_str(), str(c, "rejection_text").c_str());
  }
  if (auto note = str(c, "review_note"); !note.empty()) std::printf("  for review      %s\n", note.c_str());

  std::printf("Timeline\n");
  for (const auto& e : all.at("events").as_array()) {
    const auto& o = e.as_object();
    const auto* d = o.if_contains("detail");
    static const json::object none;
    std::printf("  %s  %-22s %s\n", when(str(o, "at")).c_str(), str(o, "actor").c_str(),
                eventWords(str(o, "event"), d && d->is_object() ? d->as_object() : none).c_str());
  }
  std::printf("Packages\n");
  for (const auto& p : all.at("packages").as_array()) {
    const auto& m = p.as_object();
    std::string extra;
    if (auto code = str(m, "error_code"); !code.empty()) extra += ", " + codeWords(std::stoll(code));
    if (auto seal = str(m, "seal_verdict"); !seal.empty()) extra += ", seal " + seal;
    if (auto err = str(m, "last_error"); !err.empty() && str(m, "error_code").empty()) extra += ", last error: " + err;
    std::printf("  %s  %-3s %-8s %-24s %s (%s)%s\n", when(str(m, "created_at")).c_str(), str(m, "direction").c_str(),
                str(m, "peer_org_id").c_str(), packageWords(m).c_str(), str(m, "msg_id").c_str(),
                str(m, "status").c_str(), extra.c_str());
    // Each file's signature, as it was judged when the package arrived.
    if (const auto* sigs = m.if_contains("signatures"); sigs && sigs->is_array()) {
      for (const auto& v : sigs->as_array()) {
        if (!v.is_object()) continue;
        const auto& o = v.as_object();
        std::string line = "file " + str(o, "idnumber") + ": " + str(o, "state");
        for (const char* k : {"signer", "provider", "key"}) {
          if (auto x = str(o, k); !x.empty()) line += ", " + x;
        }
        if (auto j = str(o, "judged_at"); !j.empty()) line += "; judged at " + j + " (" + str(o, "judged_by") + ")";
        std::printf("        %s\n", line.c_str());
      }
    }
  }
  const auto& timers = all.at("timers").as_array();
  if (!timers.empty()) std::printf("Timers\n");
  for (const auto& t : timers) {
    const auto& o = t.as_object();
    std::string state = !str(o, "cancelled_at").empty() ? "cancelled"
                        : !str(o, "fired_at").empty()   ? "fired: " + str(o, "outcome")
                                                        : "waiting";
    std::printf("  %s  %-24s %s\n", when(str(o, "fire_at")).c_str(), str(o, "kind").c_str(), state.c_str());
  }
}

}  // namespace

int caseShow(store::PgConnection& db, const std::string& which, bool as_json, const std::string& reason) {
  // By id, UCC number or tracking code, exactly.
  auto found = db.exec(
      "SELECT id::text, restricted, vkhid_audit_actor() FROM cases WHERE id = vkhid_uuid($1) OR ucc_number = $1 OR "
      "tracking_code = $1 LIMIT 2",
      {which});
  if (!found) {
    std::fprintf(stderr, "vkhid case show: %s\n", found.error().message.c_str());
    return 1;
  }
  if (found->rows() != 1) {
    std::fprintf(stderr, "vkhid case show: no case with the id, UCC number or tracking code '%s'\n", which.c_str());
    return 1;
  }
  // The operator at the CLI holds the database's credentials: restricted cases are shown, with a reason,
  // and every read is recorded (issue 29).
  const flows::CaseRead read{std::string(found->get(0, 2)), std::string(found->get(0, 0)), "cli",
                             found->get(0, 1) == "t", reason};
  if (auto s = flows::checkReadReason(read); !s) {
    std::fprintf(stderr, "vkhid case show: --%s\n", s.error().message.c_str());
    return 1;
  }
  auto text = flows::showCase(db, read.case_id, true);
  if (text) {
    if (auto s = flows::recordCaseRead(db, read); !s) text = s.error();
  }
  if (!text) {
    std::fprintf(stderr, "vkhid case show: %s\n", text.error().message.c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s\n", text->c_str());
    return 0;
  }
  printCase(json::parse(*text).as_object());
  return 0;
}

}  // namespace vkhid::cli
