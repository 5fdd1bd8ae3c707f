// Reading and writing SEV OVV 1.5 packages: bytes <-> validated DOM <-> typed model.
// Every inbound package goes through parseAndValidate before anything reads it.
#pragma once

#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"
#include "gateway/sev/model.hpp"
#include "gateway/sev/xml.hpp"

namespace vkhid::sev {

// Hardened parse, then the checks that give precise SEV codes (root, standart, version, msg_type),
// then the schema, then the zones each msg_type needs.
Result<XmlDocPtr> parseAndValidate(std::string_view bytes, const ParseLimits& limits = {});

// The model of a validated document. Fails only on what the schema cannot express (base64 content).
Result<Header> readHeader(xmlDoc* doc);

// parseAndValidate + readHeader.
Result<Header> parsePackage(std::string_view bytes, const ParseLimits& limits = {});

// Model -> DOM (to be sealed) -> bytes. The written XML validates against the same schema.
XmlDocPtr buildDocument(const Header& header);
std::string writePackage(const Header& header);

// The zones each msg_type must carry (DESIGN §5). Error: ZoneMissing or ZoneNotAllowed.
Status checkZones(const Header& header);

}  // namespace vkhid::sev
