// Inbound (DESIGN §7.4): every package from a participant is identified by its transport, parsed,
// validated, signature-checked with that participant's trust and policy, de-duplicated by msg_id,
// matched to its case and applied — with our own receipts queued in the same transaction.
#pragma once

#include "adapters/adapter.hpp"
#include "gateway/flows/context.hpp"

namespace vkhid::flows {

class InboundHandler {
 public:
  explicit InboundHandler(ExchangeContext& context) : context_(context) {}

  // Identify the peer → verify → de-duplicate → one handler per kind of message. An error leaves the
  // package with its transport (nothing was recorded); a refusal is recorded and answered.
  Status receive(const adapters::InboundPackage& package);

 private:
  ExchangeContext& context_;
};

}  // namespace vkhid::flows
