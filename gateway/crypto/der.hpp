// A minimal DER reader (and writer) for the structures OpenSSL cannot read for us: DSTU 4145 keys,
// parameters and signatures, and CMS SignedData signed with them. Bounds-checked; a malformed
// encoding is an error naming what was expected, never a crash.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto::der {

// Universal tags and the context-specific/constructed bits.
inline constexpr unsigned char kInteger = 0x02, kBitString = 0x03, kOctetString = 0x04, kNull = 0x05, kOid = 0x06,
                               kUtf8String = 0x0c, kSequence = 0x30, kSet = 0x31, kUtcTime = 0x17,
                               kGeneralizedTime = 0x18;
inline constexpr unsigned char context(int n, bool constructed = true) {
  return static_cast<unsigned char>(0x80 | (constructed ? 0x20 : 0) | n);
}

// One element: its tag byte, its content, and the whole encoding (tag and length included).
struct Node {
  unsigned char tag = 0;
  std::string_view content;
  std::string_view whole;
  bool constructed() const { return (tag & 0x20) != 0; }
};

// The element at the start of `in`; `rest` (when given) receives what follows it. Single-byte tags only
// (all the structures read here use them); lengths in the definite form, at most 4 bytes of length.
Result<Node> read(std::string_view in, std::string_view* rest = nullptr);
// The elements inside a constructed one, in order.
Result<std::vector<Node>> children(const Node& n);
// The one element `in` holds, with nothing after it.
Result<Node> readAll(std::string_view in);

// Typed views of a node; `what` names the field in errors.
Result<std::string> oid(const Node& n, const char* what);             // dotted text
Result<std::string> integerBytes(const Node& n, const char* what);    // big-endian, leading zeros dropped
Result<long long> smallInteger(const Node& n, const char* what);      // fits 62 bits
Result<std::string_view> octets(const Node& n, const char* what);     // an OCTET STRING's content
Result<std::string_view> bitString(const Node& n, const char* what);  // whole bytes (no unused bits)
Result<std::string> time(const Node& n, const char* what);            // ISO 8601 UTC from UTCTime/GeneralizedTime

// The same content under another tag (a [0] IMPLICIT SET is signed as a SET).
std::string retag(const Node& n, unsigned char tag);

// Writing, for what only tests and the simulator sign (DSTU test certificates and signatures).
std::string encode(unsigned char tag, std::string_view content);
std::string sequence(const std::vector<std::string>& items);
std::string encodeOid(const std::string& dotted);
std::string encodeInteger(std::string_view big_endian_magnitude);  // a non-negative integer
std::string encodeSmallInteger(long long v);
std::string encodeOctets(std::string_view bytes);
std::string encodeBitString(std::string_view bytes);
std::string encodeUtf8(std::string_view text);
std::string encodeGeneralizedTime(std::time_t t);
// UTCTime for the years 1950–2049 (as RFC 5280 and 5652 ask), else GeneralizedTime.
std::string encodeTime(std::time_t t);
// An AlgorithmIdentifier with its parameters absent.
std::string algorithm(const char* oid);

}  // namespace vkhid::crypto::der
