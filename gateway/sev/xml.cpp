#include "gateway/sev/xml.hpp"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include <mutex>
#include <optional>

#include "gateway/domain/text.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::sev {
namespace {

// Serves our embedded schemas to the schema parser (xs:import); refuses everything else: no DTD, no
// external entity, no file, no URL is ever fetched by any libxml2 call in this process.
xmlParserInputPtr embeddedOnlyLoader(const char* url, const char* /*id*/, xmlParserCtxtPtr ctxt) {
  if (url != nullptr) {
    std::string_view name(url);
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
    auto text = embeddedSchema(name);
    if (!text.empty()) {
      // The view is a whole NUL-terminated string literal embedded in the binary.
      return xmlNewStringInputStream(ctxt, reinterpret_cast<const xmlChar*>(text.data()));
    }
  }
  return nullptr;
}

struct ParseState {
  bool dtd_seen = false;
  bool too_deep = false;
  int max_depth = 64;
  startElementNsSAX2Func start_element = nullptr;
};

void refuseDtd(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<ParseState*>(ctxt->_private)->dtd_seen = true;
  xmlStopParser(ctxt);
}

void refuseEntity(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<ParseState*>(ctxt->_private)->dtd_seen = true;
  xmlStopParser(ctxt);
}

void startElementWithDepthLimit(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri,
                                int nb_namespaces, const xmlChar** namespaces, int nb_attributes, int nb_defaulted,
                                const xmlChar** attributes) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  auto* state = static_cast<ParseState*>(ctxt->_private);
  if (ctxt->nameNr > state->max_depth) {
    state->too_deep = true;
    xmlStopParser(ctxt);
    return;
  }
  state->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted, attributes);
}

struct ParserCtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct SchemaDeleter {
  void operator()(xmlSchema* s) const { xmlSchemaFree(s); }
};
struct SchemaParserDeleter {
  void operator()(xmlSchemaParserCtxt* c) const { xmlSchemaFreeParserCtxt(c); }
};
struct SchemaValidDeleter {
  void operator()(xmlSchemaValidCtxt* c) const { xmlSchemaFreeValidCtxt(c); }
};

// The compiled envelope schema: built once, shared read-only by every validation.
xmlSchema* envelopeSchema() {
  static std::unique_ptr<xmlSchema, SchemaDeleter> schema = [] {
    initXml();
    auto text = embeddedSchema("sev-ovv-1.5.xsd");
    std::unique_ptr<xmlSchemaParserCtxt, SchemaParserDeleter> pctx(
        xmlSchemaNewMemParserCtxt(text.data(), static_cast<int>(text.size())));
    return std::unique_ptr<xmlSchema, SchemaDeleter>(xmlSchemaParse(pctx.get()));
  }();
  return schema.get();
}

void collectValidationError(void* user, xmlErrorPtr error) {
  auto* first = static_cast<std::string*>(user);
  if (!first->empty() || error == nullptr) return;
  *first = "line " + std::to_string(error->line) + ": " + oneLine(error->message);
}

void ignoreErrors(void*, xmlErrorPtr) {}

// One pass over the bytes, before libxml2 sees them, counting what its parser would pay for more than
// once: attributes per element and in all, namespace declarations, the length of names and values.
// Linear in the input whatever it holds. Only limits are checked here; whether the markup is well formed
// is libxml2's to say (the scan stops quietly at anything it does not follow).
std::optional<Error> overLimits(std::string_view b, const ParseLimits& limits) {
  const std::size_t n = b.size();
  std::size_t i = 0;
  int attributes = 0, namespaces = 0;
  auto at = [&](std::size_t k) { return " at byte " + std::to_string(k); };
  auto skipTo = [&](std::string_view end) {
    auto found = b.find(end, i);
    i = found == std::string_view::npos ? n : found + end.size();
  };
  auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  auto nameEnd = [&](std::size_t k) {
    while (k < n && !isSpace(b[k]) && b[k] != '=' && b[k] != '>' && b[k] != '/') ++k;
    return k;
  };
  while (i < n) {
    auto lt = b.find('<', i);
    if (lt == std::string_view::npos) break;
    i = lt + 1;
    if (b.substr(lt, 4) == "<!--") {
      skipTo("-->");
    } else if (b.substr(lt, 9) == "<![CDATA[") {
      skipTo("]]>");
    } else if (i < n && (b[i] == '?' || b[i] == '!' || b[i] == '/')) {
      skipTo(">");
    } else {
      // A start tag: its name, then attributes until > or />.
      std::size_t end = nameEnd(i);
      if (end - i > limits.max_name_bytes) {
        return sevError(SevError::LimitsExceeded,
                        "an element name longer than " + std::to_string(limits.max_name_bytes) + " bytes" + at(lt));
      }
      i = end;
      int here = 0;
      while (i < n) {
        while (i < n && isSpace(b[i])) ++i;
        if (i >= n || b[i] == '>' || b[i] == '/') break;
        std::size_t name_start = i;
        i = nameEnd(i);
        if (i == name_start) return std::nullopt;  // not markup we follow: libxml2 will say
        if (i - name_start > limits.max_name_bytes) {
          return sevError(
              SevError::LimitsExceeded,
              "an attribute name longer than " + std::to_string(limits.max_name_bytes) + " bytes" + at(name_start));
        }
        std::string_view name = b.substr(name_start, i - name_start);
        while (i < n && isSpace(b[i])) ++i;
        if (i >= n || b[i] != '=') return std::nullopt;
        ++i;
        while (i < n && isSpace(b[i])) ++i;
        if (i >= n || (b[i] != '"' && b[i] != '\'')) return std::nullopt;
        auto close = b.find(b[i], i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        if (close - i - 1 > limits.max_attribute_bytes) {
          return sevError(SevError::LimitsExceeded, "an attribute value longer than " +
                                                        std::to_string(limits.max_attribute_bytes) + " bytes" +
                                                        at(name_start));
        }
        i = close + 1;
        if (++here > limits.max_attributes_per_element) {
          return sevError(SevError::LimitsExceeded, "an element with more than " +
                                                        std::to_string(limits.max_attributes_per_element) +
                                                        " attributes" + at(lt));
        }
        if (++attributes > limits.max_attributes) {
          return sevError(SevError::LimitsExceeded,
                          "more than " + std::to_string(limits.max_attributes) + " attributes in all" + at(name_start));
        }
        if ((name == "xmlns" || name.starts_with("xmlns:")) && ++namespaces > limits.max_namespace_declarations) {
          return sevError(SevError::LimitsExceeded, "more than " + std::to_string(limits.max_namespace_declarations) +
                                                        " namespace declarations" + at(name_start));
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

void initXml() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(embeddedOnlyLoader);
  });
}

Result<XmlDocPtr> parseUntrusted(std::string_view bytes, const ParseLimits& limits) {
  initXml();
  if (bytes.size() > limits.max_bytes) {
    return sevError(SevError::TooLarge,
                    std::to_string(bytes.size()) + " bytes, the limit is " + std::to_string(limits.max_bytes));
  }
  if (auto over = overLimits(bytes, limits)) return *over;
  std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt) return Error::internal("xml.alloc", "xml: out of memory");
  ParseState state;
  state.max_depth = limits.max_depth;
  state.start_element = ctxt->sax->startElementNs;
  ctxt->_private = &state;
  ctxt->sax->internalSubset = refuseDtd;
  ctxt->sax->externalSubset = refuseDtd;
  ctxt->sax->entityDecl = refuseEntity;
  ctxt->sax->startElementNs = startElementWithDepthLimit;
  ctxt->sax->serror = ignoreErrors;  // errors are read from the context below, never printed

  // HUGE only lifts the 10 MB text-node limit (large base64 attachments); size and depth are ours.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE;
  XmlDocPtr doc(
      xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()), "package.xml", nullptr, options));
  if (state.dtd_seen) return sevError(SevError::DtdForbidden, "the package declares a DOCTYPE or entities");
  if (state.too_deep) {
    return sevError(SevError::TooDeep, "more than " + std::to_string(limits.max_depth) + " levels");
  }
  if (!doc || !ctxt->wellFormed) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string where = e ? "line " + std::to_string(e->line) + ": " + oneLine(e->message) : "empty input";
    if (e && (e->code == XML_ERR_INVALID_CHAR || e->code == XML_ERR_INVALID_ENCODING ||
              e->code == XML_ERR_UNSUPPORTED_ENCODING || e->code == XML_I18N_CONV_FAILED)) {
      return sevError(SevError::BadEncoding, where);
    }
    return sevError(SevError::Malformed, where);
  }
  if (doc->encoding != nullptr && xmlStrcasecmp(doc->encoding, xc("UTF-8")) != 0) {
    return sevError(SevError::BadEncoding, "declared encoding " + std::string(sv(doc->encoding)));
  }
  return doc;
}

Status validateEnvelope(xmlDoc* doc) {
  xmlSchema* schema = envelopeSchema();
  if (schema == nullptr) return Error::internal("xml.schema", "xml: the embedded schema does not compile");
  std::unique_ptr<xmlSchemaValidCtxt, SchemaValidDeleter> vctx(xmlSchemaNewValidCtxt(schema));
  std::string first_error;
  xmlSchemaSetValidStructuredErrors(vctx.get(), collectValidationError, &first_error);
  int rc = xmlSchemaValidateDoc(vctx.get(), doc);
  if (rc == 0) return {};
  return sevError(SevError::SchemaInvalid, first_error.empty() ? "validation failed" : first_error);
}

std::string serialize(xmlDoc* doc) {
  xmlChar* mem = nullptr;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 0);
  std::string out(reinterpret_cast<const char*>(mem), static_cast<std::size_t>(size));
  xmlFree(mem);
  return out;
}

std::optional<std::string> attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetNoNsProp(n, xc(name));
  if (v == nullptr) return std::nullopt;
  std::string s(sv(v));
  xmlFree(v);
  return s;
}

}  // namespace vkhid::sev
