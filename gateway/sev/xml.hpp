// libxml2 made safe for packages from outside: owning handles, a parser that refuses DTDs,
// entities, excessive size and depth before building anything large, and schema validation against
// the schemas embedded in the binary (no file or network access, ever).
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"

namespace vkhid::sev {

struct XmlDocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

struct ParseLimits {
  std::size_t max_bytes = std::size_t{50} << 20;  // a package over this is refused unread
  int max_depth = 64;                             // SEV OVV needs about 10
  // Counted in one pass over the bytes before libxml2 builds anything: its attribute handling costs
  // the square of an element's attributes (100,000 of them held a thread for five minutes).
  int max_attributes_per_element = 64;      // SEV OVV's Header has 17
  int max_attributes = 20000;               // in the whole package
  int max_namespace_declarations = 256;     // xmlns and xmlns:p in the whole package
  std::size_t max_name_bytes = 256;         // an element's or attribute's name
  std::size_t max_attribute_bytes = 65536;  // an attribute's value
};

// Call once before any other libxml2 use (idempotent, thread-safe): initialises the library and
// replaces its external entity loader with one that serves only our embedded schemas.
void initXml();

// Parses untrusted bytes. Errors carry a SEV code (sev/errors.hpp): Malformed, DtdForbidden,
// TooLarge, TooDeep, BadEncoding, LimitsExceeded. A UTF-8 byte-order mark is accepted.
Result<XmlDocPtr> parseUntrusted(std::string_view bytes, const ParseLimits& limits = {});

// Validates against the embedded SEV OVV 1.5 schema (with Vkhid's appeal expansion).
// Error: SchemaInvalid, naming the line and what the schema expected.
Status validateEnvelope(xmlDoc* doc);

// The text of an embedded schema by file name ("sev-ovv-1.5.xsd", "vkhid-appeal-1.xsd"); empty if unknown.
std::string_view embeddedSchema(std::string_view name);

// Serialises a document as UTF-8 with an XML declaration and no byte-order mark.
std::string serialize(xmlDoc* doc);

// Small helpers over libxml2's unsigned-char strings.
inline const xmlChar* xc(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
inline std::string_view sv(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

// An attribute without a namespace; nullopt when the element has none of that name.
std::optional<std::string> attribute(const xmlNode* n, const char* name);

}  // namespace vkhid::sev
