#include "tests/support/participant_peer.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/sev/codec.hpp"
#include "tests/support/pki.hpp"

namespace vkhid::testing {
namespace {

std::string freshUuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

}  // namespace

ParticipantPeer::ParticipantPeer(ExchangeHarness& x, int participant)
    : x_(x), org_(x.org(participant)), participant_(participant) {
  auto c = bus::AmqpConnection::connect({x.brokerUrlOf(participant), 5, 0, std::chrono::milliseconds(5000)});
  if (!c) throw std::runtime_error("participant peer: " + c.error().message);
  c_.emplace(std::move(c).value());
  for (const char* dir : {".in", ".out"}) {
    if (auto s = bus::declarePeerQueue(*c_, "edms." + org_ + dir); !s) {
      throw std::runtime_error("participant peer: " + s.error().message);
    }
  }
}

std::optional<sev::Header> ParticipantPeer::take(int msg_type, std::chrono::seconds timeout, std::string* bytes) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = c_->get("edms." + org_ + ".in");
    if (!d) throw std::runtime_error("participant peer: " + d.error().message);
    if (!d->has_value()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    (void)c_->ack((*d)->tag);
    auto h = sev::parsePackage((*d)->body);
    if (!h) throw std::runtime_error("participant peer: the gateway sent what does not parse: " + h.error().message);
    if (h->msg_type != msg_type) continue;
    if (bytes) *bytes = (*d)->body;
    return std::move(h).value();
  }
  return std::nullopt;
}

sev::Envelope ParticipantPeer::toGateway(const std::string& msg_id) const {
  return {participantParty(org_), uccParty(), msg_id.empty() ? freshUuid() : msg_id, formatIsoUtc(std::time(nullptr))};
}

sev::Header ParticipantPeer::receipt(const sev::Header& theirs, sev::AckType type, const std::string& reg_number,
                                     const std::string& msg_id) const {
  std::optional<sev::RegNumber> reg;
  if (type == sev::AckType::Registered) reg = sev::RegNumber{reg_number, "2026-12-01", std::nullopt};
  std::optional<sev::Rejection> rejection;
  if (type == sev::AckType::Rejected) rejection = sev::Rejection{32, "Невірне значення"};
  return sev::buildReceipt(toGateway(msg_id), theirs.msg_id, type, reg, rejection);
}

sev::Header ParticipantPeer::reply(const sev::Header& appeal, const std::string& reg_number, const std::string& text,
                                   const std::string& msg_id) const {
  sev::ReplyContent r;
  r.idnumber = freshUuid();
  r.reg_number = {reg_number, "2026-12-01", std::nullopt};
  r.referred = appeal.document->reg_number;
  r.referred_idnumber = appeal.document->attrs.idnumber;
  r.text = text;
  return sev::buildReply(toGateway(msg_id), r);
}

sev::Header ParticipantPeer::extension(const sev::Header& appeal, int days, const std::string& msg_id) const {
  sev::NoticeExpansion n;
  n.kind = "extension";
  n.case_id = appeal.expansion && appeal.expansion->appeal ? appeal.expansion->appeal->case_id : "";
  n.ref_msg_id = appeal.msg_id;
  n.new_due = formatIsoUtc(std::time(nullptr) + static_cast<std::time_t>(days) * 86400);
  n.reason = "Потрібне додаткове вивчення";
  return sev::buildNotice(toGateway(msg_id), n);
}

std::string ParticipantPeer::send(sev::Header h) {
  auto signer = signerOf(org_ + "-seal");
  if (auto s = crypto::signAttachments(h, signer); !s) throw std::runtime_error(s.error().message);
  auto bytes = crypto::sealedPackage(h, signer);
  if (!bytes) throw std::runtime_error(bytes.error().message);
  sendBytes(*bytes, h.msg_id);
  return *bytes;
}

void ParticipantPeer::sendBytes(const std::string& bytes, const std::string& message_id) {
  bus::PublishProperties props;
  props.message_id = message_id;
  props.user_id = x_.brokerUser(participant_);
  if (auto p = c_->publish("", "edms." + org_ + ".out", bytes, props); !p) throw std::runtime_error(p.error().message);
  if (auto s = c_->waitForConfirms(std::chrono::seconds(10)); !s) throw std::runtime_error(s.error().message);
}

}  // namespace vkhid::testing
