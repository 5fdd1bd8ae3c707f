#include "gateway/http/client.hpp"

#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>
#include <optional>

#include "gateway/domain/text.hpp"

namespace vkhid::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

struct Url {
  bool tls = false;
  std::string host, port, hostport, target;
};

Result<Url> parseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
    u.tls = true;
  } else {
    return Error::invalid("http.client", "not an http:// or https:// URL: " + url);
  }
  u.hostport = rest.substr(0, rest.find('/'));
  u.target = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
  u.host = u.hostport;
  u.port = u.tls ? "443" : "80";
  if (auto colon = u.hostport.rfind(':'); colon != std::string::npos) {
    u.host = u.hostport.substr(0, colon);
    u.port = u.hostport.substr(colon + 1);
  }
  return u;
}

std::string nameOf(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

PeerCertificate describePeer(X509* cert) {
  PeerCertificate p;
  p.subject = nameOf(X509_get_subject_name(cert));
  p.issuer = nameOf(X509_get_issuer_name(cert));
  ASN1_TIME* t = X509_getm_notAfter(cert);
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) == 1) {
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    p.not_after = buf;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  p.sha256 = hexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
  return p;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Deadline = std::chrono::steady_clock::time_point;

// Every operation here is asynchronous on the connection's own io_context, run until it completes: the
// stream's expiry applies only to asynchronous operations (a synchronous read ignores it, and a server
// that accepts and never answers would hold the caller for as long as it keeps the socket open).
template <class Start>
beast::error_code await(net::io_context& ioc, Start&& start) {
  beast::error_code result = net::error::would_block;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return result;
}

// Resolves within the deadline (a resolver is not bound by the stream's expiry: a timer cancels it).
Result<net::ip::tcp::resolver::results_type> resolve(net::io_context& ioc, const Url& u, Deadline deadline) {
  net::ip::tcp::resolver resolver(ioc);
  net::steady_timer timer(ioc, deadline);
  net::ip::tcp::resolver::results_type found;
  timer.async_wait([&](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto ec = await(ioc, [&](auto handler) {
    resolver.async_resolve(u.host, u.port, [&, handler](beast::error_code e, net::ip::tcp::resolver::results_type r) {
      timer.cancel();
      found = std::move(r);
      handler(e);
    });
  });
  if (ec == net::error::operation_aborted) {
    return Error::unavailable("http.client", "resolving " + u.host + ": no answer in time");
  }
  if (ec) return Error::unavailable("http.client", "cannot resolve " + u.host + ": " + ec.message());
  return found;
}

// Connects to each address in turn, as the resolver orders them, within the deadline.
Status connectStream(net::io_context& ioc, beast::tcp_stream& stream, const Url& u, Deadline deadline) {
  auto found = resolve(ioc, u, deadline);
  if (!found) return found.error();
  stream.expires_at(deadline);
  auto ec = await(ioc, [&](auto handler) { stream.async_connect(*found, std::move(handler)); });
  if (ec == beast::error::timeout) return Error::unavailable("http.client", u.hostport + ": no connection in time");
  if (ec) return Error::unavailable("http.client", "cannot connect to " + u.hostport + ": " + ec.message());
  return {};
}

// Connects and shakes hands; the server's certificate chains to `ca_file` and carries the name.
Result<PeerCertificate> connectTls(net::io_context& ioc, TlsStream& stream, const Url& u, const TlsClientOptions& tls,
                                   Deadline deadline) {
  if (auto s = connectStream(ioc, beast::get_lowest_layer(stream), u, deadline); !s) return s.error();
  std::string name = tls.server_name.empty() ? u.host : tls.server_name;
  if (!SSL_set_tlsext_host_name(stream.native_handle(), name.c_str())) {
    return Error::invalid("http.tls", "cannot set the server name " + name);
  }
  stream.set_verify_callback(ssl::host_name_verification(name));
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto ec = await(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, std::move(handler)); });
  if (ec == beast::error::timeout) {
    return Error::unavailable("http.tls", "TLS handshake with " + u.hostport + ": no answer in time");
  }
  if (ec) {
    long verify = SSL_get_verify_result(stream.native_handle());
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
    return Error::unavailable("http.tls", "TLS handshake with " + u.hostport + " failed: " + why);
  }
  X509* peer = SSL_get1_peer_certificate(stream.native_handle());
  if (peer == nullptr) return Error::unavailable("http.tls", u.hostport + " presented no certificate");
  auto described = describePeer(peer);
  X509_free(peer);
  return described;
}

Result<std::unique_ptr<ssl::context>> clientContext(const TlsClientOptions& tls) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (tls.ca_file.empty()) return Error::invalid("http.tls", "no CA file to check the server's certificate");
  ctx->load_verify_file(tls.ca_file, ec);
  if (ec) return Error::invalid("http.tls", tls.ca_file + ": " + ec.message());
  ctx->set_verify_mode(ssl::verify_peer);
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (!ec) ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) return Error::invalid("http.tls", tls.cert_file + ": " + ec.message());
  }
  return ctx;
}

// One request and its response within the deadline. `reused`: on a kept connection, which the server may
// have closed meanwhile (the caller then tries once more on a new one).
template <class Stream>
Result<ClientResponse> exchange(net::io_context& ioc, Stream& stream, const Url& u, const std::string& content_type,
                                const std::string& body, const std::map<std::string, std::string>& headers,
                                Deadline deadline, bool& keep_alive) {
  bhttp::request<bhttp::string_body> req{body.empty() && content_type.empty() ? bhttp::verb::get : bhttp::verb::post,
                                         u.target, 11};
  req.set(bhttp::field::host, u.hostport);
  if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
  req.set(bhttp::field::user_agent, "vkhid");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (req.method() == bhttp::verb::post) {
    req.body() = body;
    req.prepare_payload();
  }
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto ec = await(ioc, [&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
  if (ec == beast::error::timeout) return Error::unavailable("http.client", u.hostport + ": request not taken in time");
  if (ec) return Error::unavailable("http.client.send", u.hostport + ": " + ec.message());
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  ec = await(ioc, [&](auto handler) { bhttp::async_read(stream, buffer, parser, std::move(handler)); });
  // A body that ends where the connection does (HTTP/1.0 without Content-Length): over TLS a server that
  // closes without close_notify reports a truncated stream where plain TCP reports the end. Such a body
  // is taken as it is: what is read from it (a receipt of ours, a time-stamp, a SOAP answer) is checked
  // by its own parser. A body with a length, or chunked, that stops short is refused.
  if (ec == ssl::error::stream_truncated && parser.got_some() && !parser.is_done() && parser.need_eof()) {
    parser.put_eof(ec);
  }
  if (ec == beast::error::timeout) return Error::unavailable("http.client", u.hostport + ": no response in time");
  if (ec)
    return Error::unavailable(parser.got_some() ? "http.client" : "http.client.send", u.hostport + ": " + ec.message());
  auto res = parser.release();
  keep_alive = res.keep_alive() && !parser.need_eof();
  ClientResponse out{static_cast<int>(res.result_int()), std::move(res.body()), {}, std::nullopt};
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

// One open connection to a server, kept for the next request to the same place (keep-alive).
struct Connection {
  net::io_context ioc;
  std::unique_ptr<ssl::context> ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> secure;
  PeerCertificate peer;
  std::chrono::steady_clock::time_point idle_since;
};

// Idle connections by destination and TLS identity. A connection idle longer than kIdleFor is
// closed rather than reused (servers close theirs after their own idle timeout, ours after 15 s).
class ConnectionPool {
 public:
  static constexpr auto kIdleFor = std::chrono::seconds(10);
  static constexpr std::size_t kPerKey = 8;

  std::unique_ptr<Connection> take(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = idle_.lower_bound(key); it != idle_.end() && it->first == key;) {
      auto c = std::move(it->second);
      it = idle_.erase(it);
      if (now - c->idle_since < kIdleFor) return c;
    }
    return nullptr;
  }

  void give(const std::string& key, std::unique_ptr<Connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (idle_.count(key) < kPerKey) idle_.emplace(key, std::move(c));
  }

 private:
  std::mutex mutex_;
  std::multimap<std::string, std::unique_ptr<Connection>> idle_;
};

ConnectionPool& pool() {
  static ConnectionPool p;
  return p;
}

Result<std::unique_ptr<Connection>> openConnection(const Url& u, const TlsClientOptions* tls, Deadline deadline) {
  auto c = std::make_unique<Connection>();
  if (!u.tls) {
    c->plain.emplace(c->ioc);
    if (auto s = connectStream(c->ioc, *c->plain, u, deadline); !s) return s.error();
    return c;
  }
  auto ctx = clientContext(*tls);
  if (!ctx) return ctx.error();
  c->ctx = std::move(ctx).value();
  c->secure.emplace(c->ioc, *c->ctx);
  auto peer = connectTls(c->ioc, *c->secure, u, *tls, deadline);
  if (!peer) return peer.error();
  c->peer = *peer;
  return c;
}

}  // namespace

Result<ClientResponse> post(const std::string& url, const std::string& content_type, const std::string& body,
                            std::chrono::milliseconds timeout, const TlsClientOptions* tls,
                            const std::map<std::string, std::string>& headers) {
  auto u = parseUrl(url);
  if (!u) return u.error();
  if (u->tls && tls == nullptr) return Error::invalid("http.tls", "https needs TLS settings: " + url);
  std::string key = (u->tls ? "https://" : "http://") + u->hostport;
  if (u->tls) key += "|" + tls->ca_file + "|" + tls->cert_file + "|" + tls->key_file + "|" + tls->server_name;
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  // A kept connection the server has closed meanwhile fails at once, before any response: then once more
  // on a new one. The request may have reached the server before it failed; what we send is idempotent
  // by msg_id.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = attempt == 0 ? pool().take(key) : nullptr;
    const bool reused = conn != nullptr;
    try {
      if (!conn) {
        auto opened = openConnection(*u, tls, deadline);
        if (!opened) return opened.error();
        conn = std::move(opened).value();
      }
      bool keep_alive = false;
      Result<ClientResponse> out = Error::internal("http.client", "no request made");
      if (conn->plain) {
        out = exchange(conn->ioc, *conn->plain, *u, content_type, body, headers, deadline, keep_alive);
      } else {
        out = exchange(conn->ioc, *conn->secure, *u, content_type, body, headers, deadline, keep_alive);
        if (out) out->peer = conn->peer;
      }
      if (!out && reused && out.error().code == "http.client.send") continue;
      if (!out) return Error::unavailable("http.client", out.error().message);
      if (out && keep_alive) pool().give(key, std::move(conn));
      return out;
    } catch (const std::exception& e) {
      if (reused) continue;
      return Error::unavailable("http.client", url + ": " + e.what());
    }
  }
  return Error::unavailable("http.client", url + ": the connection failed twice");
}

Result<ClientResponse> get(const std::string& url, std::chrono::milliseconds timeout, const TlsClientOptions* tls,
                           const std::map<std::string, std::string>& headers) {
  return post(url, "", "", timeout, tls, headers);
}

Result<PeerCertificate> tlsHandshake(const std::string& host, const std::string& port,
                                     std::chrono::milliseconds timeout, const TlsClientOptions& tls) {
  try {
    net::io_context ioc;
    auto ctx = clientContext(tls);
    if (!ctx) return ctx.error();
    TlsStream stream(ioc, **ctx);
    Url u{true, host, port, host + ":" + port, "/"};
    const Deadline deadline = std::chrono::steady_clock::now() + timeout;
    auto peer = connectTls(ioc, stream, u, tls, deadline);
    if (peer) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
      (void)await(ioc, [&](auto handler) { stream.async_shutdown(std::move(handler)); });
    }
    return peer;
  } catch (const std::exception& e) {
    return Error::unavailable("http.client", host + ":" + port + ": " + e.what());
  }
}

}  // namespace vkhid::http
