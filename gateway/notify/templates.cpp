#include "gateway/notify/templates.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>

namespace vkhid::notify {
namespace {

namespace json = boost::json;
namespace mu = kainjow::mustache;

constexpr std::string_view kShipped[] = {"applicant.email.mustache",   "applicant.sms.mustache",
                                         "participant.email.mustache", "duty.email.mustache",
                                         "report.email.mustache",      "sms-request.json.mustache"};

Error templateError(const std::string& what) { return Error::invalid("notify.template", what); }

mu::data toData(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      mu::data d{mu::data::type::object};
      for (const auto& [k, x] : v.as_object()) d.set(std::string(k), toData(x));
      return d;
    }
    case json::kind::array: {
      mu::data d{mu::data::type::list};
      for (const auto& x : v.as_array()) d.push_back(toData(x));
      return d;
    }
    case json::kind::string: return mu::data{std::string(v.as_string())};
    case json::kind::bool_: return mu::data{v.as_bool()};
    case json::kind::null: return mu::data{false};
    default: return mu::data{json::serialize(v)};
  }
}

std::string jsonEscape(const std::string& s) {
  std::string quoted = json::serialize(json::string(s));
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

Result<Templates> Templates::load(const std::string& dir) {
  Templates t;
  for (auto name : kShipped) t.sources_[std::string(name)] = std::string(embeddedTemplate(name));
  if (!dir.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".mustache") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      t.sources_[entry.path().filename().string()] = text.str();
    }
    if (ec) return templateError("notify.templates_dir: cannot read " + dir + ": " + ec.message());
  }
  for (const auto& [name, source] : t.sources_) {
    mu::mustache m{source};
    if (!m.is_valid()) return templateError("template " + name + ": " + m.error_message());
  }
  return t;
}

Result<std::string> Templates::render(const std::string& name, const json::object& data, bool json_escape) const {
  auto it = sources_.find(name);
  if (it == sources_.end() || it->second.empty()) return templateError("no template " + name);
  mu::mustache m{it->second};
  if (json_escape) {
    m.set_custom_escape(jsonEscape);
  } else {
    m.set_custom_escape([](const std::string& s) { return s; });
  }
  std::string out = m.render(toData(data));
  if (!m.is_valid()) return templateError("template " + name + ": " + m.error_message());
  return out;
}

Result<Rendered> Templates::email(const std::string& name, const json::object& data) const {
  auto text = render(name, data, false);
  if (!text) return text.error();
  Rendered r;
  const auto end = text->find('\n');
  r.subject = text->substr(0, end);
  if (end != std::string::npos) {
    std::size_t body = end + 1;
    while (body < text->size() && text->at(body) == '\n') ++body;
    r.body = text->substr(body);
  }
  if (r.subject.empty()) return templateError("template " + name + ": the first line (the subject) is empty");
  return r;
}

Result<std::string> Templates::text(const std::string& name, const json::object& data) const {
  auto t = render(name, data, false);
  if (!t) return t;
  while (!t->empty() && (t->back() == '\n' || t->back() == ' ')) t->pop_back();
  return t;
}

Result<std::string> Templates::jsonBody(const std::string& name, const json::object& data) const {
  return render(name, data, true);
}

}  // namespace vkhid::notify
