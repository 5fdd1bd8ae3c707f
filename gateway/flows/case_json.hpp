// The case as JSON (the intake API's body, schemas/case.schema.json) -> domain::Case, with every wrong
// field reported (name, what was expected), never only the first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/case.hpp"

namespace vkhid::flows {

struct FieldError {
  std::string field;     // JSON pointer style, e.g. "/applicant/surname"
  std::string expected;  // what would have been accepted
};

struct CaseLimits {
  std::size_t max_attachments = 20;
  std::size_t max_attachment_bytes = std::size_t{20} << 20;
  std::size_t max_text_bytes = 100'000;
};

struct ParsedCase {
  domain::Case value;
  std::vector<FieldError> errors;  // empty = valid
};

ParsedCase parseCaseJson(std::string_view json, const CaseLimits& limits = {});

// The case as the intake API's JSON (what parseCaseJson reads back to the same case): how a case that
// did not come through the intake API (a participant's own contact centre) is stored like any other.
std::string caseToJson(const domain::Case& c);

}  // namespace vkhid::flows
