// An HTTP/1.1 server (Boost.Beast) that hands each request to a Handler. Owns its threads.
// Limits: body size, header read deadline, idle keep-alive deadline; all configurable.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "gateway/domain/error.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;  // 0 = any free port (see HttpServer::port)
  std::size_t max_body_bytes = 1 << 20;
  std::chrono::seconds read_timeout{15};
  int threads = 1;
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
