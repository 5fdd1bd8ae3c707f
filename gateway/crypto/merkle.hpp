// Merkle trees over SHA-256 (RFC 6962 style: a leaf and a node hash are domain-separated, 0x00 and
// 0x01), as the evidence log's batches use them (DESIGN §10). Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vkhid::crypto {

// Root over hashes (hex) in order; hex. Empty input: the hash of nothing. An odd node is carried up.
std::string merkleRoot(const std::vector<std::string>& hashes);

struct ProofStep {
  bool left;         // the sibling is on the left
  std::string hash;  // hex
};
// The audit path of the `index`-th hash: the siblings from the leaf up.
std::vector<ProofStep> merkleProof(const std::vector<std::string>& hashes, std::size_t index);
// True when `proof` leads from `hash` (hex) to `root` (hex).
bool checkMerkleProof(const std::string& hash, const std::vector<ProofStep>& proof, const std::string& root);

}  // namespace vkhid::crypto
