#include "gateway/domain/contact.hpp"

#include <algorithm>
#include <cctype>

namespace vkhid::domain {

bool validEmail(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const auto at = a.find('@');
  if (at == std::string_view::npos || at == 0 || a.find('@', at + 1) != std::string_view::npos) return false;
  const auto local = a.substr(0, at), domain = a.substr(at + 1);
  if (local.size() > 64 || domain.size() < 3) return false;
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' || c == '<' ||
        c == '>' || c == '[' || c == ']' || c == '\\') {
      return false;
    }
  }
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  if (domain.front() == '-' || domain.find("..") != std::string_view::npos) return false;
  return local.front() != '.' && local.back() != '.' && local.find("..") == std::string_view::npos;
}

std::optional<std::string> normalisePhone(std::string_view text) {
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (std::isdigit(c)) {
      digits += static_cast<char>(c);
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return std::nullopt;
    }
  }
  if (plus) {
    if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') return std::nullopt;
    return "+" + digits;
  }
  if (digits.size() == 10 && digits.front() == '0') return "+38" + digits;
  if (digits.size() == 12 && digits.starts_with("380")) return "+" + digits;
  return std::nullopt;
}

std::string maskEmail(std::string_view address) {
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return std::string(1, address.front()) + "***" + std::string(address.substr(at));
}

std::string maskPhone(std::string_view e164) {
  if (e164.size() < 8) return "***";
  std::string out(e164);
  std::fill(out.begin() + 6, out.end() - 2, '*');
  return out;
}

}  // namespace vkhid::domain
