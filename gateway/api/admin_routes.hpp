// The operations endpoints on the admin port: /healthz (alive), /readyz (dependencies reachable and
// schema current), /metrics (Prometheus text). Pure: tested without sockets.
#pragma once

#include "gateway/app/health.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::api {

using http::Request;
using http::Response;

class AdminRoutes {
 public:
  AdminRoutes(const app::HealthRegistry& health, const app::Metrics& metrics) : health_(health), metrics_(metrics) {}

  Response handle(const Request& request) const;

 private:
  Response readiness() const;

  const app::HealthRegistry& health_;
  const app::Metrics& metrics_;
};

}  // namespace vkhid::api
