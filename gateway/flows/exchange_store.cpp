#include "gateway/flows/exchange_store.hpp"

#include "gateway/app/digest.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/store/outbox.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <algorithm>
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
                               retry ? retry_key : org, msg_id, deliveryJob({msg_id}), headers_json,
                               kPriorityApplicant);
}

Status enqueueDeliveries(store::PgConnection& db, const std::string& org, const std::vector<std::string>& msg_ids) {
  if (msg_ids.empty()) return {};
  return store::appendDelivery(db, std::string(bus::names::kDelivery), org, msg_ids.front(), deliveryJob(msg_ids), "{}",
                               kPriorityApplicant);
}

std::string deliveryJob(const std::vector<std::string>& msg_ids) {
  if (msg_ids.size() == 1) return boost::json::serialize(boost::json::object{{"msg_id", msg_ids.front()}});
  return boost::json::serialize(boost::json::object{{"msg_ids", boost::json::array(msg_ids.begin(), msg_ids.end())}});
}

std::vector<RelayPublication> relayPublications(const std::vector<store::OutboxRow>& rows, std::size_t max_ids) {
  std::vector<RelayPublication> out;
  // The open job message of each (participant, priority): where the round's next job for it goes.
  std::vector<std::pair<std::size_t, std::vector<std::string>>> open;
  auto expirationOf = [](const store::OutboxRow& row) {
    boost::system::error_code ec;
    auto v = boost::json::parse(row.headers_json, ec);
    const auto* e = !ec && v.is_object() ? v.as_object().if_contains("expiration") : nullptr;
    return e && e->is_string() ? std::string(e->as_string()) : std::string();
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    RelayPublication p{row.exchange, row.routing_key, row.message_id, row.payload, expirationOf(row), row.priority,
                       {i}};
    auto ids = row.exchange == bus::names::kDelivery ? packagesOfJob(row.payload) : std::vector<std::string>{};
    if (ids.empty()) {
      out.push_back(std::move(p));
      continue;
    }
    auto joins = std::find_if(open.begin(), open.end(), [&](const auto& o) {
      const auto& q = out[o.first];
      return q.routing_key == row.routing_key && q.priority == row.priority && o.second.size() + ids.size() <= max_ids;
    });
    if (joins == open.end()) {
      out.push_back(std::move(p));
      open.emplace_back(out.size() - 1, std::move(ids));
      continue;
    }
    auto& q = out[joins->first];
    q.rows.push_back(i);
    joins->second.insert(joins->second.end(), ids.begin(), ids.end());
    q.payload = deliveryJob(joins->second);
  }
  return out;
}

RelayRound relayRound(const std::vector<store::OutboxRow>& rows, const std::vector<RelayPublication>& publications,
                      const std::vector<std::string>& returned) {
  RelayRound round;
  std::vector<bool> came_back(rows.size(), false);
  for (const auto& p : publications) {
    if (std::find(returned.begin(), returned.end(), p.message_id) == returned.end()) {
      ++round.messages;
      continue;
    }
    for (auto i : p.rows) came_back[i] = true;
  }
  for (std::size_t first = 0, end = 0; first < rows.size(); first = end) {
    end = first;
    while (end < rows.size() && rows[end].place == rows[first].place) ++end;
    const auto from = came_back.begin() + static_cast<std::ptrdiff_t>(first);
    const auto to = came_back.begin() + static_cast<std::ptrdiff_t>(end);
    if (std::all_of(from, to, [](bool back) { return back; })) continue;
    round.sent.push_back(rows[first].place);
    for (std::size_t k = first; k < end; ++k) {
      if (came_back[k]) round.again.push_back(k);
    }
  }
  return round;
}

std::vector<std::string> packagesOfJob(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  std::vector<std::string> ids;
  if (ec || !v.is_object()) return ids;
  const auto& o = v.as_object();
  if (const auto* many = o.if_contains("msg_ids"); many && many->is_array()) {
    for (const auto& id : many->as_array()) {
      if (id.is_string() && !id.as_string().empty()) ids.emplace_back(id.as_string());
    }
  } else if (const auto* one = o.if_contains("msg_id"); one && one->is_string() && !one->as_string().empty()) {
    ids.emplace_back(one->as_string());
  }
  return ids;
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
