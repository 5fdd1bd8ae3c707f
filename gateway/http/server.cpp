// The only translation unit of the product that includes Boost.Beast and Boost.Asio (build time:
// they are heavy). Structure follows Beast's async server example: a listener, and one session per
// connection that owns its stream, buffer and parser, with a deadline on every step.
#include "gateway/http/server.hpp"

#include <openssl/x509.h>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/domain/text.hpp"

namespace vkhid::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::chrono::seconds kWriteTimeout{30};
namespace ssl = net::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Shared {
  ServerOptions options;
  Handler handler;
  std::atomic<int> in_flight{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> stopping{false};
  net::thread_pool* workers = nullptr;  // owned by the server
};

Response callHandler(const Shared& shared, const Request& request) {
  try {
    return shared.handler(request);
  } catch (const std::exception& e) {
    // A handler must not throw; if one does, the client gets a 500 and the process lives on.
    log::error("http handler threw", {{"server", shared.options.name}, {"error", e.what()}});
    return Response::problem(500, "Internal error", "the request could not be handled");
  }
}

std::string certificateSubject(X509* cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

std::string certificateSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  return hexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Framing that two parsers could read two ways (RFC 9112 §6.3): a Transfer-Encoding other than one final
// `chunked` lets a proxy and this server disagree where the body ends, so the rest would be read as a
// second request. Refused, with the connection closed. So is a repeated Authorization.
std::optional<std::string> framingProblem(const bhttp::request_parser<bhttp::string_body>::value_type& req) {
  int te = 0, auth = 0;
  for (const auto& f : req) {
    if (f.name() == bhttp::field::transfer_encoding) {
      ++te;
      std::string v = lower(f.value());
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
      if (v != "chunked") return "Transfer-Encoding: only a single, final chunked is accepted";
    }
    if (f.name() == bhttp::field::authorization) ++auth;
  }
  if (te > 1) return "Transfer-Encoding: only a single, final chunked is accepted";
  if (auth > 1) return "Authorization: sent more than once";
  return std::nullopt;
}

// One connection. Stream is beast::tcp_stream (HTTP) or TlsStream (HTTPS). Reading and writing happen
// on the connection's strand; the handler (and the header check) on the server's workers, whose result
// comes back to the strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using Clock = std::chrono::steady_clock;

 public:
  Session(tcp::socket&& socket, std::shared_ptr<Shared> shared, ssl::context* tls)
      : stream_(makeStream(std::move(socket), tls)), shared_(std::move(shared)) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        beast::get_lowest_layer(self->stream_).expires_after(self->shared_->options.header_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return;  // a failed handshake (wrong or missing client certificate) closes the connection
          self->doReadHeader();
        });
      } else {
        self->doReadHeader();
      }
    });
  }

 private:
  static Stream makeStream(tcp::socket&& socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }
  auto& lowest() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return shared_->options; }

  void doReadHeader() {
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(16 * 1024);
    lowest().expires_after(options().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::onHeader, this->shared_from_this()));
  }

  void onHeader(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream) return doClose();
    if (ec == bhttp::error::body_limit) return refuse(413, "Body too large", bodyLimitText());
    if (ec == bhttp::error::header_limit) {
      return refuse(431, "Headers too large", "the request headers are over 16 KiB");
    }
    if (ec == beast::error::timeout) {
      if (parser_->got_some()) return refuse(408, "Request timeout", "the headers did not arrive in time");
      return doClose();
    }
    // A request Beast cannot frame (an unknown Transfer-Encoding, a bad Content-Length, …): 400, closed.
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return refuse(400, "Bad request", ec.message());
    }
    if (ec) return;  // reset: nothing sensible to answer
    const auto& req = parser_->get();
    if (auto problem = framingProblem(req)) return refuse(400, "Bad request", *problem);
    request_ = Request{};
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    for (const auto& field : req) request_.headers[lower(field.name_string())] = std::string(field.value());
    beast::error_code ignored;
    request_.remote_address = lowest().socket().remote_endpoint(ignored).address().to_string();
    if constexpr (kTls) {
      if (X509* cert = SSL_get1_peer_certificate(stream_.native_handle())) {
        request_.client_cert_subject = certificateSubject(cert);
        request_.client_cert_sha256 = certificateSha256(cert);
        X509_free(cert);
      }
    }
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    if (!options().header_check) return doReadBody();
    // Credentials before the body: a refusal costs the client nothing more than its headers.
    work([self = this->shared_from_this()] { return self->options().header_check(self->request_); },
         [self = this->shared_from_this()](std::optional<Response> refused) {
           if (refused) return self->reply(std::move(*refused), false);
           self->doReadBody();
         });
  }

  void doReadBody() {
    body_started_ = Clock::now();
    readSome();
  }

  void readSome() {
    if (parser_->is_done()) return dispatch();
    lowest().expires_after(options().read_timeout);
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::onBody, this->shared_from_this()));
  }

  void onBody(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) return refuse(413, "Body too large", bodyLimitText());
    if (ec == beast::error::timeout) return refuse(408, "Request timeout", "the body paused too long");
    if (ec) return;
    if (parser_->is_done()) return dispatch();
    // A minimum rate, not one cut for the whole body: a large body sent steadily is served.
    auto elapsed = std::chrono::duration<double>(Clock::now() - body_started_).count();
    auto received = static_cast<double>(parser_->get().body().size());
    if (elapsed > static_cast<double>(options().read_timeout.count()) &&
        received < elapsed * static_cast<double>(options().min_body_bytes_per_s)) {
      return refuse(408, "Request timeout",
                    "the body is arriving slower than " + std::to_string(options().min_body_bytes_per_s) + " bytes/s");
    }
    readSome();
  }

  void dispatch() {
    request_.body = std::move(parser_->get().body());
    keep_alive_ = keep_alive_ && !shared_->stopping;
    if (options().serve_inline && options().serve_inline(request_)) {
      shared_->in_flight++;
      Response response = callHandler(*shared_, request_);
      shared_->in_flight--;
      return reply(std::move(response), keep_alive_);
    }
    work([self = this->shared_from_this()] { return callHandler(*self->shared_, self->request_); },
         [self = this->shared_from_this()](Response response) { self->reply(std::move(response), self->keep_alive_); });
  }

  // Runs `job` on a worker, then `then(result)` back on this connection's strand. A full queue is a 503.
  template <class Job, class Then>
  void work(Job job, Then then) {
    if (shared_->queued.fetch_add(1) >= options().max_queued) {
      shared_->queued--;
      auto busy = Response::problem(503, "Busy", "too many requests are waiting; try again");
      busy.headers.emplace_back("Retry-After", "1");
      return reply(std::move(busy), false);
    }
    shared_->in_flight++;
    net::post(
        *shared_->workers, [self = this->shared_from_this(), job = std::move(job), then = std::move(then)]() mutable {
          auto result = job();
          self->shared_->queued--;
          net::post(self->stream_.get_executor(), [self, then = std::move(then), result = std::move(result)]() mutable {
            self->shared_->in_flight--;
            then(std::move(result));
          });
        });
  }

  std::string bodyLimitText() const {
    return "the request body is over the limit of " + std::to_string(options().max_body_bytes) + " bytes";
  }

  // Refused before the request was read whole: answered, and the connection closed (what is left of
  // the request is never read as another).
  void refuse(int status, const std::string& title, const std::string& detail) {
    reply(Response::problem(status, title, detail), false);
  }

  void reply(Response response, bool keep_alive) {
    res_ = {};
    res_.version(version_ == 10 ? 10 : 11);
    res_.result(static_cast<unsigned>(response.status));
    res_.set(bhttp::field::server, "vkhid");
    res_.set(bhttp::field::content_type, response.content_type);
    if constexpr (kTls) res_.set(bhttp::field::strict_transport_security, "max-age=31536000");
    for (auto& [name, value] : response.headers) res_.set(name, value);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    lowest().expires_after(kWriteTimeout);
    bhttp::async_write(stream_, res_,
                       beast::bind_front_handler(&Session::onWrite, this->shared_from_this(), keep_alive));
  }

  void onWrite(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return;
    if (!keep_alive) return doClose();
    doReadHeader();
  }

  void doClose() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  std::shared_ptr<Shared> shared_;
  Request request_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  Clock::time_point body_started_;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(const ServerOptions& options, Handler handler)
      : shared_(std::make_shared<Shared>()),
        acceptor_(ioc_),
        workers_(static_cast<std::size_t>(std::max(1, options.workers))) {
    shared_->options = options;
    shared_->handler = std::move(handler);
    shared_->workers = &workers_;
  }

  ~BeastServer() override { stop(std::chrono::milliseconds(0)); }

  Status bind() {
    const auto& o = shared_->options;
    if (!o.tls_cert_file.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      // TLS 1.2 with AEAD suites and forward secrecy only (no CBC, no SHA-1); TLS 1.3's are all AEAD.
      SSL_CTX_set_cipher_list(tls_->native_handle(),
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
      beast::error_code tls_ec;
      tls_->use_certificate_chain_file(o.tls_cert_file, tls_ec);
      if (!tls_ec) tls_->use_private_key_file(o.tls_key_file, ssl::context::pem, tls_ec);
      if (!tls_ec && !o.client_ca_file.empty()) {
        tls_->load_verify_file(o.client_ca_file, tls_ec);
        tls_->set_verify_mode(ssl::verify_peer | (o.require_client_cert ? ssl::verify_fail_if_no_peer_cert : 0));
      }
      if (tls_ec) {
        return Error::invalid("http.tls", "http: TLS files for " + o.name + ": " + tls_ec.message());
      }
    }
    beast::error_code ec;
    auto address = net::ip::make_address(shared_->options.host, ec);
    if (ec) return Error::invalid("http.bad_address", "http: bad listen address " + shared_->options.host);
    tcp::endpoint endpoint(address, shared_->options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error::unavailable("http.bind", "http: cannot listen on " + shared_->options.host + ":" +
                                                 std::to_string(shared_->options.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    doAccept();
    for (int i = 0; i < std::max(1, shared_->options.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return {};
  }

  unsigned short port() const override { return port_; }

  void stop(std::chrono::milliseconds grace) override {
    if (threads_.empty()) return;
    shared_->stopping = true;
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (shared_->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    workers_.join();  // a handler still running finishes; its answer goes nowhere
  }

 private:
  void doAccept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        log::warn("http accept failed", {{"server", shared_->options.name}, {"error", ec.message()}});
      } else {
        app::metrics()
            .counter("vkhid_http_connections_total", "Connections accepted", {{"server", shared_->options.name}})
            .inc();
        if (tls_) {
          std::make_shared<Session<TlsStream>>(std::move(socket), shared_, &*tls_)->run();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), shared_, nullptr)->run();
        }
      }
      doAccept();
    });
  }

  std::shared_ptr<Shared> shared_;
  std::optional<ssl::context> tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
};

}  // namespace

Response Response::problem(int status, const std::string& title, const std::string& detail) {
  std::string body = "{\"type\":\"about:blank\",\"title\":";
  log::appendJsonString(body, title);
  body += ",\"status\":" + std::to_string(status) + ",\"detail\":";
  log::appendJsonString(body, detail);
  body += "}";
  return {status, "application/problem+json", std::move(body), {}};
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<BeastServer>(options, std::move(handler));
  if (auto s = server->bind(); !s) return s.error();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace vkhid::http
