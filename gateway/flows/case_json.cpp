#include "gateway/flows/case_json.hpp"

#include <boost/json.hpp>

#include "gateway/domain/base64.hpp"
#include "gateway/domain/contact.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

// Класифікатор звернень, 3. Вид: 3.3 скарга (a complaint).
constexpr const char* kComplaintType = "3.3";

class CaseReader {
 public:
  explicit CaseReader(std::vector<FieldError>& errors) : errors_(errors) {}

  void error(std::string field, std::string expected) { errors_.push_back({std::move(field), std::move(expected)}); }

  std::optional<std::string> string(const json::object& o, const char* key, const std::string& path, bool required,
                                    std::size_t max = 1000) {
    auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      if (required) error(path + "/" + key, "a string (required)");
      return std::nullopt;
    }
    if (!v->is_string()) {
      error(path + "/" + key, "a string");
      return std::nullopt;
    }
    std::string s(v->as_string());
    if (s.size() > max) {
      error(path + "/" + key, "at most " + std::to_string(max) + " bytes");
      return std::nullopt;
    }
    // Refused here, naming the field — not by the database later, as a retryable 503 with the value in
    // the log.
    if (!isCleanText(s)) {
      error(path + "/" + key, "UTF-8 text without NUL or other control characters");
      return std::nullopt;
    }
    return s;
  }

  bool boolean(const json::object& o, const char* key, const std::string& path, bool fallback) {
    auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return fallback;
    if (!v->is_bool()) {
      error(path + "/" + key, "true or false");
      return fallback;
    }
    return v->as_bool();
  }

  const json::object* object(const json::object& o, const char* key, const std::string& path, bool required) {
    auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      if (required) error(path + "/" + key, "an object (required)");
      return nullptr;
    }
    if (!v->is_object()) {
      error(path + "/" + key, "an object");
      return nullptr;
    }
    return &v->as_object();
  }

  void code(const json::object& o, const char* key, const std::string& path, bool (*valid)(std::string_view),
            const char* expected, std::optional<std::string>& out) {
    out = string(o, key, path, false, 16);
    if (out && !valid(*out)) {
      error(path + "/" + key, expected);
      out.reset();
    }
  }

 private:
  std::vector<FieldError>& errors_;
};

// The parts of a case, each read with its field paths in errors.
void readApplicant(CaseReader& r, const json::object& o, domain::Applicant& applicant) {
  if (const auto* a = r.object(o, "applicant", "", true)) {
    applicant.anonymous = r.boolean(*a, "anonymous", "/applicant", false);
    applicant.collective = r.boolean(*a, "collective", "/applicant", false);
    bool named = !applicant.anonymous;
    applicant.surname = r.string(*a, "surname", "/applicant", named, 200).value_or("");
    applicant.first_name = r.string(*a, "first_name", "/applicant", named, 200).value_or("");
    applicant.patronymic = r.string(*a, "patronymic", "/applicant", false, 200).value_or("");
    applicant.address = r.string(*a, "address", "/applicant", false, 500).value_or("");
    applicant.email = r.string(*a, "email", "/applicant", false, 200).value_or("");
    applicant.phone = r.string(*a, "phone", "/applicant", false, 50).value_or("");
    if (!applicant.email.empty() && !domain::validEmail(applicant.email)) {
      r.error("/applicant/email", "an e-mail address such as name@example.org");
    }
    if (!applicant.phone.empty() && !domain::normalisePhone(applicant.phone)) {
      r.error("/applicant/phone", "a phone number such as +380501234567 or 0501234567");
    }
  }
}

void readClassification(CaseReader& r, const json::object& o, domain::ClassificationCodes& cl) {
  if (const auto* k = r.object(o, "classification", "", false)) {
    const auto code = &isClassifierCode;
    const char* code_text = "a classifier code such as 1.1 or 7.10";
    r.code(*k, "form_of_receipt", "/classification", code, code_text, cl.form_of_receipt);
    r.code(*k, "sign", "/classification", code, code_text, cl.sign);
    r.code(*k, "type", "/classification", code, code_text, cl.type);
    r.code(*k, "subject", "/classification", code, code_text, cl.subject);
    r.code(*k, "applicant_category", "/classification", code, code_text, cl.applicant_category);
    r.code(*k, "social_status", "/classification", code, code_text, cl.social_status);
    r.code(*k, "topic", "/classification", isTopicCode, "a topic code such as 004", cl.topic);
  }
}

void readAttachments(CaseReader& r, const json::object& o, const CaseLimits& limits,
                     std::vector<domain::Attachment>& attachments) {
  if (auto* atts = o.if_contains("attachments"); atts != nullptr && !atts->is_null()) {
    if (!atts->is_array()) {
      r.error("/attachments", "an array");
    } else if (atts->as_array().size() > limits.max_attachments) {
      r.error("/attachments", "at most " + std::to_string(limits.max_attachments) + " attachments");
    } else {
      std::size_t i = 0;
      for (const auto& item : atts->as_array()) {
        std::string path = "/attachments/" + std::to_string(i++);
        if (!item.is_object()) {
          r.error(path, "an object");
          continue;
        }
        domain::Attachment a;
        a.file_name = r.string(item.as_object(), "file_name", path, true, 255).value_or("");
        a.media_type = r.string(item.as_object(), "media_type", path, true, 100).value_or("");
        auto b64 = r.string(item.as_object(), "content_base64", path, true, limits.max_attachment_bytes * 4 / 3 + 4);
        if (b64) {
          if (auto bytes = base64Decode(*b64)) {
            a.content = std::move(*bytes);
          } else {
            r.error(path + "/content_base64", "base64 text");
          }
        }
        attachments.push_back(std::move(a));
      }
    }
  }
}

// A violence report's facts for the journal (annex 6 to the Procedure of CMU resolution No 658).
void readViolence(CaseReader& r, const json::object& o, domain::Case& c) {
  const auto* v = r.object(o, "violence", "", false);
  if (v == nullptr) return;
  if (c.kind != domain::CaseKind::ViolenceReport) {
    r.error("/violence", "only on a violence report");
    return;
  }
  static const std::vector<std::string> kForms = {"physical", "sexual", "psychological", "economic"};
  for (const auto& kv : *v) {
    const std::string key(kv.key());
    if (key != "forms" && key != "victim" && key != "offender" && key != "child_involved") {
      r.error("/violence/" + key, "no such field");
    }
  }
  if (const auto* forms = v->if_contains("forms"); forms != nullptr && !forms->is_null()) {
    bool ok = forms->is_array() && forms->as_array().size() <= kForms.size();
    for (std::size_t i = 0; ok && i < forms->as_array().size(); ++i) {
      const auto& f = forms->as_array()[i];
      ok = f.is_string() && std::find(kForms.begin(), kForms.end(), std::string(f.as_string())) != kForms.end();
      if (ok) c.violence.forms.emplace_back(f.as_string());
    }
    if (!ok) {
      c.violence.forms.clear();
      r.error("/violence/forms", "an array of physical, sexual, psychological, economic");
    }
  }
  c.violence.victim = r.string(*v, "victim", "/violence", false, 1000).value_or("");
  c.violence.offender = r.string(*v, "offender", "/violence", false, 1000).value_or("");
  c.violence.child_involved = r.boolean(*v, "child_involved", "/violence", false);
}

void readUrgency(CaseReader& r, const json::object& o, domain::Urgency& urgency) {
  if (auto u = r.string(o, "urgency", "", false)) {
    if (*u == "none")
      urgency = domain::Urgency::None;
    else if (*u == "urgent")
      urgency = domain::Urgency::Urgent;
    else if (*u == "threat_to_life")
      urgency = domain::Urgency::ThreatToLife;
    else
      r.error("/urgency", "one of none, urgent, threat_to_life");
  }
}

void readDeadlines(CaseReader& r, const json::object& o, std::vector<domain::Deadline>& deadlines) {
  if (auto* dl = o.if_contains("deadlines"); dl != nullptr && dl->is_array()) {
    std::size_t i = 0;
    for (const auto& item : dl->as_array()) {
      std::string path = "/deadlines/" + std::to_string(i++);
      if (!item.is_object()) {
        r.error(path, "an object");
        continue;
      }
      const auto& d = item.as_object();
      deadlines.push_back({r.string(d, "kind", path, true).value_or(""), r.string(d, "due", path, true).value_or(""),
                           r.string(d, "rule", path, true).value_or("")});
    }
  }
}

}  // namespace

ParsedCase parseCaseJson(std::string_view text, const CaseLimits& limits) {
  ParsedCase out;
  auto& c = out.value;
  CaseReader r(out.errors);
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value doc = json::parse(text, ec, {}, options);
  if (ec) {
    r.error("", "a JSON object (" + ec.message() + ")");
    return out;
  }
  if (!doc.is_object()) {
    r.error("", "a JSON object");
    return out;
  }
  const auto& o = doc.as_object();
  static const std::vector<std::string> known = {"kind",
                                                 "applicant",
                                                 "consent",
                                                 "classification",
                                                 "text",
                                                 "attachments",
                                                 "channel",
                                                 "addressee_org_id",
                                                 "urgency",
                                                 "priority",
                                                 "id",
                                                 "ucc_number",
                                                 "registered_on",
                                                 "received_at",
                                                 "deadlines",
                                                 "complained_of_org_id",
                                                 "no_further_study",
                                                 "handling_minutes",
                                                 "violence"};
  for (const auto& kv : o) {
    if (std::find(known.begin(), known.end(), std::string(kv.key())) == known.end()) {
      r.error("/" + std::string(kv.key()), "no such field");
    }
  }

  if (auto kind = r.string(o, "kind", "", true)) {
    if (auto k = domain::caseKindFromName(*kind)) {
      c.kind = *k;
    } else {
      r.error("/kind", "one of appeal, info_request, violence_report");
    }
  }
  readApplicant(r, o, c.applicant);
  if (const auto* k = r.object(o, "consent", "", false)) {
    c.consent.disclose_identity = r.boolean(*k, "disclose_identity", "/consent", false);
    c.consent.process_personal_data = r.boolean(*k, "process_personal_data", "/consent", false);
    // How the applicant agreed to be told of their case (issue 27): the address must be there.
    c.consent.notify = r.string(*k, "notify", "/consent", false, 10).value_or("none");
    if (c.consent.notify == "email" && c.applicant.email.empty()) {
      r.error("/applicant/email", "an e-mail address: the applicant agreed to notices by e-mail");
    } else if (c.consent.notify == "sms" && c.applicant.phone.empty()) {
      r.error("/applicant/phone", "a phone number: the applicant agreed to notices by SMS");
    } else if (c.consent.notify != "none" && c.consent.notify != "email" && c.consent.notify != "sms") {
      r.error("/consent/notify", "one of none, email, sms");
    }
  }
  readClassification(r, o, c.classification);
  c.text = r.string(o, "text", "", true, limits.max_text_bytes).value_or("");
  readAttachments(r, o, limits, c.attachments);
  c.channel = r.string(o, "channel", "", true, 100).value_or("");
  c.addressee_org_id = r.string(o, "addressee_org_id", "", false, 20).value_or("");
  if (!c.addressee_org_id.empty() && !isEdrpou(c.addressee_org_id)) {
    r.error("/addressee_org_id", "an EDRPOU code (8 to 10 digits)");
  }
  c.complained_of_org_id = r.string(o, "complained_of_org_id", "", false, 20).value_or("");
  if (!c.complained_of_org_id.empty()) {
    if (!isEdrpou(c.complained_of_org_id)) {
      r.error("/complained_of_org_id", "an EDRPOU code (8 to 10 digits)");
    } else if (c.kind != domain::CaseKind::Appeal ||
               (c.classification.type && *c.classification.type != kComplaintType)) {
      r.error("/complained_of_org_id", "only on a complaint: an appeal of classification type 3.3 (скарга)");
    }
  }
  readUrgency(r, o, c.urgency);
  c.priority = r.boolean(o, "priority", "", false);
  c.no_further_study = r.boolean(o, "no_further_study", "", false);
  if (c.no_further_study && c.kind != domain::CaseKind::Appeal) {
    r.error("/no_further_study", "only on an appeal (its 15-day term, Law 393 art. 20)");
  }
  if (const auto* m = o.if_contains("handling_minutes"); m != nullptr && !m->is_null()) {
    if (!m->is_int64() || m->as_int64() < 0 || m->as_int64() > 1440) {
      r.error("/handling_minutes", "whole minutes, 0 to 1440");
    } else {
      c.handling_minutes = static_cast<int>(m->as_int64());
    }
  }
  readViolence(r, o, c);
  // Set by the gateway at registration; accepted here so a registered case can be re-packaged.
  c.id = r.string(o, "id", "", false, 64).value_or("");
  c.ucc_number = r.string(o, "ucc_number", "", false, 64).value_or("");
  c.registered_on = r.string(o, "registered_on", "", false, 10).value_or("");
  c.received_at = r.string(o, "received_at", "", false, 40).value_or("");
  if (!c.received_at.empty() && !parseIsoDateTime(c.received_at)) r.error("/received_at", "an ISO 8601 date-time");
  readDeadlines(r, o, c.deadlines);
  return out;
}

std::string caseToJson(const domain::Case& c) {
  json::object o{{"kind", domain::caseKindName(c.kind)}};
  json::object a;
  if (c.applicant.anonymous) a["anonymous"] = true;
  if (c.applicant.collective) a["collective"] = true;
  auto put = [](json::object& to, const char* key, const std::string& v) {
    if (!v.empty()) to[key] = v;
  };
  put(a, "surname", c.applicant.surname);
  put(a, "first_name", c.applicant.first_name);
  put(a, "patronymic", c.applicant.patronymic);
  put(a, "address", c.applicant.address);
  put(a, "email", c.applicant.email);
  put(a, "phone", c.applicant.phone);
  o["applicant"] = std::move(a);
  o["consent"] = json::object{{"disclose_identity", c.consent.disclose_identity},
                              {"process_personal_data", c.consent.process_personal_data},
                              {"notify", c.consent.notify}};
  json::object k;
  const auto& cl = c.classification;
  for (const auto& [key, v] :
       {std::pair{"form_of_receipt", &cl.form_of_receipt}, std::pair{"sign", &cl.sign}, std::pair{"type", &cl.type},
        std::pair{"subject", &cl.subject}, std::pair{"applicant_category", &cl.applicant_category},
        std::pair{"social_status", &cl.social_status}, std::pair{"topic", &cl.topic}}) {
    if (*v) k[key] = **v;
  }
  if (!k.empty()) o["classification"] = std::move(k);
  o["text"] = c.text;
  if (!c.attachments.empty()) {
    json::array atts;
    for (const auto& f : c.attachments) {
      atts.push_back(json::object{
          {"file_name", f.file_name}, {"media_type", f.media_type}, {"content_base64", base64Encode(f.content)}});
    }
    o["attachments"] = std::move(atts);
  }
  o["channel"] = c.channel;
  put(o, "addressee_org_id", c.addressee_org_id);
  put(o, "complained_of_org_id", c.complained_of_org_id);
  o["urgency"] = domain::urgencyName(c.urgency);
  o["priority"] = c.priority;
  if (c.no_further_study) o["no_further_study"] = true;
  if (c.handling_minutes > 0) o["handling_minutes"] = c.handling_minutes;
  if (c.kind == domain::CaseKind::ViolenceReport && (!c.violence.forms.empty() || !c.violence.victim.empty() ||
                                                     !c.violence.offender.empty() || c.violence.child_involved)) {
    json::array forms;
    for (const auto& f : c.violence.forms) forms.emplace_back(f);
    json::object v{{"forms", std::move(forms)}, {"child_involved", c.violence.child_involved}};
    put(v, "victim", c.violence.victim);
    put(v, "offender", c.violence.offender);
    o["violence"] = std::move(v);
  }
  put(o, "received_at", c.received_at);
  return json::serialize(o);
}

}  // namespace vkhid::flows
