#include "gateway/crypto/pkcs11_signer.hpp"

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <map>

#include "gateway/domain/text.hpp"

namespace vkhid::crypto {
namespace {

Error tokenError(const std::string& what) { return Error::invalid("crypto.pkcs11", what); }

// The attributes of a pkcs11: URI (RFC 7512), percent-decoded.
Result<std::map<std::string, std::string>> uriAttributes(const std::string& uri) {
  if (!uri.starts_with("pkcs11:")) return tokenError("a PKCS#11 URI starts with 'pkcs11:'");
  std::map<std::string, std::string> out;
  std::string path = uri.substr(7);
  if (auto q = path.find('?'); q != std::string::npos) {
    return tokenError("the PIN is read from gateway.seal_pin_file, never from the URI (drop '" + path.substr(q) + "')");
  }
  for (const auto& part : splitList([&] {
         std::string s = path;
         for (auto& c : s) c = c == ';' ? ',' : c;
         return s;
       }())) {
    auto eq = part.find('=');
    if (eq == std::string::npos) return tokenError("'" + part + "' in the PKCS#11 URI is not name=value");
    std::string value;
    for (std::size_t i = eq + 1; i < part.size(); ++i) {
      if (part[i] == '%' && i + 2 < part.size()) {
        auto byte = hexDecode(part.substr(i + 1, 2));
        if (!byte) return tokenError("a bad percent escape in the PKCS#11 URI");
        value += *byte;
        i += 2;
      } else {
        value += part[i];
      }
    }
    out[part.substr(0, eq)] = value;
  }
  return out;
}

}  // namespace

struct Pkcs11Signer::Session {
  PKCS11_CTX* ctx = nullptr;
  PKCS11_SLOT* slots = nullptr;
  unsigned int slot_count = 0;
  ~Session() {
    if (slots != nullptr) PKCS11_release_all_slots(ctx, slots, slot_count);
    if (ctx != nullptr) {
      PKCS11_CTX_unload(ctx);
      PKCS11_CTX_free(ctx);
    }
  }
};

Pkcs11Signer::~Pkcs11Signer() {
  key_.reset();  // before the session that backs it
  session_.reset();
}

Result<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::open(const TokenKey& key, const std::string& cert_path) {
  auto s = openKeyOnly(key);
  if (!s) return s.error();
  auto pem = readFile(cert_path);
  if (!pem) return pem.error();
  auto certs = certificatesFromPem(*pem);
  if (!certs || certs->empty()) return tokenError(cert_path + ": no certificate");
  if (X509_check_private_key(certs->front().get(), (*s)->key_.get()) != 1) {
    ERR_clear_error();
    return Error::invalid("crypto.key_mismatch", "the token's key " + key.uri + " is not the key of " + cert_path);
  }
  (*s)->certs_ = std::move(certs).value();
  return s;
}

Result<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::openKeyOnly(const TokenKey& key) {
  auto attrs = uriAttributes(key.uri);
  if (!attrs) return attrs.error();
  if (key.module.empty()) return tokenError("gateway.pkcs11_module: the PKCS#11 library to load is not set");
  std::unique_ptr<Pkcs11Signer> s(new Pkcs11Signer());
  s->session_ = std::make_unique<Session>();
  Session& t = *s->session_;
  t.ctx = PKCS11_CTX_new();
  if (t.ctx == nullptr) return tokenError("cannot make a PKCS#11 context");
  if (PKCS11_CTX_load(t.ctx, key.module.c_str()) != 0) {
    ERR_clear_error();
    PKCS11_CTX_free(t.ctx);
    t.ctx = nullptr;
    return tokenError("cannot load the PKCS#11 module " + key.module);
  }
  if (PKCS11_enumerate_slots(t.ctx, &t.slots, &t.slot_count) != 0) {
    return tokenError("the module " + key.module + " lists no slots");
  }
  const std::string token_label = (*attrs)["token"], object = (*attrs)["object"], id = (*attrs)["id"];
  PKCS11_SLOT* slot = nullptr;
  for (unsigned int i = 0; i < t.slot_count; ++i) {
    PKCS11_SLOT* candidate = &t.slots[i];
    if (candidate->token == nullptr || !candidate->token->initialized) continue;
    if (!token_label.empty() && token_label != candidate->token->label) continue;
    slot = candidate;
    break;
  }
  if (slot == nullptr) return tokenError("no initialised token '" + token_label + "' in " + key.module);
  if (PKCS11_open_session(slot, 0) != 0 || PKCS11_login(slot, 0, key.pin.c_str()) != 0) {
    ERR_clear_error();
    return tokenError("cannot log in to token '" + token_label + "' (is gateway.seal_pin_file its user PIN?)");
  }
  PKCS11_KEY* keys = nullptr;
  unsigned int key_count = 0;
  if (PKCS11_enumerate_keys(slot->token, &keys, &key_count) != 0) {
    return tokenError("cannot list the keys of token '" + token_label + "'");
  }
  PKCS11_KEY* found = nullptr;
  for (unsigned int i = 0; i < key_count && found == nullptr; ++i) {
    const bool label_ok = object.empty() || (keys[i].label != nullptr && object == keys[i].label);
    const bool id_ok = id.empty() || std::string(reinterpret_cast<const char*>(keys[i].id), keys[i].id_len) == id;
    if (keys[i].isPrivate && label_ok && id_ok) found = &keys[i];
  }
  if (found == nullptr) return tokenError("no private key '" + object + "' on token '" + token_label + "'");
  s->key_.reset(PKCS11_get_private_key(found));
  if (!s->key_) return tokenError("the token's key '" + object + "' cannot be used for signing");
  return s;
}

std::vector<X509*> Pkcs11Signer::chain() const {
  std::vector<X509*> out;
  for (std::size_t i = 1; i < certs_.size(); ++i) out.push_back(certs_[i].get());
  return out;
}

Result<std::unique_ptr<Signer>> openSealSigner(const std::string& key, const std::string& cert,
                                               const std::string& module, const std::string& pin_file) {
  if (key.starts_with("pkcs11:")) {
    if (pin_file.empty()) return tokenError("gateway.seal_pin_file: the token's PIN file is not set");
    auto pin = readSecret(pin_file);
    if (!pin) return pin.error();
    auto s = Pkcs11Signer::open({module, key, *pin}, cert);
    if (!s) return s.error();
    return std::unique_ptr<Signer>(std::move(s).value());
  }
  auto s = FileSigner::load(key, cert);
  if (!s) return s.error();
  return std::unique_ptr<Signer>(std::make_unique<FileSigner>(std::move(s).value()));
}

Result<std::string> certificateRequest(EVP_PKEY* key, const std::string& subject) {
  std::unique_ptr<X509_REQ, OsslDeleter<X509_REQ, X509_REQ_free>> req(X509_REQ_new());
  std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME, X509_NAME_free>> name(X509_NAME_new());
  // "/O=…/CN=…": each part a field name and its UTF-8 value.
  std::string rest = subject;
  if (!rest.starts_with("/")) return Error::invalid("crypto.subject", "a subject such as /O=…/CN=…");
  for (const auto& part : [&] {
         std::vector<std::string> parts;
         std::size_t at = 1;
         while (at <= rest.size()) {
           auto next = rest.find('/', at);
           parts.push_back(rest.substr(at, next == std::string::npos ? std::string::npos : next - at));
           if (next == std::string::npos) break;
           at = next + 1;
         }
         return parts;
       }()) {
    auto eq = part.find('=');
    if (eq == std::string::npos ||
        X509_NAME_add_entry_by_txt(name.get(), part.substr(0, eq).c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(part.c_str() + eq + 1), -1, -1, 0) != 1) {
      ERR_clear_error();
      return Error::invalid("crypto.subject", "'" + part + "' is not a field=value of a subject");
    }
  }
  if (X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), key) != 1 ||
      X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) {
    return Error::internal("crypto.csr", "cannot sign the request: " + opensslError());
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace vkhid::crypto
