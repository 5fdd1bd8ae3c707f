// The SOAP 1.1 messages of the SEV OVV 2.0 hub (interop/sev-ovv-1.5/wsdl/sev-hub-2.0.wsdl.xml), written
// and read by hand: document/literal, operation elements in http://tempuri.org/, data-contract members
// (Identity, MessageInfo, SessionInfo) in the Cover.Contracts namespace as WCF puts them on the wire.
// Reading matches local names only, so the WSDL's own namespace inconsistencies ("http://tempuri.org"
// against "http://tempuri.org/") do not matter. Shared by the hub client and `vkhid sim hub`.
#pragma once

#include <libxml/tree.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"
#include "gateway/sev/xml.hpp"

namespace vkhid::adapters::sevhub {

inline constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kOperationNs = "http://tempuri.org/";
inline constexpr const char* kContractNs = "http://schemas.datacontract.org/2004/07/Cover.Contracts";

struct Identity {
  std::string system_id, password;
};

struct CommunicationError {
  int code = 0;
  std::string text;
};

// SessionStatus: Opened, InProgress, Processed, Failed, Delivered. SessionType: Upload, Download.
struct SessionInfo {
  std::optional<CommunicationError> error;
  long long max_part_size = 0;
  std::string message_id;
  long long message_size = 0;
  long long session_id = 0;
  std::string status;
  long long transferred = 0;
  std::string type;
};

// MessageType: Notification, Document, DocumentAddition, ReplayDocument, ReplayDocumentAddition.
struct MessageInfo {
  std::string creation_date;
  std::string creator = "Sed";
  std::string format = "Plain";
  std::string from_org_id, from_sys_id, message_id;
  long long session_id = 0, size = 0;
  std::string to_org_id, to_sys_id, type;
};

// The hub's message type for a SEV OVV msg_type (0 notification, 1 document, 2 additions, 3 reply,
// 4 additions to a reply).
std::string messageTypeFor(int msg_type);

std::string soapAction(const std::string& operation);  // "http://tempuri.org/ICoverIntegrationService/<op>"

// <s:Envelope><s:Body><{operation} xmlns=tempuri xmlns:a=contracts>{inner}</…></s:Body></s:Envelope>
std::string envelope(const std::string& operation, const std::string& inner);
// A SOAP fault: faultcode s:Client or s:Server.
std::string fault(bool client, const std::string& text);

// Members, each as the named parameter element with contract-namespace children.
std::string identityXml(const Identity& id);
std::string sessionInfoXml(const std::string& element, const SessionInfo& s);
std::string messageInfoXml(const std::string& element, const MessageInfo& m);
std::string element(const std::string& name, const std::string& text);

// A parsed SOAP message: the first element in the Body (the operation, its response, or Fault).
struct SoapMessage {
  sev::XmlDocPtr doc;
  xmlNode* body_element = nullptr;
  std::string name() const;  // local name of body_element
};
// Parses untrusted bytes with the package parser's limits (no DTDs or entities). Code "sevhub.soap".
Result<SoapMessage> parseSoap(std::string_view bytes, std::size_t max_bytes);

xmlNode* child(xmlNode* parent, std::string_view local_name);
std::string childText(xmlNode* parent, std::string_view local_name);
long long childInt(xmlNode* parent, std::string_view local_name);

Identity readIdentity(xmlNode* n);
SessionInfo readSessionInfo(xmlNode* n);
MessageInfo readMessageInfo(xmlNode* n);

}  // namespace vkhid::adapters::sevhub
