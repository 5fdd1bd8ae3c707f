#include "gateway/flows/oidc.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <chrono>

#include "gateway/crypto/aead.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/http/client.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

Error tokenError(std::string message) { return Error::invalid("oidc.token", "id_token: " + std::move(message)); }

std::string claimText(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool rs256Verifies(const std::string& pem, std::string_view signed_part, std::string_view signature) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

class OidcProvider final : public IdentityProvider {
 public:
  OidcProvider(const app::AdminSettings& admin, std::string secret, std::string key_pem)
      : admin_(admin), secret_(std::move(secret)), key_pem_(std::move(key_pem)) {}

  std::string authorizeUrl(const std::string& state, const std::string& nonce) const override {
    const char* joiner = admin_.oidc_authorize_url.find('?') == std::string::npos ? "?" : "&";
    return admin_.oidc_authorize_url + joiner +
           "response_type=code&scope=openid&client_id=" + formEncode(admin_.oidc_client_id) +
           "&redirect_uri=" + formEncode(admin_.oidc_redirect_uri) + "&state=" + formEncode(state) +
           "&nonce=" + formEncode(nonce);
  }

  Result<NationalIdentity> redeem(const std::string& code, const std::string& nonce) const override {
    const std::string form = "grant_type=authorization_code&code=" + formEncode(code) +
                             "&redirect_uri=" + formEncode(admin_.oidc_redirect_uri) +
                             "&client_id=" + formEncode(admin_.oidc_client_id) +
                             "&client_secret=" + formEncode(secret_);
    http::TlsClientOptions tls;
    tls.ca_file = admin_.oidc_ca_file;
    const bool https = admin_.oidc_token_url.starts_with("https://");
    auto reply = http::post(admin_.oidc_token_url, "application/x-www-form-urlencoded", form, std::chrono::seconds(10),
                            https ? &tls : nullptr, {{"Accept", "application/json"}});
    if (!reply) return Error::unavailable("oidc.provider", "the token endpoint: " + reply.error().message);
    boost::system::error_code ec;
    const json::value body = json::parse(reply->body, ec);
    if (reply->status != 200 || ec || !body.is_object()) {
      return Error::invalid("oidc.code",
                            "the token endpoint refused the code (HTTP " + std::to_string(reply->status) + ")");
    }
    const std::string id_token = claimText(body.as_object(), "id_token");
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto claims = checkIdToken(id_token, {admin_.oidc_issuer, admin_.oidc_client_id, nonce,
                                          key_pem_.empty() ? secret_ : std::string(), key_pem_, now});
    if (!claims) return claims.error();
    NationalIdentity who{claimText(*claims, "sub"), claimText(*claims, admin_.oidc_claim)};
    if (who.national_id.size() != 10 || who.national_id.find_first_not_of("0123456789") != std::string::npos) {
      return tokenError("claim " + admin_.oidc_claim + ": a РНОКПП of 10 digits");
    }
    return who;
  }

 private:
  const app::AdminSettings& admin_;
  std::string secret_, key_pem_;
};

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string s = base64Encode(bytes);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '+' || c == '/' || c == '=') return std::nullopt;
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) s += '=';
  return base64Decode(s);
}

std::string formEncode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

Result<json::object> checkIdToken(std::string_view jwt, const IdTokenCheck& check) {
  const auto dot1 = jwt.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return tokenError("not a compact JWS (header.payload.signature)");
  }
  auto header_text = base64UrlDecode(jwt.substr(0, dot1));
  auto payload_text = base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return tokenError("a part is not base64url");
  boost::system::error_code ec;
  const json::value header = json::parse(*header_text, ec);
  if (ec || !header.is_object()) return tokenError("the header is not a JSON object");
  const json::value payload = json::parse(*payload_text, ec);
  if (ec || !payload.is_object()) return tokenError("the payload is not a JSON object");
  // The algorithm is the one configured, never the one the token names ("none", or HS256 keyed with a
  // public key, are the classic forgeries).
  const std::string alg = claimText(header.as_object(), "alg");
  const std::string expected = check.rs256_pem.empty() ? "HS256" : "RS256";
  if (alg != expected) return tokenError("alg " + alg + ": " + expected + " expected");
  const std::string_view signed_part = jwt.substr(0, dot2);
  const bool valid =
      expected == "HS256"
          ? constantTimeEqual(*signature,
                              hexDecode(crypto::hmacSha256Hex(check.hs256_secret, signed_part)).value_or(""))
          : rs256Verifies(check.rs256_pem, signed_part, *signature);
  if (!valid) return tokenError("the signature does not verify");
  const json::object& claims = payload.as_object();
  if (claimText(claims, "iss") != check.issuer) return tokenError("iss is not " + check.issuer);
  const json::value* aud = claims.if_contains("aud");
  bool for_us = aud && aud->is_string() && aud->as_string() == check.audience;
  if (aud && aud->is_array()) {
    for (const auto& a : aud->as_array()) for_us = for_us || (a.is_string() && a.as_string() == check.audience);
  }
  if (!for_us) return tokenError("aud does not name this client");
  const json::value* exp = claims.if_contains("exp");
  if (!exp || !exp->is_number() || exp->to_number<double>() <= static_cast<double>(check.now)) {
    return tokenError("expired (exp)");
  }
  if (claimText(claims, "nonce") != check.nonce || check.nonce.empty())
    return tokenError("nonce is not this sign-in's");
  return claims;
}

Result<std::unique_ptr<IdentityProvider>> makeIdentityProvider(const app::AdminSettings& admin) {
  if (admin.oidc_authorize_url.empty()) return std::unique_ptr<IdentityProvider>();
  for (const auto& [key, value] :
       {std::pair{"admin.oidc_token_url", &admin.oidc_token_url}, std::pair{"admin.oidc_issuer", &admin.oidc_issuer},
        std::pair{"admin.oidc_client_id", &admin.oidc_client_id},
        std::pair{"admin.oidc_client_secret_file", &admin.oidc_client_secret_file},
        std::pair{"admin.oidc_redirect_uri", &admin.oidc_redirect_uri}}) {
    if (value->empty())
      return Error::invalid("config.oidc", std::string(key) + ": needed with admin.oidc_authorize_url");
  }
  auto secret = crypto::readFile(admin.oidc_client_secret_file);
  if (!secret) return Error::invalid("config.oidc", "admin.oidc_client_secret_file: " + secret.error().message);
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) secret->pop_back();
  std::string key_pem;
  if (!admin.oidc_key_file.empty()) {
    auto pem = crypto::readFile(admin.oidc_key_file);
    if (!pem) return Error::invalid("config.oidc", "admin.oidc_key_file: " + pem.error().message);
    key_pem = std::move(*pem);
  }
  return std::unique_ptr<IdentityProvider>(
      std::make_unique<OidcProvider>(admin, std::move(*secret), std::move(key_pem)));
}

}  // namespace vkhid::flows
