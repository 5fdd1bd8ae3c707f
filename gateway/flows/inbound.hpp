// Inbound (DESIGN §7.4): every package from a participant is identified by its transport, parsed,
// validated, signature-checked with that participant's trust and policy, de-duplicated by msg_id,
// matched to its case and applied — with our own receipts queued in the same transaction.
#pragma once

#include <mutex>

#include "adapters/adapter.hpp"
#include "gateway/flows/context.hpp"

namespace vkhid::flows {

class InboundHandler {
 public:
  explicit InboundHandler(ExchangeContext& context) : context_(context) {}

  // Identify the peer → verify → de-duplicate → one handler per kind of message. An error leaves the
  // package with its transport (nothing was recorded); a refusal is recorded and answered.
  Status receive(const adapters::InboundPackage& package);
  // Packages that were waiting together (issue 25), in order: each verified with its peer's trust, then
  // all applied in one transaction — each de-duplicated by its msg_id as alone. One that is not plain (an
  // unknown sender, a transfer its transport could not verify, an unreadable package), or a transaction
  // that fails, goes through receive() alone. One status each, as receive()'s.
  std::vector<Status> receiveAll(const std::vector<adapters::InboundPackage>& packages);

 private:
  ExchangeContext& context_;
  std::mutex batch_mutex_;
};

}  // namespace vkhid::flows
