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
  // `password`: the contents of notify.smtp_password_file (read once, at start).
  Mailer(const app::NotifySettings& settings, std::string password = {});
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
  // `token`: the contents of notify.sms_token_file (read once, at start).
  SmsGateway(const app::NotifySettings& settings, std::string token = {});
  bool configured() const { return !settings_.sms_url.empty(); }
  // POSTs `request_json` (the provider's request, rendered from sms-request.json.mustache).
  Status send(const std::string& request_json) const;

 private:
  app::NotifySettings settings_;
  std::string token_;
};

}  // namespace vkhid::notify
