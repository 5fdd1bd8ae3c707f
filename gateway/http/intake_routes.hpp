// The intake API for channel systems (DESIGN §7.1): POST /api/v1/cases, GET /api/v1/cases/{id},
// GET /api/v1/cases/{id}/answer. Pure request -> response over flows::Intake; tested without sockets.
#pragma once

#include "gateway/flows/exchange.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::http {

class IntakeRoutes {
 public:
  explicit IntakeRoutes(flows::Intake& intake) : intake_(intake) {}
  Response handle(const Request& request) const;

 private:
  flows::Intake& intake_;
};

}  // namespace vkhid::http
