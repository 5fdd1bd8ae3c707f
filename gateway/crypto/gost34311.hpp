// GOST 34.311-95, the Ukrainian hash of DSTU 4145 signatures: GOST R 34.11-94's construction (GOST
// 28147-89 as the block cipher, 32-byte blocks, length and checksum at the end) with the S-box DKE №1
// unless the key's parameters carry their own (tests/data/reference/dstu4145.md; known answers in the
// test `qualified_gost34311_known_answers` and `vkhid crypto selftest`).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vkhid::crypto {

class Gost34311 {
 public:
  // The 64 bytes of an S-box as certificates carry it (`dke`); empty: DKE №1.
  explicit Gost34311(std::string_view dke = {});
  void update(std::string_view bytes);
  std::string final();  // 32 bytes; the object is spent

  // The digest of `bytes`, in one call.
  static std::string digest(std::string_view bytes, std::string_view dke = {});

 private:
  void compress(const std::uint8_t m[32]);
  void absorb(const std::uint8_t m[32]);

  std::array<std::array<std::uint32_t, 256>, 4> table_{};  // the S-box, four bytes at a time, rotated by 11
  std::uint8_t h_[32] = {}, sum_[32] = {}, partial_[32] = {};
  std::size_t partial_size_ = 0;
  unsigned long long length_ = 0;
};

// The DKE №1 S-box, as the 64 bytes certificates carry.
std::string_view dke1();

}  // namespace vkhid::crypto
