// The two ways a notice leaves: e-mail through an SMTP server (STARTTLS required, or SMTPS, with
// authentication) and SMS through a provider's HTTPS API, both with libcurl. A failure is either
// transient (notify.unreachable: try again later) or permanent (notify.refused: the server or provider
// refused this notice for good), so the sender knows whether to retry.
#pragma once

#include <string>

#include "gateway/app/config.hpp"
#include "gateway/domain/error.hpp"

namespace vkhid::notify {

struct Email {
  std::string to;
  std::string subject;  // UTF-8; encoded (RFC 2047) here
  std::string body;     // UTF-8 plain text
  std::string notice_id;
};

class Mailer {
 public:
  explicit Mailer(const app::NotifySettings& settings);
  bool configured() const { return !settings_.smtp_url.empty(); }
  Status send(const Email& mail) const;
  // The whole message as it goes on the wire (headers and body), for tests of its form.
  std::string message(const Email& mail) const;

 private:
  app::NotifySettings settings_;
  std::string password_;
};

class SmsGateway {
 public:
  explicit SmsGateway(const app::NotifySettings& settings);
  bool configured() const { return !settings_.sms_url.empty(); }
  // POSTs `request_json` (the provider's request, rendered from sms-request.json.mustache).
  Status send(const std::string& request_json) const;

 private:
  app::NotifySettings settings_;
  std::string token_;
};

// Reads a secret's file (a password, a token) without its trailing newline; empty when `path` is.
Result<std::string> readSecretFile(const std::string& key, const std::string& path);

}  // namespace vkhid::notify
