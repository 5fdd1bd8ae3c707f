// The conformance run for a participant's EDMS (`vkhid conformance`, docs/participant-guide.md): its real
// endpoint driven through the exchange profile, each step reported pass or fail with the reason. A vendor
// runs it before activation; `vkhid participant check --deep` runs it after the connectivity check.
//
// Two test appeals are made, as cases of the channel `conformance` (left out of reports, never routed
// elsewhere): A is delivered, then delivered again with the same msg_id; B is delivered with one byte of
// its attachment changed after signing. The participant's packages come back through a running
// gateway, which applies them to those cases as to any other; the run reads what it recorded.
#pragma once

#include <chrono>

#include "gateway/flows/participants.hpp"

namespace vkhid::flows {

struct ConformanceOptions {
  std::chrono::seconds receipt_timeout{30};  // for each receipt awaited
  std::chrono::seconds answer_timeout{120};  // for the answer to appeal A
  std::chrono::seconds settle{5};            // after the duplicate: how long a second registration is looked for
};

// Steps, in order: appeal_registered (receipts 1–3 for A, sealed by the participant, with a
// registration number), duplicate_not_registered_twice, tampered_refused (a receipt 4 for B, no 3),
// answer_signed (a reply to A, sealed and its attachments signed, that closes it), then the optional
// extension and forward (ok when sent and valid, skipped when not sent, failed when refused).
Result<CheckReport> runConformance(ExchangeContext& context, const std::string& org_id, const ConformanceOptions& o);

}  // namespace vkhid::flows
