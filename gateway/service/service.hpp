// The running gateway (`vkhid serve`): wires the probes, the admin server and, as later issues add
// them, the workers; runs until SIGTERM or SIGINT, then stops in a bounded time.
#pragma once

#include "gateway/app/config.hpp"

namespace vkhid::service {

// Returns the process exit code: 0 after a clean stop, 1 when start-up failed or the shutdown did
// not finish within gateway.shutdown_timeout_s.
int runGateway(const app::Config& config);

// Applies the embedded migrations once and reports (`vkhid migrate`).
int runMigrations(const app::Config& config);

}  // namespace vkhid::service
