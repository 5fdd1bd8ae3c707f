#define BOOST_TEST_MODULE unit_http
#include <boost/test/unit_test.hpp>

#include "gateway/api/admin_routes.hpp"

using namespace vkhid;

namespace {
http::Request get(const std::string& target) {
  http::Request r;
  r.method = "GET";
  r.target = target;
  return r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(admin_routes)

BOOST_AUTO_TEST_CASE(healthz_is_alive_without_dependencies) {
  app::HealthRegistry health;
  health.expect("database");
  app::Metrics metrics;
  api::AdminRoutes routes(health, metrics);
  auto r = routes.handle(get("/healthz"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body.find("alive") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readyz_is_503_naming_each_failing_check) {
  app::HealthRegistry health;
  health.expect("database");
  health.expect("broker");
  health.set("broker", true);
  health.set("database", false, "database: cannot connect: refused");
  app::Metrics metrics;
  auto r = api::AdminRoutes(health, metrics).handle(get("/readyz"));
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.content_type == "application/json");
  BOOST_TEST(r.body.find(R"("failing":["database"])") != std::string::npos);
  BOOST_TEST(r.body.find("cannot connect: refused") != std::string::npos);
  BOOST_TEST(r.body.find(R"("broker":{"ok":true})") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readyz_is_200_when_every_check_passes) {
  app::HealthRegistry health;
  health.expect("database");
  health.set("database", true);
  app::Metrics metrics;
  auto r = api::AdminRoutes(health, metrics).handle(get("/readyz?verbose=1"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body.find(R"("status":"ready")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_are_prometheus_text) {
  app::HealthRegistry health;
  app::Metrics metrics;
  metrics.counter("vkhid_test_total", "A test counter").inc();
  auto r = api::AdminRoutes(health, metrics).handle(get("/metrics"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.content_type.starts_with("text/plain; version=0.0.4"));
  BOOST_TEST(r.body.find("vkhid_test_total 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_problem_json) {
  app::HealthRegistry health;
  app::Metrics metrics;
  auto r = api::AdminRoutes(health, metrics).handle(get("/nope"));
  BOOST_TEST(r.status == 404);
  BOOST_TEST(r.content_type == "application/problem+json");
}

BOOST_AUTO_TEST_CASE(post_is_refused_with_405) {
  app::HealthRegistry health;
  app::Metrics metrics;
  auto req = get("/readyz");
  req.method = "POST";
  auto r = api::AdminRoutes(health, metrics).handle(req);
  BOOST_TEST(r.status == 405);
}

BOOST_AUTO_TEST_SUITE_END()
