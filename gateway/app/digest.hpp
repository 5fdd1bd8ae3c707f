// SHA-256 as lower-case hex (OpenSSL), for evidence, checksums and fingerprints.
#pragma once

#include <string>
#include <string_view>

namespace vkhid::app {

std::string sha256Hex(std::string_view bytes);

}  // namespace vkhid::app
