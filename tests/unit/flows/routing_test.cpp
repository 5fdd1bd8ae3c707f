// The routing decision against participants and rules held in memory: no database, the same code the
// Router runs against PostgreSQL (store::PgRouteRepository, exercised by the exchange tests).
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "gateway/flows/routing.hpp"

using namespace vkhid;

namespace {

struct Participant {
  std::string org_id, status;
  std::vector<std::string> kinds;
};
struct Rule {
  long long id;
  std::string target, kind, topic, addressee;  // empty: any
  long long priority = 100;
  bool active = true;
};

// The rules and participants as rows in memory, with the semantics of PgRouteRepository's SQL.
class InMemoryRoutes final : public store::RouteRepository {
 public:
  std::vector<Participant> participants;
  std::vector<Rule> rules;

  Result<std::optional<store::RuleMatch>> firstRule(const std::string& kind, const std::string& topic,
                                                    const std::string& addressee,
                                                    const std::vector<std::string>& declined) override {
    std::vector<Rule> matching;
    for (const auto& r : rules) {
      auto any = [](const std::string& field, const std::string& value) { return field.empty() || field == value; };
      if (r.active && any(r.kind, kind) && any(r.topic, topic) && any(r.addressee, addressee) &&
          takesNow(r.target, kind, declined)) {
        matching.push_back(r);
      }
    }
    if (matching.empty()) return std::optional<store::RuleMatch>{};
    auto first = *std::min_element(matching.begin(), matching.end(), [](const Rule& a, const Rule& b) {
      return std::tie(a.priority, a.id) < std::tie(b.priority, b.id);
    });
    return std::optional<store::RuleMatch>{store::RuleMatch{first.target, first.id, std::nullopt}};
  }
  Result<bool> takes(const std::string& org_id, const std::string& kind,
                     const std::vector<std::string>& declined) override {
    return takesNow(org_id, kind, declined);
  }

 private:
  bool takesNow(const std::string& org_id, const std::string& kind, const std::vector<std::string>& declined) const {
    if (std::find(declined.begin(), declined.end(), org_id) != declined.end()) return false;
    for (const auto& p : participants) {
      if (p.org_id == org_id && (p.status == "active" || p.status == "suspended") &&
          std::find(p.kinds.begin(), p.kinds.end(), kind) != p.kinds.end()) {
        return true;
      }
    }
    return false;
  }
};

InMemoryRoutes bodies() {
  InMemoryRoutes m;
  m.participants = {{"11111111", "active", {"appeal", "info_request"}},
                    {"22222222", "active", {"appeal"}},
                    {"33333333", "suspended", {"appeal"}},
                    {"44444444", "retired", {"appeal"}},
                    {"55555555", "active", {"violence_report"}}};
  m.rules = {{1, "11111111", "appeal", "", "", 100},
             {2, "22222222", "appeal", "004", "", 10},
             {3, "44444444", "appeal", "", "", 1},
             {4, "33333333", "appeal", "", "22222222", 5}};
  return m;
}

std::string target(InMemoryRoutes& routes, const std::string& kind, const std::string& topic,
                   const std::string& addressee, const std::vector<std::string>& declined = {},
                   bool forwarded = false) {
  auto c = flows::chooseRoute(routes, kind, topic, addressee, declined, forwarded);
  BOOST_REQUIRE(c.ok());
  return c->target.empty() ? "review" : c->target + " (" + c->reason + ")";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(routing)

BOOST_AUTO_TEST_CASE(the_first_rule_by_priority_to_a_participant_that_can_take_it_wins) {
  auto routes = bodies();
  // Rule 3 is first by priority but its target is retired; rule 2 names the topic.
  BOOST_TEST(target(routes, "appeal", "004", "") == "22222222 (routing rule 2)");
  BOOST_TEST(target(routes, "appeal", "017", "") == "11111111 (routing rule 1)");
  // A suspended participant is still routed to: its deliveries wait until it is active again.
  BOOST_TEST(target(routes, "appeal", "017", "22222222") == "33333333 (routing rule 4)");
  // No rule for the kind, and no addressee: the UCC review queue.
  BOOST_TEST(target(routes, "violence_report", "", "") == "review");
}

BOOST_AUTO_TEST_CASE(a_participant_that_declined_a_case_never_gets_it_again) {
  auto routes = bodies();
  BOOST_TEST(target(routes, "appeal", "004", "", {"22222222"}) == "11111111 (routing rule 1)");
  BOOST_TEST(target(routes, "appeal", "004", "", {"22222222", "11111111"}) == "review");
  BOOST_TEST(target(routes, "violence_report", "", "55555555", {"55555555"}) == "review");
}

BOOST_AUTO_TEST_CASE(the_addressee_takes_what_no_rule_places_and_a_forward_goes_to_the_competent_body) {
  auto routes = bodies();
  BOOST_TEST(target(routes, "violence_report", "", "55555555") == "55555555 (the addressee named by the channel)");
  // An addressee that does not take the kind is no route.
  BOOST_TEST(target(routes, "info_request", "", "22222222") == "review");
  // Forwarded: the competent body it names, before any rule that would match.
  BOOST_TEST(target(routes, "appeal", "004", "11111111", {"33333333"}, true) ==
             "11111111 (the competent body named by the forwarder)");
  // Forwarded with no body named: the rules, as for a new case.
  BOOST_TEST(target(routes, "appeal", "004", "", {"33333333"}, true) == "22222222 (routing rule 2)");
}

BOOST_AUTO_TEST_CASE(postgres_text_arrays_read_and_written) {
  BOOST_TEST(store::textArrayItems("{}").empty());
  BOOST_TEST((store::textArrayItems("{11111111,\"22222222\"}") == std::vector<std::string>{"11111111", "22222222"}));
  BOOST_TEST(store::textArrayLiteral({"1", "2"}) == "{\"1\",\"2\"}");
  BOOST_TEST(store::textArrayLiteral({}) == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
