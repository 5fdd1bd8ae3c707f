#include "gateway/flows/exchange_store.hpp"

#include "gateway/app/digest.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/store/outbox.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <cstdio>

namespace vkhid::flows {

Status enqueueOutbox(store::PgConnection& db, const std::string& exchange, const std::string& routing_key,
                     const std::string& message_id, std::string_view payload, const std::string& headers_json,
                     int priority) {
  return store::appendOutbox(db, exchange, routing_key, message_id, payload, headers_json, priority);
}

Status enqueueDelivery(store::PgConnection& db, const std::string& org, const std::string& msg_id,
                       const std::string& retry_key, const std::string& headers_json) {
  const bool retry = !retry_key.empty();
  return store::appendDelivery(db, retry ? std::string(bus::names::kRetry) : std::string(bus::names::kDelivery),
                               retry ? retry_key : org, msg_id, headers_json, kPriorityApplicant);
}

adapters::Endpoint endpointFrom(const std::string& org_id, const std::string& adapter, std::string_view settings_json) {
  adapters::Endpoint e{org_id, adapter, {}};
  boost::system::error_code ec;
  auto v = boost::json::parse(settings_json, ec);
  if (!ec && v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.value().is_string()) e.settings[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  return e;
}

std::string newUuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string sha256Hex(std::string_view bytes) { return app::sha256Hex(bytes); }

}  // namespace vkhid::flows
