// HTTP requests and responses as plain values, so request handling is a pure function that tests
// call without sockets and that no Beast header leaks into.
#pragma once

#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkhid::http {

struct Request {
  std::string method;                          // "GET", "POST", …
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;
  std::string client_cert_subject;  // TLS client certificate, verified against the server's client CA
  std::string client_cert_sha256;
  std::string authenticated;  // set by the server's HeaderCheck: who the credentials identify

  std::string path() const { return target.substr(0, target.find('?')); }
  // A query parameter, percent- and plus-decoded; empty when absent.
  std::string query(const std::string& name) const {
    auto q = target.find('?');
    if (q == std::string::npos) return {};
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      auto eq = pair.find('=');
      if (pair.substr(0, eq) != name) continue;
      std::string value;
      std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        if (raw[i] == '+') {
          value += ' ';
        } else if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          value += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
          i += 2;
        } else {
          value += raw[i];
        }
      }
      return value;
    }
    return {};
  }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }
  static Response text(int status, std::string body, std::string type = "text/plain; charset=utf-8") {
    return {status, std::move(type), std::move(body), {}};
  }
  // RFC 9457 problem details.
  static Response problem(int status, const std::string& title, const std::string& detail);
};

// Called on a server thread for each request; must not block for long.
using Handler = std::function<Response(const Request&)>;

}  // namespace vkhid::http
