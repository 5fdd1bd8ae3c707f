// The known answers of the Ukrainian algorithms, run by `vkhid crypto selftest` after installing and by
// the tests: GOST 34.311-95 digests, DSTU 4145 signatures made by an independent implementation, and
// a sign-and-verify round trip on every standard curve. A vector file in the format of
// tests/data/ua-qualified/vectors/ (`curve public-key hash signature expected`, hex) can be run instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto {

struct SelftestResult {
  int agree = 0;
  int total = 0;
  std::vector<std::string> disagreements;  // "line 7: expected 1, got 0", "GOST 34.311 of 'abc': …"
  bool ok() const { return total > 0 && agree == total; }
};

// The built-in known answers.
SelftestResult selftestBuiltin();

// Every vector of a file's text; an error names a line that is not a vector (wrong field count, not
// hex, an unknown curve, expected not 0 or 1). Blank lines and lines starting with '#' are skipped.
Result<SelftestResult> selftestVectors(std::string_view text);

}  // namespace vkhid::crypto
