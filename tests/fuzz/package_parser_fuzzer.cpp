// libFuzzer target for the SEV OVV parser: any bytes must be refused with a code or parsed; what
// parses must write and parse back to the same model. Built with clang (-DVKHID_FUZZ=ON), run for a
// bounded time by scripts/test on a seed corpus of the real samples.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/sev/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  vkhid::sev::ParseLimits limits;
  limits.max_bytes = 4 << 20;
  auto first = vkhid::sev::parsePackage(bytes, limits);
  if (!first.ok()) return 0;
  auto second = vkhid::sev::parsePackage(vkhid::sev::writePackage(*first), limits);
  if (!second.ok() || !(*second == *first)) std::abort();  // a round-trip break is a bug
  return 0;
}
