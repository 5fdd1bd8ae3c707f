// A package's outer checks: parsed within its limits, the root and its standard, version and message type,
// the envelope against the schema, then the zones its message type needs.
#include <libxml/tree.h>

#include "gateway/sev/codec.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::sev {

Result<Header> parsePackage(std::string_view bytes, const ParseLimits& limits) {
  auto doc = parseAndValidate(bytes, limits);
  if (!doc) return doc.error();
  auto header = readHeader(doc->get());
  if (!header) return header.error();
  if (auto s = checkZones(*header); !s) return s.error();
  return header;
}

Result<XmlDocPtr> parseAndValidate(std::string_view bytes, const ParseLimits& limits) {
  auto doc = parseUntrusted(bytes, limits);
  if (!doc) return doc.error();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || root->ns != nullptr || sv(root->name) != "Header") {
    std::string got = root ? std::string(sv(root->name)) : "nothing";
    if (root && root->ns) got += " in namespace " + std::string(sv(root->ns->href));
    return sevError(SevError::WrongRoot, "got " + got);
  }
  auto standart = attribute(root, "standart");
  if (standart != "1207") return sevError(SevError::BadStandart, "standart=\"" + standart.value_or("") + "\"");
  auto version = attribute(root, "version");
  if (version != "1.5") return sevError(SevError::BadVersion, "version=\"" + version.value_or("") + "\"");
  auto msg_type = attribute(root, "msg_type");
  if (!msg_type || msg_type->size() != 1 || (*msg_type)[0] < '0' || (*msg_type)[0] > '4') {
    return sevError(SevError::BadMsgType, "msg_type=\"" + msg_type.value_or("") + "\"");
  }
  if (auto s = validateEnvelope(doc->get()); !s) return s.error();
  return doc;
}

Status checkZones(const Header& h) {
  switch (static_cast<MsgType>(h.msg_type)) {
    case MsgType::Notification:
      if (!h.acknowledgement && !(h.expansion && h.expansion->notice)) {
        return sevError(SevError::ZoneMissing, "a notification (msg_type=0) needs Acknowledgement or a notice");
      }
      break;
    case MsgType::Document:
    case MsgType::Reply:
      if (!h.document)
        return sevError(SevError::ZoneMissing, "msg_type=" + std::to_string(h.msg_type) + " needs Document");
      break;
    case MsgType::Additions:
    case MsgType::ReplyAdditions:
      if (!h.add_documents) {
        return sevError(SevError::ZoneMissing, "msg_type=" + std::to_string(h.msg_type) + " needs AddDocuments");
      }
      break;
  }
  if (h.msg_type != 0 && h.acknowledgement) {
    return sevError(SevError::ZoneNotAllowed, "Acknowledgement belongs in a notification (msg_type=0)");
  }
  return {};
}

}  // namespace vkhid::sev
