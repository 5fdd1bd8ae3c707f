#include "gateway/crypto/der.hpp"

#include <ctime>

namespace vkhid::crypto::der {
namespace {

Error malformed(const std::string& what) { return Error::invalid("der.malformed", what); }

std::string lengthBytes(std::size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string out;
  while (n > 0) {
    out.insert(out.begin(), static_cast<char>(n & 0xff));
    n >>= 8;
  }
  return std::string(1, static_cast<char>(0x80 | out.size())) + out;
}

}  // namespace

Result<Node> read(std::string_view in, std::string_view* rest) {
  if (in.size() < 2) return malformed("a DER element: fewer than 2 bytes left");
  const auto* b = reinterpret_cast<const unsigned char*>(in.data());
  if ((b[0] & 0x1f) == 0x1f) return malformed("a DER element: multi-byte tags are not used here");
  std::size_t len = 0, header = 2;
  if (b[1] < 0x80) {
    len = b[1];
  } else {
    std::size_t n = b[1] & 0x7f;
    if (n == 0) return malformed("a DER element: indefinite length is not DER");
    if (n > 4) return malformed("a DER element: a length of more than 4 bytes");
    if (in.size() < 2 + n) return malformed("a DER element: its length is cut short");
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | b[2 + i];
    header = 2 + n;
  }
  if (len > in.size() - header) return malformed("a DER element: its content runs past the end");
  Node node{b[0], in.substr(header, len), in.substr(0, header + len)};
  if (rest) *rest = in.substr(header + len);
  return node;
}

Result<std::vector<Node>> children(const Node& n) {
  if (!n.constructed()) return malformed("a constructed element");
  std::vector<Node> out;
  std::string_view left = n.content;
  while (!left.empty()) {
    if (out.size() > 100000) return malformed("an element with too many children");
    auto c = read(left, &left);
    if (!c) return c.error();
    out.push_back(*c);
  }
  return out;
}

Result<Node> readAll(std::string_view in) {
  std::string_view rest;
  auto n = read(in, &rest);
  if (!n) return n;
  if (!rest.empty()) return malformed("one DER element with nothing after it");
  return n;
}

Result<std::string> oid(const Node& n, const char* what) {
  if (n.tag != kOid || n.content.empty()) return malformed(std::string(what) + ": an OBJECT IDENTIFIER");
  std::string out;
  unsigned long long value = 0;
  bool first = true;
  for (std::size_t i = 0; i < n.content.size(); ++i) {
    auto c = static_cast<unsigned char>(n.content[i]);
    if (value > (~0ULL >> 8)) return malformed(std::string(what) + ": an OBJECT IDENTIFIER arc too large");
    value = (value << 7) | (c & 0x7f);
    if (c & 0x80) {
      if (i + 1 == n.content.size()) return malformed(std::string(what) + ": an OBJECT IDENTIFIER cut short");
      continue;
    }
    if (first) {
      unsigned long long top = value < 40 ? 0 : value < 80 ? 1 : 2;
      out = std::to_string(top) + "." + std::to_string(value - top * 40);
      first = false;
    } else {
      out += "." + std::to_string(value);
    }
    value = 0;
  }
  return out;
}

Result<std::string> integerBytes(const Node& n, const char* what) {
  if (n.tag != kInteger || n.content.empty()) return malformed(std::string(what) + ": an INTEGER");
  if (static_cast<unsigned char>(n.content[0]) & 0x80) {
    return malformed(std::string(what) + ": a non-negative INTEGER");
  }
  std::string_view v = n.content;
  while (v.size() > 1 && v[0] == 0) v.remove_prefix(1);
  return std::string(v);
}

Result<long long> smallInteger(const Node& n, const char* what) {
  auto bytes = integerBytes(n, what);
  if (!bytes) return bytes.error();
  if (bytes->size() > 7) return malformed(std::string(what) + ": an INTEGER of at most 7 bytes");
  long long v = 0;
  for (char c : *bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

Result<std::string_view> octets(const Node& n, const char* what) {
  if (n.tag != kOctetString) return malformed(std::string(what) + ": an OCTET STRING");
  return n.content;
}

Result<std::string_view> bitString(const Node& n, const char* what) {
  if (n.tag != kBitString || n.content.empty() || n.content[0] != 0) {
    return malformed(std::string(what) + ": a BIT STRING of whole bytes");
  }
  return n.content.substr(1);
}

Result<std::string> time(const Node& n, const char* what) {
  std::string t(n.content);
  std::string full;
  if (n.tag == kUtcTime && t.size() == 13 && t.back() == 'Z') {
    full = (t.substr(0, 2) < "50" ? "20" : "19") + t.substr(0, 12);
  } else if (n.tag == kGeneralizedTime && t.size() >= 15 && t.back() == 'Z') {
    full = t.substr(0, 14);  // fractions of a second dropped
  } else {
    return malformed(std::string(what) + ": a UTCTime or GeneralizedTime in UTC");
  }
  for (char c : full) {
    if (c < '0' || c > '9') return malformed(std::string(what) + ": a time of digits");
  }
  return full.substr(0, 4) + "-" + full.substr(4, 2) + "-" + full.substr(6, 2) + "T" + full.substr(8, 2) + ":" +
         full.substr(10, 2) + ":" + full.substr(12, 2) + "Z";
}

std::string retag(const Node& n, unsigned char tag) { return encode(tag, n.content); }

std::string encode(unsigned char tag, std::string_view content) {
  return std::string(1, static_cast<char>(tag)) + lengthBytes(content.size()) + std::string(content);
}

std::string sequence(const std::vector<std::string>& items) {
  std::string content;
  for (const auto& i : items) content += i;
  return encode(kSequence, content);
}

std::string encodeOid(const std::string& dotted) {
  std::vector<unsigned long long> arcs;
  std::size_t at = 0;
  while (at <= dotted.size()) {
    auto dot = dotted.find('.', at);
    arcs.push_back(std::stoull(dotted.substr(at, dot == std::string::npos ? std::string::npos : dot - at)));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  std::string content;
  auto put = [&](unsigned long long v) {
    std::string b(1, static_cast<char>(v & 0x7f));
    while ((v >>= 7) > 0) b.insert(b.begin(), static_cast<char>(0x80 | (v & 0x7f)));
    content += b;
  };
  put(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return encode(kOid, content);
}

std::string encodeInteger(std::string_view magnitude) {
  std::string v(magnitude);
  while (v.size() > 1 && v[0] == 0) v.erase(0, 1);
  if (v.empty()) v = std::string(1, '\0');
  if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
  return encode(kInteger, v);
}

std::string encodeSmallInteger(long long v) {
  std::string b;
  do {
    b.insert(b.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v > 0);
  return encodeInteger(b);
}

std::string encodeOctets(std::string_view bytes) { return encode(kOctetString, bytes); }
std::string encodeBitString(std::string_view bytes) {
  return encode(kBitString, std::string(1, '\0') + std::string(bytes));
}
std::string encodeUtf8(std::string_view text) { return encode(kUtf8String, text); }

std::string encodeGeneralizedTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return encode(kGeneralizedTime, buf);
}

std::string encodeTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_year < 50 || tm.tm_year > 149) return encodeGeneralizedTime(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return encode(kUtcTime, buf);
}

std::string algorithm(const char* oid) { return sequence({encodeOid(oid)}); }

}  // namespace vkhid::crypto::der
