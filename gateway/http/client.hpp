// A blocking HTTP/1.1 client (Boost.Beast, kept in its own translation unit): what the gateway needs
// to call outside parties — the time-stamp authority now, participants' HTTPS endpoints later.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "gateway/domain/error.hpp"

namespace vkhid::http {

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// POSTs `body` to an http:// URL; connect, write and read bounded by `timeout` together.
// Errors (code "http.client"): a malformed URL, name resolution, connection, timeout.
Result<ClientResponse> post(const std::string& url, const std::string& content_type, const std::string& body,
                            std::chrono::milliseconds timeout);

}  // namespace vkhid::http
