// The gateway's HTTP client against servers that behave as real ones do, written apart from Beast: raw
// sockets and OpenSSL. A server that accepts and never answers must cost no more than the timeout; a
// body that ends with the connection (HTTP/1.0), also over TLS closed without close_notify, is taken;
// a body cut short of its length is refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "gateway/http/client.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid;
using namespace std::chrono_literals;

namespace {

// A listening socket on 127.0.0.1 and a free port.
struct Listener {
  int fd = -1;
  unsigned short port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

enum class Close { Clean, WithoutCloseNotify };

// Serves one connection: reads a request, answers `response` (nothing at all when it is empty: the
// connection is held open until the test ends), then closes.
class OneShotServer {
 public:
  OneShotServer(bool tls, std::string response, Close close = Close::Clean)
      : tls_(tls), response_(std::move(response)), close_(close) {
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    done_ = true;
    ::shutdown(listener_.fd, SHUT_RDWR);
    thread_.join();
  }
  std::string url() const {
    return (tls_ ? "https://localhost:" : "http://localhost:") + std::to_string(listener_.port) + "/";
  }

 private:
  void serve() {
    int fd = ::accept(listener_.fd, nullptr, nullptr);
    if (fd < 0) return;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    if (tls_) {
      ctx = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate_chain_file(ctx, (testing::pkiDir() + "/gateway-tls.pem").c_str());
      SSL_CTX_use_PrivateKey_file(ctx, (testing::pkiDir() + "/gateway-tls.key").c_str(), SSL_FILETYPE_PEM);
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) ERR_clear_error();
    }
    auto read = [&](char* buf, int n) { return tls_ ? SSL_read(ssl, buf, n) : static_cast<int>(::read(fd, buf, n)); };
    auto write = [&](const std::string& s) {
      return tls_ ? SSL_write(ssl, s.data(), static_cast<int>(s.size()))
                  : static_cast<int>(::write(fd, s.data(), s.size()));
    };
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      int n = read(buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    if (auto at = request.find("Content-Length: "); at != std::string::npos) {
      std::size_t want = std::stoul(request.substr(at + 16)) + request.find("\r\n\r\n") + 4;
      while (request.size() < want) {
        int n = read(buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
    }
    if (response_.empty()) {
      while (!done_) std::this_thread::sleep_for(20ms);  // holds the connection, never answers
    } else {
      write(response_);
      if (tls_ && close_ == Close::Clean) SSL_shutdown(ssl);
    }
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    ::close(fd);
  }

  Listener listener_;
  bool tls_;
  std::string response_;
  Close close_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

http::TlsClientOptions tls() { return {testing::pkiDir() + "/ca.pem", "", "", ""}; }

// How long a post takes, and what it returned.
std::pair<std::chrono::milliseconds, Result<http::ClientResponse>> timedPost(const std::string& url,
                                                                             std::chrono::milliseconds timeout) {
  auto options = tls();
  auto t0 = std::chrono::steady_clock::now();
  auto r = http::post(url, "application/xml", "<Header/>", timeout, url.starts_with("https") ? &options : nullptr);
  return {std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0), std::move(r)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client)

// The time-stamp authority (plain http), a participant's endpoint and the SEV hub (https) alike.
BOOST_AUTO_TEST_CASE(edms_http_client_gives_up_on_a_server_that_never_answers) {
  // Connections complete in the listen backlog and are never accepted: the TLS handshake gets no answer.
  Listener black_hole;
  for (const char* scheme : {"http://", "https://"}) {
    auto [took, r] = timedPost(scheme + std::string("localhost:") + std::to_string(black_hole.port) + "/", 1s);
    BOOST_TEST(!r.ok(), scheme);
    BOOST_TEST(took < 4s, scheme << " took " << took.count() << " ms");
    BOOST_TEST(r.error().message.find("in time") != std::string::npos, r.error().message);
  }
  // Accepted, the request read (over TLS, after the handshake), and no response ever.
  for (bool secure : {false, true}) {
    OneShotServer silent(secure, "");
    auto [took, r] = timedPost(silent.url(), 1s);
    BOOST_TEST(!r.ok(), secure);
    BOOST_TEST(took < 4s, "took " << took.count() << " ms");
    BOOST_TEST(r.error().message.find("no response in time") != std::string::npos, r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(edms_http_client_takes_a_body_that_ends_with_the_connection) {
  const std::string response = "HTTP/1.0 202 Accepted\r\nContent-Type: application/json\r\n\r\n{\"msg_id\":\"m1\"}";
  for (bool secure : {false, true}) {
    // Over TLS the server closes without close_notify, as many do once the response is written.
    OneShotServer server(secure, response, Close::WithoutCloseNotify);
    auto [took, r] = timedPost(server.url(), 5s);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    BOOST_TEST(r->status == 202);
    BOOST_TEST(r->body == "{\"msg_id\":\"m1\"}");
  }
}

BOOST_AUTO_TEST_CASE(edms_http_client_refuses_a_body_cut_short_of_its_length) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it";
  for (bool secure : {false, true}) {
    OneShotServer server(secure, response, Close::WithoutCloseNotify);
    auto [took, r] = timedPost(server.url(), 5s);
    BOOST_TEST(!r.ok(), secure);
  }
}

BOOST_AUTO_TEST_SUITE_END()
