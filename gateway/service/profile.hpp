// The production profile (issue 28, docs/operations.md): `vkhid serve --profile production` — the
// packaged default — refuses to start with a setting that is only safe on a developer's machine. The
// development profile keeps today's convenience.
#pragma once

#include <string>
#include <vector>

#include "gateway/app/config.hpp"

namespace vkhid::service {

// One unsafe setting: the key, what is wrong, and the fix.
struct Refusal {
  std::string key, problem, fix;
};

// What the production profile refuses in `config`, in the order of the configuration file: a
// development CA, a seal key other users can read, plain-HTTP intake, the broker's guest user, a
// password in the database URL, no time-stamp authority, bearer tokens in the console. Empty: it may
// start. Reads the certificate and key files it names (a file it cannot read is refused too).
std::vector<Refusal> productionRefusals(const app::Config& config);

}  // namespace vkhid::service
