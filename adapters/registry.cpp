#include "adapters/adapter.hpp"
#include "adapters/amqp/config.hpp"
#include "adapters/folder/config.hpp"
#include "adapters/http/config.hpp"
#include "adapters/sevhub/config.hpp"

namespace vkhid::adapters {

std::vector<DeliveryOutcome> Adapter::deliverAll(const std::vector<OutboundPackage>& packages,
                                                 const Endpoint& endpoint) {
  std::vector<DeliveryOutcome> out;
  for (const auto& p : packages) {
    if (!out.empty() && out.back().kind == DeliveryOutcome::Kind::Retry) {
      out.push_back(out.back());
      continue;
    }
    out.push_back(deliver(p.bytes, p.msg_id, endpoint));
  }
  return out;
}

std::unique_ptr<Adapter> AdapterRegistry::create(const std::string& name, const app::Config& config) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second(config);
}

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : factories_) out.push_back(name);
  return out;
}

void registerBuiltinAdapters(AdapterRegistry& registry) {
  amqp::registerAdapter(registry);
  http::registerAdapter(registry);
  folder::registerAdapter(registry);
  sevhub::registerAdapter(registry);
}

}  // namespace vkhid::adapters
