#include "gateway/crypto/gost34311.hpp"

#include <cstring>
#include <utility>

namespace vkhid::crypto {
namespace {

using u8 = std::uint8_t;
using u32 = std::uint32_t;

constexpr u8 kDke1[64] = {0xa9, 0xd6, 0xeb, 0x45, 0xf1, 0x3c, 0x70, 0x82, 0x80, 0xc4, 0x96, 0x7b, 0x23,
                          0x1f, 0x5e, 0xad, 0xf6, 0x58, 0xeb, 0xa4, 0xc0, 0x37, 0x29, 0x1d, 0x38, 0xd9,
                          0x6b, 0xf0, 0x25, 0xca, 0x4e, 0x17, 0xf8, 0xe9, 0x72, 0x0d, 0xc6, 0x15, 0xb4,
                          0x3a, 0x28, 0x97, 0x5f, 0x0b, 0xc1, 0xde, 0xa3, 0x64, 0x38, 0xb5, 0x64, 0xea,
                          0x2c, 0x17, 0x9f, 0xd0, 0x12, 0x3e, 0x6d, 0xb8, 0xfa, 0xc5, 0x79, 0x04};

// C3 of the key schedule, as 32 little-endian bytes.
constexpr u8 kC3[32] = {0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
                        0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0xff};

u32 le32(const u8* p) { return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24; }
void put32(u8* p, u32 v) {
  p[0] = static_cast<u8>(v);
  p[1] = static_cast<u8>(v >> 8);
  p[2] = static_cast<u8>(v >> 16);
  p[3] = static_cast<u8>(v >> 24);
}

// ψ: the 16 16-bit words shift down by one; the new top word is y1 ^ y2 ^ y3 ^ y4 ^ y13 ^ y16.
void psi(u8 y[32]) {
  u8 lo = y[0] ^ y[2] ^ y[4] ^ y[6] ^ y[24] ^ y[30];
  u8 hi = y[1] ^ y[3] ^ y[5] ^ y[7] ^ y[25] ^ y[31];
  std::memmove(y, y + 2, 30);
  y[30] = lo;
  y[31] = hi;
}

// A: y4 || y3 || y2 || y1 -> (y1 ^ y2) || y4 || y3 || y2, 64-bit words, y1 the lowest.
void transformA(u8 y[32]) {
  u8 top[8];
  for (int b = 0; b < 8; ++b) top[b] = y[b] ^ y[8 + b];
  std::memmove(y, y + 8, 24);
  std::memcpy(y + 24, top, 8);
}

}  // namespace

std::string_view dke1() { return {reinterpret_cast<const char*>(kDke1), sizeof kDke1}; }

Gost34311::Gost34311(std::string_view dke) {
  const auto* packed = reinterpret_cast<const u8*>(dke.size() == 64 ? dke.data() : dke1().data());
  // Row r (the r-th 4-bit position, lowest first) is bytes 8r..8r+7, two entries a byte, high nibble first
  // — the layout certificates use, settled against the known answers.
  u8 k[8][16];
  for (int r = 0; r < 8; ++r) {
    for (int j = 0; j < 16; ++j) {
      u8 b = packed[r * 8 + j / 2];
      k[r][j] = (j % 2 == 0) ? static_cast<u8>(b >> 4) : static_cast<u8>(b & 15);
    }
  }
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 256; ++i) {
      u32 v = (u32(k[2 * t + 1][i >> 4]) << 4 | k[2 * t][i & 15]) << (8 * t);
      table_[t][i] = (v << 11) | (v >> 21);
    }
  }
}

void Gost34311::compress(const u8 m[32]) {
  u8 u[32], v[32], s[32];
  std::memcpy(u, h_, 32);
  std::memcpy(v, m, 32);
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      transformA(u);
      if (i == 2) {
        for (int b = 0; b < 32; ++b) u[b] ^= kC3[b];
      }
      transformA(v);
      transformA(v);
    }
    // The key: P(U ^ V), byte 4(k-1)+i from byte 8i+k-1.
    u8 key_bytes[32];
    for (int ii = 0; ii < 4; ++ii) {
      for (int kk = 0; kk < 8; ++kk) key_bytes[4 * kk + ii] = u[8 * ii + kk] ^ v[8 * ii + kk];
    }
    u32 key[8];
    for (int w = 0; w < 8; ++w) key[w] = le32(key_bytes + 4 * w);
    // GOST 28147-89 on the i-th 64-bit word of H: K1..K8 three times, then K8..K1.
    u32 n1 = le32(h_ + 8 * i), n2 = le32(h_ + 8 * i + 4);
    for (int r = 0; r < 32; ++r) {
      u32 x = n1 + key[r < 24 ? r % 8 : 7 - r % 8];
      u32 t = n2 ^ table_[0][x & 255] ^ table_[1][(x >> 8) & 255] ^ table_[2][(x >> 16) & 255] ^ table_[3][x >> 24];
      n2 = n1;
      n1 = t;
    }
    put32(s + 8 * i, n2);
    put32(s + 8 * i + 4, n1);
  }
  // H' = ψ^61(H ^ ψ(M ^ ψ^12(S))).
  for (int r = 0; r < 12; ++r) psi(s);
  for (int b = 0; b < 32; ++b) s[b] ^= m[b];
  psi(s);
  for (int b = 0; b < 32; ++b) s[b] ^= h_[b];
  for (int r = 0; r < 61; ++r) psi(s);
  std::memcpy(h_, s, 32);
}

void Gost34311::absorb(const u8 m[32]) {
  compress(m);
  unsigned carry = 0;
  for (int b = 0; b < 32; ++b) {
    carry += unsigned(sum_[b]) + m[b];
    sum_[b] = static_cast<u8>(carry);
    carry >>= 8;
  }
}

void Gost34311::update(std::string_view bytes) {
  const auto* p = reinterpret_cast<const u8*>(bytes.data());
  std::size_t n = bytes.size();
  length_ += n;
  if (partial_size_ > 0) {
    std::size_t take = std::min(n, 32 - partial_size_);
    std::memcpy(partial_ + partial_size_, p, take);
    partial_size_ += take;
    p += take;
    n -= take;
    if (partial_size_ < 32) return;
    absorb(partial_);
    partial_size_ = 0;
  }
  for (; n >= 32; n -= 32, p += 32) absorb(p);
  std::memcpy(partial_, p, n);
  partial_size_ = n;
}

std::string Gost34311::final() {
  if (partial_size_ > 0) {
    u8 block[32] = {};
    std::memcpy(block, partial_, partial_size_);
    absorb(block);
  }
  u8 len[32] = {};
  unsigned long long bits = length_ * 8;
  for (int b = 0; b < 8; ++b) len[b] = static_cast<u8>(bits >> (8 * b));
  compress(len);
  compress(sum_);
  return {reinterpret_cast<const char*>(h_), 32};
}

std::string Gost34311::digest(std::string_view bytes, std::string_view dke) {
  Gost34311 g(dke);
  g.update(bytes);
  return g.final();
}

}  // namespace vkhid::crypto
