#include "gateway/flows/exchange_store.hpp"

#include "gateway/app/digest.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/domain/text.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <cstdio>

namespace vkhid::flows {
namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}
}  // namespace

Status enqueueOutbox(store::PgConnection& db, const std::string& exchange, const std::string& routing_key,
                     const std::string& message_id, std::string_view payload, const std::string& headers_json,
                     int priority) {
  return db.later(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) "
      "VALUES ($1, $2, $3, $4::bytea, $5::jsonb, $6)",
      {exchange, routing_key, message_id, byteaHex(payload), headers_json, std::to_string(priority)});
}

Status enqueueDelivery(store::PgConnection& db, const std::string& org, const std::string& msg_id,
                       const std::string& retry_key, const std::string& headers_json) {
  bool retry = !retry_key.empty();
  return db.later(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) "
      "SELECT $1, $2, $3, convert_to(json_build_object('msg_id', $3::text)::text, 'UTF8'), $4::jsonb, "
      "CASE WHEN coalesce((SELECT c.priority FROM message m JOIN cases c ON c.id = m.case_id "
      "WHERE m.msg_id = vkhid_uuid($3)), false) THEN $5::int ELSE 0 END",
      {retry ? std::string(bus::names::kRetry) : std::string(bus::names::kDelivery), retry ? retry_key : org, msg_id,
       headers_json, std::to_string(kPriorityApplicant)});
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

std::string byteaHex(std::string_view bytes) { return "\\x" + hexEncode(bytes); }

std::string fromByteaHex(std::string_view text) {
  if (text.starts_with("\\x")) text.remove_prefix(2);
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out += static_cast<char>(hexValue(text[i]) * 16 + hexValue(text[i + 1]));
  }
  return out;
}

}  // namespace vkhid::flows
