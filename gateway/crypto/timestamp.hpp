// RFC 3161 time-stamps (OpenSSL's TS API): the query the gateway sends for a batch root, the answer of
// a time-stamp authority (`vkhid sim tsa` for development and tests), and the offline check of a
// stored answer — the same one `openssl ts -verify` makes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto {

// A TimeStampReq (DER) for a SHA-256 digest (32 raw bytes), with a random nonce and certReq set.
Result<std::string> timestampQuery(std::string_view sha256_digest);

struct TimestampInfo {
  std::string time;  // the token's genTime, ISO 8601 UTC to the second: "2026-11-28T21:00:00Z"
  std::string tsa_subject;
};

// Checks a TimeStampResp (DER): granted, signed by a certificate that chains to a CA in `ca_pem`
// (the TSA's own certificate may travel in the token or in `tsa_cert_pem`), over exactly `digest`.
Result<TimestampInfo> verifyTimestamp(std::string_view response_der, std::string_view sha256_digest,
                                      std::string_view ca_pem, std::string_view tsa_cert_pem = {});

// A time-stamp authority: signs TimeStampResp for queries (SHA-256 only), serials from a counter.
class TimestampAuthority {
 public:
  static Result<TimestampAuthority> load(const std::string& key_file, const std::string& cert_file);
  TimestampAuthority(TimestampAuthority&&) noexcept;
  ~TimestampAuthority();
  // A TimeStampResp (DER) for a TimeStampReq (DER); a malformed query gets a rejection response.
  Result<std::string> respond(std::string_view query_der);

 private:
  struct State;
  explicit TimestampAuthority(std::unique_ptr<State> s);
  std::unique_ptr<State> state_;
};

}  // namespace vkhid::crypto
