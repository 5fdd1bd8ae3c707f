#include "adapters/adapter.hpp"
#include "adapters/amqp/config.hpp"
#include "adapters/folder/folder_adapter.hpp"
#include "adapters/http/http_adapter.hpp"
#include "adapters/sevhub/sevhub_adapter.hpp"

namespace vkhid::adapters {

std::unique_ptr<Adapter> AdapterRegistry::create(const std::string& name, const AdapterContext& context) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second(context);
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
