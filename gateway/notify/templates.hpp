// The texts of notices: mustache templates (kainjow/mustache, Debian's libkainjow-mustache-dev), the
// shipped ones in config/notifications/ built into the binary, or an operator's own folder in their place.
// An e-mail template's first line is the subject, then a blank line, then the body. Values are put in
// as they are (plain text), except in the SMS provider's request, where they are JSON-escaped.
#pragma once

#include <boost/json/fwd.hpp>
#include <map>
#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"

namespace vkhid::notify {

// The shipped template `name` (a file name in config/notifications/); empty when there is none.
std::string_view embeddedTemplate(std::string_view name);

struct Rendered {
  std::string subject;  // e-mail only
  std::string body;
};

class Templates {
 public:
  // The templates of `dir` (every *.mustache file), each replacing the shipped one of its name; empty
  // `dir`: the shipped ones. A template that does not parse is refused here, naming it.
  static Result<Templates> load(const std::string& dir);

  // Renders template `name` with `data` (a JSON object: strings, numbers, booleans, objects, arrays).
  // notify.template: no such template, or it failed to render.
  Result<Rendered> email(const std::string& name, const boost::json::object& data) const;
  Result<std::string> text(const std::string& name, const boost::json::object& data) const;
  Result<std::string> jsonBody(const std::string& name, const boost::json::object& data) const;

 private:
  Result<std::string> render(const std::string& name, const boost::json::object& data, bool json_escape) const;
  std::map<std::string, std::string> sources_;
};

}  // namespace vkhid::notify
