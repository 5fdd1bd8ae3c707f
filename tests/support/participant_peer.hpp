// A participant's EDMS as a test drives it by hand, message by message: it takes what the gateway
// delivered to its inbox queue and sends whatever the test says — in any order, twice, late, or wrong —
// over its own broker user, signed and sealed with its own key. What an independent EDMS could send,
// not what our simulator happens to.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "gateway/bus/amqp.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/model.hpp"
#include "tests/support/exchange_harness.hpp"

namespace vkhid::testing {

class ParticipantPeer {
 public:
  ParticipantPeer(ExchangeHarness& x, int participant = 0);

  // The next package of the given msg_type in this participant's inbox (receipts of ours skipped unless
  // asked for), within `timeout`; its bytes in `bytes` when given.
  std::optional<sev::Header> take(int msg_type, std::chrono::seconds timeout, std::string* bytes = nullptr);

  // An envelope from this participant to the gateway (a new msg_id unless given).
  sev::Envelope toGateway(const std::string& msg_id = {}) const;
  // Our receipt for one of the gateway's packages.
  sev::Header receipt(const sev::Header& theirs, sev::AckType type, const std::string& reg_number = {},
                      const std::string& msg_id = {}) const;
  // An answer to an appeal package, registered under `reg_number`.
  sev::Header reply(const sev::Header& appeal, const std::string& reg_number, const std::string& text,
                    const std::string& msg_id = {}) const;

  // An extension notice for an appeal package: the answer is due `days` days from now.
  sev::Header extension(const sev::Header& appeal, int days, const std::string& msg_id = {}) const;

  // Signs its attachments, seals it with this participant's key and sends it; returns the bytes sent.
  std::string send(sev::Header h);
  // Sends bytes as they are.
  void sendBytes(const std::string& bytes, const std::string& message_id);
  const std::string& org() const { return org_; }

 private:
  ExchangeHarness& x_;
  std::string org_;
  int participant_;
  std::optional<bus::AmqpConnection> c_;
};

}  // namespace vkhid::testing
