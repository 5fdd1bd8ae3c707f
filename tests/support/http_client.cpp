// A blocking HTTP client for tests (Boost.Beast, kept in this one translation unit).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tests/support/test_env.hpp"

namespace vkhid::testing {

HttpReply httpGet(const std::string& host, unsigned short port, const std::string& target) {
  return httpRequest("GET", host, port, target, {}, "");
}

HttpReply httpRequest(const std::string& method, const std::string& host, unsigned short port,
                      const std::string& target, const std::map<std::string, std::string>& headers,
                      const std::string& body) {
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  namespace net = boost::asio;
  try {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address(host), port));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, host);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    HttpReply reply{static_cast<int>(res.result_int()),
                    res.body(),
                    std::string(res[bhttp::field::content_type]),
                    std::string(res[bhttp::field::location]),
                    {}};
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(f.value());
    }
    return reply;
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace vkhid::testing
