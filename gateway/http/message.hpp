// HTTP requests and responses as plain values, so request handling is a pure function that tests
// call without sockets and that no Beast header leaks into.
#pragma once

#include <functional>
#include <map>
#include <string>
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

  std::string path() const { return target.substr(0, target.find('?')); }
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
