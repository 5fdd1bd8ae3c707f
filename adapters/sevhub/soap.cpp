#include "adapters/sevhub/soap.hpp"

#include <cstdlib>

#include "gateway/domain/text.hpp"

namespace vkhid::adapters::sevhub {

std::string messageTypeFor(int msg_type) {
  switch (msg_type) {
    case 0: return "Notification";
    case 1: return "Document";
    case 2: return "DocumentAddition";
    case 3: return "ReplayDocument";
    case 4: return "ReplayDocumentAddition";
    default: return "Document";
  }
}

std::string soapAction(const std::string& operation) {
  return std::string(kOperationNs) + "ICoverIntegrationService/" + operation;
}

std::string envelope(const std::string& operation, const std::string& inner) {
  return std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"") + kSoapNs + "\"><s:Body><" +
         operation + " xmlns=\"" + kOperationNs + "\" xmlns:a=\"" + kContractNs + "\">" + inner + "</" + operation +
         "></s:Body></s:Envelope>";
}

std::string fault(bool client, const std::string& text) {
  return std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"") + kSoapNs +
         "\"><s:Body><s:Fault><faultcode>" + (client ? "s:Client" : "s:Server") + "</faultcode><faultstring>" +
         escapeMarkup(text) + "</faultstring></s:Fault></s:Body></s:Envelope>";
}

std::string element(const std::string& name, const std::string& text) {
  return "<" + name + ">" + escapeMarkup(text) + "</" + name + ">";
}

namespace {
std::string member(const char* name, const std::string& text) {
  return std::string("<a:") + name + ">" + escapeMarkup(text) + "</a:" + name + ">";
}
}  // namespace

std::string identityXml(const Identity& id) {
  return "<identity>" + member("Password", id.password) + member("SystemId", id.system_id) + "</identity>";
}

std::string sessionInfoXml(const std::string& element_name, const SessionInfo& s) {
  std::string out = "<" + element_name + ">";
  if (s.error) {
    out += "<a:Error>" + member("Code", std::to_string(s.error->code)) + member("Text", s.error->text) + "</a:Error>";
  }
  out += member("MaxPartSize", std::to_string(s.max_part_size)) + member("MessageId", s.message_id) +
         member("MessageSize", std::to_string(s.message_size)) + member("SessionId", std::to_string(s.session_id));
  if (!s.status.empty()) out += member("Status", s.status);
  out += member("TransferredBytesCount", std::to_string(s.transferred));
  if (!s.type.empty()) out += member("Type", s.type);
  return out + "</" + element_name + ">";
}

std::string messageInfoXml(const std::string& element_name, const MessageInfo& m) {
  return "<" + element_name + ">" + member("CreationDate", m.creation_date) + member("Creator", m.creator) +
         member("Format", m.format) + member("FromOrgId", m.from_org_id) + member("FromSysId", m.from_sys_id) +
         member("MessageId", m.message_id) + member("SessionId", std::to_string(m.session_id)) +
         member("Size", std::to_string(m.size)) + member("ToOrgId", m.to_org_id) + member("ToSysId", m.to_sys_id) +
         member("Type", m.type) + "</" + element_name + ">";
}

std::string SoapMessage::name() const { return body_element ? std::string(sev::sv(body_element->name)) : ""; }

xmlNode* child(xmlNode* parent, std::string_view local_name) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* c = parent->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && sev::sv(c->name) == local_name) return c;
  }
  return nullptr;
}

std::string childText(xmlNode* parent, std::string_view local_name) {
  xmlNode* c = child(parent, local_name);
  if (c == nullptr) return {};
  xmlChar* t = xmlNodeGetContent(c);
  std::string out(sev::sv(t));
  xmlFree(t);
  return out;
}

long long childInt(xmlNode* parent, std::string_view local_name) {
  std::string t = childText(parent, local_name);
  return t.empty() ? 0 : std::strtoll(t.c_str(), nullptr, 10);
}

Result<SoapMessage> parseSoap(std::string_view bytes, std::size_t max_bytes) {
  sev::ParseLimits limits;
  limits.max_bytes = max_bytes;
  auto doc = sev::parseUntrusted(bytes, limits);
  if (!doc) return Error::invalid("sevhub.soap", "not a SOAP message: " + doc.error().message);
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || sev::sv(root->name) != "Envelope") {
    return Error::invalid("sevhub.soap", "not a SOAP message: the root is not Envelope");
  }
  xmlNode* body = child(root, "Body");
  xmlNode* first = nullptr;
  for (xmlNode* c = body ? body->children : nullptr; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) {
      first = c;
      break;
    }
  }
  if (first == nullptr) return Error::invalid("sevhub.soap", "the SOAP Body is empty");
  SoapMessage m;
  m.doc = std::move(doc).value();
  m.body_element = first;
  return m;
}

Identity readIdentity(xmlNode* n) { return {childText(n, "SystemId"), childText(n, "Password")}; }

SessionInfo readSessionInfo(xmlNode* n) {
  SessionInfo s;
  if (n == nullptr) return s;
  if (xmlNode* e = child(n, "Error"))
    s.error = CommunicationError{static_cast<int>(childInt(e, "Code")), childText(e, "Text")};
  s.max_part_size = childInt(n, "MaxPartSize");
  s.message_id = childText(n, "MessageId");
  s.message_size = childInt(n, "MessageSize");
  s.session_id = childInt(n, "SessionId");
  s.status = childText(n, "Status");
  s.transferred = childInt(n, "TransferredBytesCount");
  s.type = childText(n, "Type");
  return s;
}

MessageInfo readMessageInfo(xmlNode* n) {
  MessageInfo m;
  if (n == nullptr) return m;
  m.creation_date = childText(n, "CreationDate");
  m.creator = childText(n, "Creator");
  m.format = childText(n, "Format");
  m.from_org_id = childText(n, "FromOrgId");
  m.from_sys_id = childText(n, "FromSysId");
  m.message_id = childText(n, "MessageId");
  m.session_id = childInt(n, "SessionId");
  m.size = childInt(n, "Size");
  m.to_org_id = childText(n, "ToOrgId");
  m.to_sys_id = childText(n, "ToSysId");
  m.type = childText(n, "Type");
  return m;
}

}  // namespace vkhid::adapters::sevhub
