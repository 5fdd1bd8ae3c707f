#include "gateway/notify/channels.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

#include "gateway/domain/base64.hpp"

namespace vkhid::notify {
namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using ListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

CurlPtr newCurl() {
  globalInit();
  return CurlPtr(curl_easy_init(), curl_easy_cleanup);
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t readChunk(char* buffer, std::size_t size, std::size_t items, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * items, u->data->size() - u->offset);
  std::memcpy(buffer, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

std::size_t discard(char*, std::size_t size, std::size_t items, void*) { return size * items; }

std::string rfc2822Now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// RFC 2047: a header word in UTF-8, base64.
std::string encodedWord(const std::string& text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || c < 0x20) return "=?UTF-8?B?" + base64Encode(text) + "?=";
  }
  return text;
}

// A network or server fault worth trying again, or a refusal for good.
Error failure(CURLcode code, long response, const char* detail) {
  std::string what = std::string(curl_easy_strerror(code));
  if (detail != nullptr && *detail != '\0') what += ": " + std::string(detail);
  if (response > 0) what += " (server answered " + std::to_string(response) + ")";
  // The server refused this message or recipient for good (SMTP 5xx other than authentication).
  if (response >= 500 && response < 600 && response != 530 && response != 535) {
    return Error::invalid("notify.refused", what);
  }
  return Error::unavailable("notify.unreachable", what);
}

}  // namespace

Mailer::Mailer(const app::NotifySettings& settings, std::string password)
    : settings_(settings), password_(std::move(password)) {}

std::string Mailer::message(const Email& mail) const {
  std::string body;
  body.reserve(mail.body.size() + 64);
  for (char c : mail.body) {
    if (c == '\n') body += '\r';
    body += c;
  }
  if (body.empty() || body.back() != '\n') body += "\r\n";
  std::string m;
  m += "Date: " + rfc2822Now() + "\r\n";
  m += "From: " + settings_.smtp_from + "\r\n";
  m += "To: <" + mail.to + ">\r\n";
  m += "Subject: " + encodedWord(mail.subject) + "\r\n";
  m += "Message-ID: <notice-" + mail.notice_id + "@vkhid>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "\r\n";
  return m + body;
}

Status Mailer::send(const Email& mail) const {
  if (!configured()) return Error::unavailable("notify.unreachable", "no mail server configured (notify.smtp_url)");
  auto curl = newCurl();
  if (!curl) return Error::internal("notify.curl", "curl_easy_init failed");
  const std::string payload = message(mail);
  Upload upload{&payload};
  // The envelope sender: the address of `smtp_from` ("Name <a@b>" or "a@b").
  std::string mail_from = settings_.smtp_from;
  if (auto lt = mail_from.find('<'); lt != std::string::npos) {
    mail_from = mail_from.substr(lt + 1, mail_from.find('>', lt) - lt - 1);
  }
  ListPtr rcpt(curl_slist_append(nullptr, ("<" + mail.to + ">").c_str()), curl_slist_free_all);
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, settings_.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  // STARTTLS is required: a server that does not offer it is not sent to (no plain-text fallback).
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!settings_.smtp_ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.smtp_ca_file.c_str());
  if (!settings_.smtp_user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.smtp_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
  }
  const std::string envelope_from = "<" + mail_from + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, readChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.smtp_timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(settings_.smtp_timeout_ms, 5000)));
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {};
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  return failure(rc, response, error);
}

SmsGateway::SmsGateway(const app::NotifySettings& settings, std::string token)
    : settings_(settings), token_(std::move(token)) {}

Status SmsGateway::send(const std::string& request_json) const {
  if (!configured()) return Error::unavailable("notify.unreachable", "no SMS provider configured (notify.sms_url)");
  auto curl = newCurl();
  if (!curl) return Error::internal("notify.curl", "curl_easy_init failed");
  ListPtr headers(curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8"), curl_slist_free_all);
  if (!token_.empty()) {
    headers.reset(curl_slist_append(headers.release(), ("Authorization: Bearer " + token_).c_str()));
  }
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, settings_.sms_url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (!settings_.sms_ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.sms_ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request_json.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request_json.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.sms_timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(settings_.sms_timeout_ms, 5000)));
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK)
    return Error::unavailable("notify.unreachable", std::string(curl_easy_strerror(rc)) + ": " + error);
  if (status >= 200 && status < 300) return {};
  const std::string what = "the SMS provider answered " + std::to_string(status);
  // 4xx: this request is refused for good (a bad number, say); 408, 429 and 5xx: try again later.
  if (status >= 400 && status < 500 && status != 408 && status != 429) return Error::invalid("notify.refused", what);
  return Error::unavailable("notify.unreachable", what);
}

}  // namespace vkhid::notify
