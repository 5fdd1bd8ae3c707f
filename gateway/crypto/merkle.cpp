#include "gateway/crypto/merkle.hpp"

#include <openssl/evp.h>

#include "gateway/domain/text.hpp"

namespace vkhid::crypto {
namespace {

std::string rawSha256(const std::string& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string leafHash(const std::string& hash_hex) {
  return rawSha256(std::string(1, '\0') + hexDecode(hash_hex).value_or(""));
}
std::string nodeHash(const std::string& left, const std::string& right) {
  return rawSha256(std::string(1, '\1') + left + right);
}

std::vector<std::string> leaves(const std::vector<std::string>& hashes) {
  std::vector<std::string> level;
  level.reserve(hashes.size());
  for (const auto& h : hashes) level.push_back(leafHash(h));
  return level;
}

std::vector<std::string> up(const std::vector<std::string>& level) {
  std::vector<std::string> next;
  next.reserve((level.size() + 1) / 2);
  for (std::size_t i = 0; i < level.size(); i += 2) {
    next.push_back(i + 1 < level.size() ? nodeHash(level[i], level[i + 1]) : level[i]);
  }
  return next;
}

}  // namespace

std::string merkleRoot(const std::vector<std::string>& hashes) {
  if (hashes.empty()) return hexEncode(rawSha256(""));
  auto level = leaves(hashes);
  while (level.size() > 1) level = up(level);
  return hexEncode(level[0]);
}

std::vector<ProofStep> merkleProof(const std::vector<std::string>& hashes, std::size_t index) {
  std::vector<ProofStep> proof;
  auto level = leaves(hashes);
  while (level.size() > 1) {
    if (index % 2 == 1) {
      proof.push_back({true, hexEncode(level[index - 1])});
    } else if (index + 1 < level.size()) {
      proof.push_back({false, hexEncode(level[index + 1])});
    }
    level = up(level);
    index /= 2;
  }
  return proof;
}

bool checkMerkleProof(const std::string& hash, const std::vector<ProofStep>& proof, const std::string& root) {
  std::string h = leafHash(hash);
  for (const auto& step : proof) {
    auto sibling = hexDecode(step.hash);
    if (!sibling) return false;
    h = step.left ? nodeHash(*sibling, h) : nodeHash(h, *sibling);
  }
  return hexEncode(h) == root;
}

}  // namespace vkhid::crypto
