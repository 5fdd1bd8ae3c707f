// The web console (issue 11) on the admin listener: its static files, built into the binary from
// console/, under /console/, and its sessions at /console/session. Everything else the console does
// goes through the administration API (/api/v1/admin/), which accepts a console session in place of a
// bearer token: the cookie names the session, and every change must carry its CSRF token in the
// X-CSRF-Token header.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "gateway/api/intake_routes.hpp"
#include "gateway/flows/console.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/oidc.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::api {

using http::Request;
using http::Response;

// The console's file of that name (e.g. "index.html"), built into the binary from console/ by
// cmake/embed_files.cmake; empty when there is none.
std::string_view consoleFile(std::string_view name);

inline constexpr const char* kSessionCookie = "vkhid_session";
// The value of one cookie of the request's Cookie header; empty when absent.
std::string cookieValue(const Request& request, std::string_view name);

class ConsoleRoutes {
 public:
  // `identity`: the national ID provider (flows/oidc.hpp), or null when none is configured.
  explicit ConsoleRoutes(flows::ExchangeContext& context, std::unique_ptr<flows::IdentityProvider> identity = {})
      : context_(context), signin_limit_(context.config.admin.signin_per_minute), identity_(std::move(identity)) {}
  // nullopt when the path is not under /console.
  std::optional<Response> handle(const Request& request) const;

 private:
  Response session(const Request& request) const;
  // /console/oidc/start sends the browser to the provider; /console/oidc/callback takes it back.
  Response oidcStart(const Request& request) const;
  Response oidcCallback(const Request& request) const;
  std::string cookieAttributes() const;
  flows::ExchangeContext& context_;
  mutable RateLimiter signin_limit_;  // sign-in attempts by the caller's address
  std::unique_ptr<flows::IdentityProvider> identity_;
};

// Headers every console page and file carries: no framing by others, no sniffing, nothing fetched
// from elsewhere, no referrer.
void addConsoleSecurityHeaders(Response& r);

}  // namespace vkhid::api
