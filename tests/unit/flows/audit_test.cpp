#define BOOST_TEST_MODULE unit_flows
#include <boost/test/unit_test.hpp>
#include <functional>

#include "gateway/app/digest.hpp"
#include "gateway/flows/audit.hpp"

using namespace vkhid;
using namespace vkhid::flows;

namespace {

std::vector<std::string> hashes(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(app::sha256Hex("entry " + std::to_string(i)));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_log)

BOOST_AUTO_TEST_CASE(every_entry_proves_its_inclusion_and_nothing_else_does) {
  for (int n = 1; n <= 9; ++n) {
    auto h = hashes(n);
    std::string root = merkleRoot(h);
    for (int i = 0; i < n; ++i) {
      auto proof = merkleProof(h, static_cast<std::size_t>(i));
      BOOST_TEST(checkMerkleProof(h[i], proof, root), "n=" << n << " i=" << i);
      BOOST_TEST(!checkMerkleProof(app::sha256Hex("forged"), proof, root));
      if (n > 1) BOOST_TEST(!checkMerkleProof(h[(i + 1) % n], proof, root), "n=" << n << " i=" << i);
    }
  }
  // Order matters: two entries swapped make another root.
  auto h = hashes(4);
  auto swapped = h;
  std::swap(swapped[1], swapped[2]);
  BOOST_TEST(merkleRoot(h) != merkleRoot(swapped));
  // A leaf cannot pass for an inner node (domain separation): two leaves' node is not a one-leaf root.
  BOOST_TEST(merkleRoot({h[0], h[1]}) != merkleRoot({merkleRoot({h[0], h[1]})}));
}

BOOST_AUTO_TEST_CASE(every_field_of_an_entry_is_in_its_hash_but_not_its_position) {
  AuditEntry e{7,
               "2026-11-28T21:00:00.000001Z",
               "gateway",
               "case.routed",
               "case:1 registered>routed",
               app::sha256Hex("{}"),
               std::string(64, '0'),
               {},
               1};
  std::string base = auditEntryHash(e);
  const std::vector<std::function<void(AuditEntry&)>> edits = {[](AuditEntry& x) { x.at += "x"; },
                                                               [](AuditEntry& x) { x.actor += "x"; },
                                                               [](AuditEntry& x) { x.action += "x"; },
                                                               [](AuditEntry& x) { x.subject += "x"; },
                                                               [](AuditEntry& x) { x.payload_sha256 += "x"; },
                                                               [](AuditEntry& x) { x.prev_hash += "x"; }};
  for (const auto& edit : edits) {
    AuditEntry changed = e;
    edit(changed);
    BOOST_TEST(auditEntryHash(changed) != base);
  }
  AuditEntry moved = e;
  moved.seq = 8;
  BOOST_TEST(auditEntryHash(moved) == base);  // a moved entry is found by its links, not its hash
}

BOOST_AUTO_TEST_SUITE_END()
