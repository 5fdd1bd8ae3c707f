// A client of the SEV OVV 2.0 hub for one account (SystemId + password): sends a message in chunked
// upload sessions and takes the account's incoming messages in chunked download sessions, checking
// each whole message against its SHA-256. Used by the `sev-hub` adapter, `vkhid sim participant --via
// sev-hub` and `vkhid sev certify`. Blocking; one instance may be used from one thread at a time.
//
// Hash: the SHA-256 of the message bytes, given as lowercase hex when an upload opens; the one
// GetMessageValidationInfo returns for a download is taken in hex of either case or in base64 (the WSDL
// says only `string`; docs/participant-guide.md). A download with no hash is not taken.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sevhub/soap.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/http/client.hpp"

namespace vkhid::adapters::sevhub {

struct HubSettings {
  std::string url;  // the IntegrationService endpoint, http:// or https://
  Identity identity;
  std::string ca_file;                       // https: the hub's certificate must chain to these
  std::chrono::milliseconds timeout{30000};  // per SOAP call
  int attempts = 3;                          // whole uploads or downloads tried when the hash does not match
};

struct Downloaded {
  std::string bytes;
  SessionInfo session;  // after the last chunk
};

// Whether `given` (hex in either case, or base64) is the SHA-256 of `bytes`.
bool sameSha256(const std::string& given, std::string_view bytes);

// Errors: "sevhub.unavailable" (the hub could not be reached or answered 5xx without a client fault:
// try again later), "sevhub.refused" (a client fault: authentication, a malformed request),
// "sevhub.failed" (the hub's session error, its code and text in the message), and, for a download,
// "sevhub.unverified" (every attempt arrived unlike the hub's hash, or with none; what arrived last is
// in lastUnverified()).
class HubClient {
 public:
  explicit HubClient(HubSettings settings) : s_(std::move(settings)) {}

  // Uploads `bytes` as `info` (MessageId, ToOrgId, ToSysId, Type; Size filled here), then waits until
  // the hub has taken it (Processed or Delivered). Uploading the same MessageId again is harmless.
  Result<SessionInfo> upload(std::string_view bytes, MessageInfo info, std::chrono::milliseconds settle_timeout);
  Result<std::vector<MessageInfo>> inputMessages(int count);
  Result<Downloaded> download(const std::string& message_id);
  // Tells the hub the download is handled (`ok`) or refused (with a code and text): it leaves the inbox.
  Result<SessionInfo> endProcessing(const SessionInfo& session, bool ok, int error_code = 0,
                                    const std::string& error_text = {});
  Result<SessionInfo> sessionInfo(long long session_id);
  // After a download failed with "sevhub.unverified": the bytes of its last attempt and that session.
  std::pair<std::string, SessionInfo> lastUnverified() const { return {last_bytes_, last_session_}; }

  const HubSettings& settings() const { return s_; }

 private:
  Result<SoapMessage> call(const std::string& operation, const std::string& inner);
  Result<SessionInfo> sessionResult(const std::string& operation, const std::string& inner, const char* result);
  Result<SessionInfo> uploadOnce(std::string_view bytes, const MessageInfo& info, const std::string& hash,
                                 std::chrono::milliseconds settle_timeout);

  HubSettings s_;
  std::string last_bytes_;
  SessionInfo last_session_;
};

// An attribute of a SEV OVV Header, read from the first bytes of a package without parsing it
// ("msg_type", "to_org_id", …); empty when absent. For addressing only, never for trust.
std::string headerAttribute(std::string_view package, const std::string& name);

}  // namespace vkhid::adapters::sevhub
