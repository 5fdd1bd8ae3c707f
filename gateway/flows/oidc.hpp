// Sign-in with the national ID (issue 29, docs/privacy.md): an identity provider behind the console's
// sign-in, pluggable. OidcProvider is OpenID Connect's authorisation code flow (Core 1.0 §3.1) as
// id.gov.ua offers it to a registered client: the browser is sent to the provider, comes back with a
// code, and the gateway redeems the code at the token endpoint for an id_token whose signature, issuer,
// audience, expiry and nonce it checks. The person is whoever an administrator bound the token's
// РНОКПП claim to (vkhid account bind-id): never an account made from a claim.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/app/config.hpp"
#include "gateway/domain/error.hpp"

namespace vkhid::flows {

struct NationalIdentity {
  std::string subject;      // the provider's `sub`
  std::string national_id;  // the РНОКПП claim (10 digits)
};

class IdentityProvider {
 public:
  virtual ~IdentityProvider() = default;
  // Where to send the browser: the authorisation endpoint with this state and nonce.
  virtual std::string authorizeUrl(const std::string& state, const std::string& nonce) const = 0;
  // The code the browser brought back, redeemed and its id_token checked against `nonce`.
  virtual Result<NationalIdentity> redeem(const std::string& code, const std::string& nonce) const = 0;
};

// The provider the configuration describes (admin.oidc_*); nullptr when none is configured. An error
// names a key that is set but unusable (a secret or key file that cannot be read).
Result<std::unique_ptr<IdentityProvider>> makeIdentityProvider(const app::AdminSettings& admin);

// What an id_token must be (OpenID Connect Core §3.1.3.7).
struct IdTokenCheck {
  std::string issuer, audience, nonce;
  std::string hs256_secret;  // HS256 with the client secret; or
  std::string rs256_pem;     // RS256 with the provider's public key (PEM)
  long long now = 0;         // seconds since the epoch
};
// The claims of a compact JWS id_token that passes every check; an error (oidc.token) names the one it
// fails: its form, algorithm, signature, iss, aud, exp, nonce.
Result<boost::json::object> checkIdToken(std::string_view jwt, const IdTokenCheck& check);

// base64url without padding (RFC 4648 §5), as JWS uses it.
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);
// application/x-www-form-urlencoded / query component encoding.
std::string formEncode(std::string_view text);

}  // namespace vkhid::flows
