#include "adapters/sevhub/hub_client.hpp"

#include <thread>

#include "gateway/app/digest.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::adapters::sevhub {
namespace {

constexpr std::size_t kMaxResponseBytes = std::size_t{96} << 20;
constexpr long long kDefaultPart = 1 << 20;

Error sessionError(const std::string& operation, const SessionInfo& s) {
  std::string what = s.error ? std::to_string(s.error->code) + " " + s.error->text : "status " + s.status;
  return Error::invalid("sevhub.failed", "hub " + operation + ": " + what);
}

}  // namespace

bool sameSha256(const std::string& given, std::string_view bytes) {
  auto ours = hexDecode(app::sha256Hex(bytes));
  std::string trimmed = given;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.erase(0, 1);
  // Hex in either case, or base64: the same 32 bytes.
  std::optional<std::string> theirs = trimmed.size() == 64 ? hexDecode(trimmed) : base64Decode(trimmed);
  return ours && theirs && *theirs == *ours;
}

std::string headerAttribute(std::string_view package, const std::string& name) {
  std::string_view head = package.substr(0, 8192);
  auto header = head.find("<Header");
  if (header == std::string_view::npos) return {};
  auto end = head.find('>', header);
  std::string_view tag = head.substr(header, end == std::string_view::npos ? std::string_view::npos : end - header);
  for (std::size_t at = tag.find(name); at != std::string_view::npos; at = tag.find(name, at + 1)) {
    bool starts = at > 0 && std::isspace(static_cast<unsigned char>(tag[at - 1]));
    std::size_t eq = at + name.size();
    while (eq < tag.size() && std::isspace(static_cast<unsigned char>(tag[eq]))) ++eq;
    if (!starts || eq >= tag.size() || tag[eq] != '=') continue;
    std::size_t q = eq + 1;
    while (q < tag.size() && std::isspace(static_cast<unsigned char>(tag[q]))) ++q;
    if (q >= tag.size() || (tag[q] != '"' && tag[q] != '\'')) continue;
    auto close = tag.find(tag[q], q + 1);
    if (close == std::string_view::npos) return {};
    return std::string(tag.substr(q + 1, close - q - 1));
  }
  return {};
}

Result<SoapMessage> HubClient::call(const std::string& operation, const std::string& inner) {
  vkhid::http::TlsClientOptions tls{s_.ca_file, {}, {}, {}};
  auto r = vkhid::http::post(s_.url, "text/xml; charset=utf-8", envelope(operation, inner), s_.timeout,
                             s_.url.starts_with("https:") ? &tls : nullptr,
                             {{"SOAPAction", "\"" + soapAction(operation) + "\""}});
  if (!r) return Error::unavailable("sevhub.unavailable", "hub " + operation + ": " + r.error().message);
  auto m = parseSoap(r->body, kMaxResponseBytes);
  if (!m) {
    if (r->status >= 500 || r->status == 0) {
      return Error::unavailable("sevhub.unavailable", "hub " + operation + ": HTTP " + std::to_string(r->status));
    }
    return Error::invalid("sevhub.refused",
                          "hub " + operation + ": HTTP " + std::to_string(r->status) + ", " + m.error().message);
  }
  if (m->name() == "Fault") {
    std::string code = childText(m->body_element, "faultcode");
    std::string text = childText(m->body_element, "faultstring");
    if (code.find("Client") != std::string::npos) {
      return Error::invalid("sevhub.refused", "hub " + operation + " refused: " + text);
    }
    return Error::unavailable("sevhub.unavailable", "hub " + operation + " failed: " + text);
  }
  if (r->status < 200 || r->status >= 300) {
    return Error::unavailable("sevhub.unavailable", "hub " + operation + ": HTTP " + std::to_string(r->status));
  }
  if (m->name() != operation + "Response") {
    return Error::invalid("sevhub.refused", "hub " + operation + ": unexpected answer " + m->name());
  }
  return m;
}

Result<SessionInfo> HubClient::sessionResult(const std::string& operation, const std::string& inner,
                                             const char* result) {
  auto m = call(operation, inner);
  if (!m) return m.error();
  return readSessionInfo(child(m->body_element, result));
}

Result<SessionInfo> HubClient::sessionInfo(long long session_id) {
  return sessionResult("GetSessionInfo", identityXml(s_.identity) + element("sessionId", std::to_string(session_id)),
                       "GetSessionInfoResult");
}

Result<SessionInfo> HubClient::uploadOnce(std::string_view bytes, const MessageInfo& info, const std::string& hash,
                                          std::chrono::milliseconds settle_timeout) {
  auto s = sessionResult("OpenUploadingSession",
                         identityXml(s_.identity) + messageInfoXml("messageInfo", info) + element("hash", hash),
                         "OpenUploadingSessionResult");
  if (!s) return s;
  if (s->error || s->status == "Failed") return sessionError("OpenUploadingSession", *s);
  if (s->status == "Processed" || s->status == "Delivered") return s;  // sent before: nothing to do
  long long part = s->max_part_size > 0 ? s->max_part_size : kDefaultPart;
  long long position = s->transferred;  // an opened session resumes where the hub says it stands
  const auto size = static_cast<long long>(bytes.size());
  while (position < size) {
    auto chunk =
        bytes.substr(static_cast<std::size_t>(position), static_cast<std::size_t>(std::min(part, size - position)));
    auto u = sessionResult("UploadMessageChunk",
                           identityXml(s_.identity) + element("sessionId", std::to_string(s->session_id)) +
                               element("messageChunk", base64Encode(chunk)),
                           "UploadMessageChunkResult");
    if (!u) return u;
    if (u->error || u->status == "Failed") return sessionError("UploadMessageChunk", *u);
    if (u->transferred <= position) return Error::invalid("sevhub.failed", "hub UploadMessageChunk: no progress");
    position = u->transferred;
    s = u;
  }
  // The hub checks the whole against the hash, then takes it.
  auto deadline = std::chrono::steady_clock::now() + settle_timeout;
  while (s->status != "Processed" && s->status != "Delivered") {
    if (s->error || s->status == "Failed") return sessionError("GetSessionInfo", *s);
    if (std::chrono::steady_clock::now() > deadline) {
      return Error::unavailable("sevhub.unavailable", "hub: the upload was not processed in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto id = s->session_id;
    s = sessionInfo(id);
    if (!s) return s;
  }
  return s;
}

Result<SessionInfo> HubClient::upload(std::string_view bytes, MessageInfo info,
                                      std::chrono::milliseconds settle_timeout) {
  info.size = static_cast<long long>(bytes.size());
  if (info.creation_date.empty()) info.creation_date = formatIsoUtc(std::time(nullptr));
  std::string hash = app::sha256Hex(bytes);
  Result<SessionInfo> last = Error::invalid("sevhub.failed", "hub: no attempt made");
  for (int attempt = 0; attempt < std::max(1, s_.attempts); ++attempt) {
    last = uploadOnce(bytes, info, hash, settle_timeout);
    // Only a failed session (a hash that did not match what arrived, say) is worth a new session now;
    // an unreachable hub is the caller's retry, a refusal is final.
    if (last || last.error().code != "sevhub.failed") return last;
  }
  return last;
}

Result<std::vector<MessageInfo>> HubClient::inputMessages(int count) {
  // The WSDL names this parameter with a Cyrillic "с" (сount); we send it as published.
  auto m = call("GetInputMessages", identityXml(s_.identity) + element("\xD1\x81ount", std::to_string(count)));
  if (!m) return m.error();
  std::vector<MessageInfo> out;
  xmlNode* list = child(m->body_element, "GetInputMessagesResult");
  for (xmlNode* c = list ? list->children : nullptr; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && sev::sv(c->name) == "MessageInfo") out.push_back(readMessageInfo(c));
  }
  return out;
}

Result<Downloaded> HubClient::download(const std::string& message_id) {
  Result<Downloaded> last = Error::invalid("sevhub.failed", "hub: no attempt made");
  for (int attempt = 0; attempt < std::max(1, s_.attempts); ++attempt) {
    auto s = sessionResult("OpenDownloadingSession", identityXml(s_.identity) + element("messageId", message_id),
                           "OpenDownloadingSessionResult");
    if (!s) return s.error();
    if (s->error || s->status == "Failed") return sessionError("OpenDownloadingSession", *s);
    long long part = s->max_part_size > 0 ? s->max_part_size : kDefaultPart;
    Downloaded d;
    d.session = *s;
    while (static_cast<long long>(d.bytes.size()) < s->message_size) {
      auto m =
          call("DownloadMessageChunk", identityXml(s_.identity) + element("sessionId", std::to_string(s->session_id)) +
                                           element("fromPosition", std::to_string(d.bytes.size())) +
                                           element("count", std::to_string(part)));
      if (!m) return m.error();
      xmlNode* result = child(m->body_element, "DownloadMessageChunkResult");
      auto session = readSessionInfo(child(result, "Session"));
      if (session.error || session.status == "Failed") return sessionError("DownloadMessageChunk", session);
      auto chunk = base64Decode(childText(result, "MessageChunk"));
      if (!chunk || chunk->empty()) return Error::invalid("sevhub.failed", "hub DownloadMessageChunk: no data");
      d.bytes += *chunk;
      d.session = session;  // the session as it stands after this chunk: what EndProcessing echoes
    }
    auto v = call("GetMessageValidationInfo",
                  identityXml(s_.identity) + element("sessionId", std::to_string(s->session_id)));
    if (!v) return v.error();
    std::string hash = childText(child(v->body_element, "GetMessageValidationInfoResult"), "Hash");
    if (static_cast<long long>(d.bytes.size()) == s->message_size && sameSha256(hash, d.bytes)) return d;
    last = Error::invalid("sevhub.unverified", "hub: message " + message_id +
                                                   (hash.empty() ? " came with no hash to check it against"
                                                                 : " arrived with another SHA-256 than the hub's"));
    last_bytes_ = std::move(d.bytes);
    last_session_ = d.session;
  }
  return last;
}

Result<SessionInfo> HubClient::endProcessing(const SessionInfo& session, bool ok, int error_code,
                                             const std::string& error_text) {
  SessionInfo s = session;
  s.status = ok ? "Processed" : "Failed";
  if (!ok) s.error = CommunicationError{error_code, error_text};
  return sessionResult("EndProcessingDownloadedMessage", identityXml(s_.identity) + sessionInfoXml("sessionInfo", s),
                       "EndProcessingDownloadedMessageResult");
}

}  // namespace vkhid::adapters::sevhub
