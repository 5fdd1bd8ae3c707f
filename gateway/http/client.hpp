// A blocking HTTP/1.1 client (Boost.Beast, kept in its own translation unit): what the gateway needs
// to call outside parties — the time-stamp authority, participants' HTTPS endpoints (mutual TLS).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "gateway/domain/error.hpp"

namespace vkhid::http {

struct TlsClientOptions {
  std::string ca_file;    // the server's certificate must chain to these (PEM)
  std::string cert_file;  // our client certificate (PEM), presented when asked
  std::string key_file;
  std::string server_name;  // the name the server's certificate must carry; default: the URL's host
};

struct PeerCertificate {
  std::string subject, issuer, not_after, sha256;
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::optional<PeerCertificate> peer;         // https: what the server presented
};

// POSTs `body` to an http:// or https:// URL (https needs `tls`); connect, handshake, write and read
// bounded by `timeout` together. Errors: "http.client" (URL, resolution, connection, timeout),
// "http.tls" (the handshake: the server's certificate refused, or ours).
// `headers`: more request headers (SOAPAction, …).
Result<ClientResponse> post(const std::string& url, const std::string& content_type, const std::string& body,
                            std::chrono::milliseconds timeout, const TlsClientOptions* tls = nullptr,
                            const std::map<std::string, std::string>& headers = {});

// GET, with the same connection reuse and bounds as post().
Result<ClientResponse> get(const std::string& url, std::chrono::milliseconds timeout,
                           const TlsClientOptions* tls = nullptr,
                           const std::map<std::string, std::string>& headers = {});

// The TLS handshake alone, for a connectivity check: the certificate the server presents, verified.
Result<PeerCertificate> tlsHandshake(const std::string& host, const std::string& port,
                                     std::chrono::milliseconds timeout, const TlsClientOptions& tls);

}  // namespace vkhid::http
