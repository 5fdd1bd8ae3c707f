// The gauges the shipped alert rules and dashboard read (issue 28, ops/prometheus, ops/grafana), set by
// the gateway's gauges chore every 15 s: per participant the last package delivered and those waiting,
// dead letters, the outbox's backlog, certificates' expiry (the participants' and the UCC seal's), and a
// streaming replica's lag. Any number of gateways set the same values from the same database.
#pragma once

#include "gateway/flows/context.hpp"

namespace vkhid::flows {

Status refreshOperationsGauges(ExchangeContext& context);

}  // namespace vkhid::flows
