#include "gateway/cli/deadline_command.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "gateway/app/legal_config.hpp"

namespace vkhid::cli {
namespace {

struct DeadlineOptions {
  std::string kind, received, calendar, rules, martial_law;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "vkhid deadline: %s\n", what.c_str());
  return 2;
}

int runDeadline(const DeadlineOptions& o) {
  auto rules = app::loadDeadlineRules(o.rules);
  if (!rules) return fail(rules.error().message);
  const domain::DeadlineRule* rule = rules->find(o.kind);
  if (rule == nullptr) {
    std::string kinds;
    for (const auto& [k, r] : rules->by_kind) kinds += (kinds.empty() ? "" : ", ") + k;
    return fail("--kind: unknown kind '" + o.kind + "'; expected one of " + kinds);
  }
  auto received = domain::parseInstant(o.received);
  if (!received) {
    return fail("--received: expected an ISO 8601 date or date-time (e.g. 2026-01-31T10:00:00+02:00), not '" +
                o.received + "'");
  }
  std::optional<bool> martial;
  if (o.martial_law == "on") martial = true;
  if (o.martial_law == "off") martial = false;
  if (!o.martial_law.empty() && !martial) return fail("--martial-law: expected on or off");
  auto data = app::loadCalendar(o.calendar);
  if (!data) return fail(data.error().message);
  domain::Calendar calendar(std::move(data).value(), martial);
  auto due = domain::computeDue(*rule, *received, calendar, rules->policy);
  boost::json::object out{{"kind", o.kind},
                          {"received", o.received},
                          {"due", domain::formatKyiv(due.at)},
                          {"due_date", domain::formatDate(due.date)},
                          {"rule", rule->citation}};
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return 0;
}

}  // namespace

void addDeadlineCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DeadlineOptions>();
  auto* cmd = app.add_subcommand("deadline", "Compute a legal deadline (config/deadlines.toml, config/calendars/)");
  cmd->add_option("--kind", o->kind, "appeal, appeal_simple, info_request, info_request_urgent, …")->required();
  cmd->add_option("--received", o->received, "when it was received: ISO 8601 (no zone = Kyiv time)")->required();
  cmd->add_option("--calendar", o->calendar, "calendar TOML (default: the shipped config/calendars/ua.toml)");
  cmd->add_option("--rules", o->rules, "deadline rules TOML (default: the shipped config/deadlines.toml)");
  cmd->add_option("--martial-law", o->martial_law, "on or off: overrides the calendar's dated switch");
  cmd->callback([o, &exit_code] { exit_code = runDeadline(*o); });
}

}  // namespace vkhid::cli
