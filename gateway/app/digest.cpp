#include "gateway/app/digest.hpp"

#include <openssl/evp.h>

#include "gateway/domain/text.hpp"

namespace vkhid::app {

std::string sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return hexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace vkhid::app
