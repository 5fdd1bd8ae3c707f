// An HTTP/1.1 server (Boost.Beast) that hands each request to a Handler on a worker thread. Owns its
// threads. Limits: body size, a deadline for the headers, a minimum rate for the body; a request whose
// framing could smuggle another (Transfer-Encoding other than a final chunked) or that repeats
// Authorization is refused with 400 and the connection closed. TLS listeners offer AEAD suites only and
// send Strict-Transport-Security.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/domain/error.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::http {

// Looks at a request's headers before its body is read (credentials, say): a response refuses it at
// once, and the connection is closed without reading the body; nullopt lets the body be read. It may
// name who the credentials identify (Request::authenticated) for the handler to use. Runs on a worker.
using HeaderCheck = std::function<std::optional<Response>(Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;  // 0 = any free port (see HttpServer::port)
  std::size_t max_body_bytes = 1 << 20;
  // The headers (and, on a kept-alive connection, the wait for them) within this; then 408.
  std::chrono::seconds header_timeout{10};
  // A body arrives at this rate at least (after a first `read_timeout`), with no pause longer than
  // `read_timeout`: a slow but steady large body is served, a trickle is cut with 408.
  std::chrono::seconds read_timeout{15};
  std::size_t min_body_bytes_per_s = 16 * 1024;
  int threads = 1;  // I/O threads: TLS, reading and writing
  // Handlers run on these threads, never on the I/O threads, so no request can keep another connection
  // from being served — except requests `serve_inline` selects (health, metrics: quick and always
  // answered). At most `max_queued` requests wait for a worker; more are refused with 503.
  int workers = 2;
  std::size_t max_queued = 512;
  std::function<bool(const Request&)> serve_inline;
  HeaderCheck header_check;
  std::string name = "http";  // for logs and metrics
  // TLS: both files set = HTTPS. With client_ca_file, clients may (or, with require_client_cert, must)
  // present a certificate chaining to it; the handler sees its subject and fingerprint.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  bool require_client_cert = false;
};

class HttpServer {
 public:
  // Binds and starts serving on its own threads. Fails when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options, Handler handler);

  virtual ~HttpServer() = default;
  virtual unsigned short port() const = 0;
  // Stops accepting, lets requests in progress finish (up to `grace`), then closes everything.
  virtual void stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace vkhid::http
