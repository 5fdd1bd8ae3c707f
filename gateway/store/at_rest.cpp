#include "gateway/store/at_rest.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/crypto/aead.hpp"
#include "gateway/domain/text.hpp"

namespace vkhid::store {
namespace {

constexpr std::string_view kMagic = "vk1";          // the plaintext sealed as it is
constexpr std::string_view kDeflatedMagic = "vk2";  // deflated first: 4 bytes of its length, then zlib
constexpr std::size_t kHeader = 3 + 4;
constexpr const char* kFailures = "vkhid_at_rest_failures_total";
constexpr const char* kFailuresHelp = "Sealed personal values that could not be opened";

Error keyError(std::string message) { return Error::invalid("at_rest.master_key", std::move(message)); }

std::string wrapAad(int id) { return "vkhid data key " + std::to_string(id); }

std::string thisMonth() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m", &tm);
  return buf;
}

std::shared_ptr<AtRest>& installed() {
  static std::shared_ptr<AtRest> ring;
  return ring;
}

// Why no ring is installed: what loadAtRest last failed with.
std::string& whyNone() {
  static std::string why = "no master key is loaded";
  return why;
}

}  // namespace

namespace at_rest_detail {

namespace {
// One compressor and one decompressor a thread, made at its first value: libdeflate's are not safe to
// share, and making one for each value would add an allocation and its clearing to every value.
struct Codecs {
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(1);
  libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
  Codecs() = default;
  Codecs(const Codecs&) = delete;
  Codecs& operator=(const Codecs&) = delete;
  ~Codecs() {
    libdeflate_free_compressor(compressor);
    libdeflate_free_decompressor(decompressor);
  }
};
Codecs& codecs() {
  thread_local Codecs c;
  return c;
}
}  // namespace

// Text (a package's XML, a case's JSON) deflated before it is sealed, when that saves a tenth or more: a
// ciphertext does not compress, so PostgreSQL's own compression no longer would. Its length first (4
// bytes, big-endian), then a zlib stream (RFC 1950) made by libdeflate at level 1: the whole text is in
// memory, so a whole-buffer compressor does what zlib's streaming one did, in two thirds of the time or
// less and a little smaller (docs/performance.md, session 37). Any zlib reads the stream, and inflated()
// reads what zlib wrote before (session 36's windows sized to the text, and zlib's defaults before that).
std::optional<std::string> deflated(std::string_view plain) {
  if (plain.size() < 256 || plain.size() > 0x7fffffff) return std::nullopt;
  auto* compressor = codecs().compressor;
  if (compressor == nullptr) return std::nullopt;
  // Not worth it above 9/10 of the text: a stream that would not fit there is not finished.
  const std::size_t room = plain.size() * 9 / 10 - 4;
  std::string out(4 + room, '\0');
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((plain.size() >> (24 - 8 * i)) & 0xff);
  const std::size_t size = libdeflate_zlib_compress(compressor, plain.data(), plain.size(), out.data() + 4, room);
  if (size == 0) return std::nullopt;
  out.resize(4 + size);
  return out;
}

// What deflated() made, back; nullopt when it is not that (only an authenticated value gets here).
std::optional<std::string> inflated(std::string_view packed) {
  if (packed.size() < 4) return std::nullopt;
  auto* decompressor = codecs().decompressor;
  if (decompressor == nullptr) return std::nullopt;
  std::size_t length = 0;
  for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<unsigned char>(packed[static_cast<std::size_t>(i)]);
  std::string out(length, '\0');
  std::size_t size = 0;
  if (libdeflate_zlib_decompress(decompressor, packed.data() + 4, packed.size() - 4, out.data(), length, &size) !=
          LIBDEFLATE_SUCCESS ||
      size != length) {
    return std::nullopt;
  }
  return out;
}

}  // namespace at_rest_detail

Result<std::shared_ptr<AtRest>> AtRest::fromFile(const std::string& path, const std::string& master_key_id,
                                                 PgSettings primary) {
  if (path.empty()) {
    return keyError("at_rest.master_key: no file named; master key " + master_key_id +
                    " is needed (make one with `vkhid keys new --out FILE`)");
  }
  std::ifstream in(path);
  if (!in) return keyError("master key " + master_key_id + ": cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string hex;
  for (char c : text.str()) {
    if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
  }
  auto key = hexDecode(hex);
  if (!key || key->size() != crypto::kAeadKeyBytes) {
    return keyError("master key " + master_key_id + " in " + path + ": expected 64 hexadecimal digits (32 bytes)");
  }
  return std::make_shared<AtRest>(std::move(*key), master_key_id, std::move(primary));
}

AtRest::AtRest(std::string master_key, std::string master_key_id, PgSettings primary)
    : master_(std::move(master_key)), master_id_(std::move(master_key_id)), primary_(std::move(primary)) {}

std::string AtRest::wrap(std::string_view key, int id) const { return crypto::aeadSeal(master_, key, wrapAad(id)); }

std::optional<std::string> AtRest::unwrap(std::string_view wrapped, int id) const {
  return crypto::aeadOpen(master_, wrapped, wrapAad(id));
}

Status AtRest::checkMasterKey(PgConnection& db) {
  auto r = db.exec("SELECT id, master_key_id, wrapped FROM data_key WHERE destroyed_at IS NULL ORDER BY id", {});
  if (!r) return r.error();
  for (int i = 0; i < r->rows(); ++i) {
    const int id = static_cast<int>(r->getInt(i, 0));
    const std::string wrapped_by(r->get(i, 1));
    if (wrapped_by != master_id_) {
      return keyError("data key " + std::to_string(id) + " is wrapped by master key " + wrapped_by +
                      ", and at_rest.master_key_id is " + master_id_ + ": give master key " + wrapped_by +
                      " (or finish `vkhid keys rotate`)");
    }
    if (!unwrap(fromByteaHex(r->get(i, 2)), id)) {
      return keyError("master key " + master_id_ + " does not open data key " + std::to_string(id) +
                      ": this is not master key " + master_id_);
    }
  }
  return {};
}

Result<int> AtRest::makeKey(const std::string& purpose, const std::optional<std::string>& month) {
  auto conn = PgConnection::connect(primary_);
  if (!conn) return conn.error();
  // After `vkhid keys rotate`, a process still running with the old master key makes no key under it.
  auto other = conn->exec(
      "SELECT master_key_id FROM data_key WHERE destroyed_at IS NULL AND master_key_id <> $1 LIMIT 1", {master_id_});
  if (!other) return other.error();
  if (other->rows() > 0) {
    return keyError("the data keys are wrapped by master key " + std::string(other->get(0, 0)) +
                    " now: restart with it (at_rest.master_key_id)");
  }
  auto next = conn->exec("SELECT nextval('data_key_id')::int", {});
  if (!next) return next.error();
  const int id = static_cast<int>(next->getInt(0, 0));
  auto made = conn->exec(
      "INSERT INTO data_key (id, purpose, month, wrapped, master_key_id) VALUES ($1::int, $2, ($3 || '-01')::date, "
      "$4::bytea, $5) ON CONFLICT DO NOTHING",
      {std::to_string(id), purpose, month, byteaHex(wrap(crypto::randomBytes(crypto::kAeadKeyBytes), id)), master_id_});
  if (!made) return made.error();
  // Another process may have made it first: the live one wins.
  auto live = month ? conn->exec(
                          "SELECT id FROM data_key WHERE purpose = 'data' AND month = ($1 || '-01')::date AND "
                          "retired_at IS NULL AND destroyed_at IS NULL",
                          {*month})
                    : conn->exec("SELECT id FROM data_key WHERE purpose = 'index'", {});
  if (!live) return live.error();
  if (live->rows() == 0) return Error::internal("at_rest.no_key", "data key for " + purpose + " not made");
  return static_cast<int>(live->getInt(0, 0));
}

Result<AtRest::Key> AtRest::key(PgConnection& db, int id) {
  {
    std::lock_guard lock(mutex_);
    if (auto k = keys_.find(id); k != keys_.end()) return k->second;
  }
  auto r = db.exec(
      "SELECT wrapped, coalesce(to_char(month, 'YYYY-MM'), ''), master_key_id, destroyed_at IS NOT NULL FROM data_key "
      "WHERE id = $1::int",
      {std::to_string(id)});
  if (!r) return r.error();
  if (r->rows() == 0) return Error::internal("at_rest.unknown_key", "data key " + std::to_string(id) + " is unknown");
  Key k;
  k.month = std::string(r->get(0, 1));
  if (r->get(0, 3) != "t") {
    if (r->get(0, 2) != master_id_) {
      return keyError("data key " + std::to_string(id) + " is wrapped by master key " + std::string(r->get(0, 2)));
    }
    auto bytes = unwrap(fromByteaHex(r->get(0, 0)), id);
    if (!bytes) return keyError("master key " + master_id_ + " does not open data key " + std::to_string(id));
    k.bytes = std::move(*bytes);
  }
  std::lock_guard lock(mutex_);
  keys_[id] = k;
  return k;
}

Result<int> AtRest::sealingKeyId(PgConnection& db, const std::string& month) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (auto m = month_key_.find(month);
        m != month_key_.end() && now - m->second.looked_up < std::chrono::seconds(10)) {
      return m->second.id;
    }
  }
  auto r = db.exec(
      "SELECT id FROM data_key WHERE purpose = 'data' AND month = ($1 || '-01')::date AND retired_at IS NULL AND "
      "destroyed_at IS NULL",
      {month});
  if (!r) return r.error();
  int id = 0;
  if (r->rows() > 0) {
    id = static_cast<int>(r->getInt(0, 0));
  } else {
    auto made = makeKey("data", month);
    if (!made) return made.error();
    id = *made;
  }
  std::lock_guard lock(mutex_);
  month_key_[month] = {id, now};
  return id;
}

Result<std::string> AtRest::seal(PgConnection& db, std::string_view plain, std::string_view aad,
                                 const std::optional<std::string>& month) {
  auto id = sealingKeyId(db, month.value_or(thisMonth()));
  if (!id) return id.error();
  auto k = key(db, *id);
  if (!k) return k.error();
  if (k->bytes.empty())
    return Error::internal("at_rest.key_destroyed", "data key " + std::to_string(*id) + " is destroyed");
  const auto packed = at_rest_detail::deflated(plain);
  std::string out(packed ? kDeflatedMagic : kMagic);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((*id >> shift) & 0xff);
  out += crypto::aeadSeal(k->bytes, packed ? *packed : plain, aad);
  return out;
}

std::optional<int> AtRest::keyIdOf(std::string_view sealed) {
  if (sealed.size() < kHeader + crypto::kAeadNonceBytes + crypto::kAeadTagBytes ||
      (sealed.substr(0, 3) != kMagic && sealed.substr(0, 3) != kDeflatedMagic)) {
    return std::nullopt;
  }
  int id = 0;
  for (std::size_t i = 3; i < kHeader; ++i) id = (id << 8) | static_cast<unsigned char>(sealed[i]);
  return id;
}

Result<std::string> AtRest::open(PgConnection& db, std::string_view sealed, std::string_view aad) {
  auto id = keyIdOf(sealed);
  if (!id) return Error::internal("at_rest.tampered", "a sealed value of " + std::string(aad) + " is not one");
  auto k = key(db, *id);
  if (!k) return k.error();
  if (k->bytes.empty()) {
    return Error{ErrorKind::NotFound, "at_rest.key_destroyed",
                 "the value of " + std::string(aad) + " was erased with the data key of " + k->month};
  }
  auto plain = crypto::aeadOpen(k->bytes, sealed.substr(kHeader), aad);
  if (plain && sealed.substr(0, 3) == kDeflatedMagic) plain = at_rest_detail::inflated(*plain);
  if (!plain) {
    return Error::internal("at_rest.tampered", "the sealed value of " + std::string(aad) +
                                                   " does not open under data key " + std::to_string(*id) +
                                                   ": it was changed");
  }
  return std::move(*plain);
}

Result<std::string> AtRest::indexHash(PgConnection& db, std::string_view value) {
  std::optional<std::string> cached;
  {
    std::lock_guard lock(mutex_);
    cached = index_key_;
  }
  if (!cached) {
    auto r = db.exec("SELECT id FROM data_key WHERE purpose = 'index'", {});
    if (!r) return r.error();
    int id = 0;
    if (r->rows() > 0) {
      id = static_cast<int>(r->getInt(0, 0));
    } else {
      auto made = makeKey("index", std::nullopt);
      if (!made) return made.error();
      id = *made;
    }
    auto k = key(db, id);
    if (!k) return k.error();
    std::lock_guard lock(mutex_);
    index_key_ = k->bytes;
    cached = k->bytes;
  }
  return crypto::hmacSha256Hex(*cached, value);
}

Status AtRest::rewrap(PgConnection& db, const AtRest& next) {
  auto r = db.exec("SELECT id, wrapped FROM data_key WHERE destroyed_at IS NULL ORDER BY id FOR UPDATE", {});
  if (!r) return r.error();
  for (int i = 0; i < r->rows(); ++i) {
    const int id = static_cast<int>(r->getInt(i, 0));
    auto bytes = unwrap(fromByteaHex(r->get(i, 1)), id);
    if (!bytes) return keyError("master key " + master_id_ + " does not open data key " + std::to_string(id));
    auto w =
        db.exec("UPDATE data_key SET wrapped = $2::bytea, master_key_id = $3, rewrapped_at = now() WHERE id = $1::int",
                {std::to_string(id), byteaHex(next.wrap(*bytes, id)), next.master_id_});
    if (!w) return w.error();
  }
  return {};
}

Result<std::vector<DataKeyInfo>> AtRest::listKeys(PgConnection& db) {
  auto r = db.exec(
      "SELECT id, purpose, coalesce(to_char(month, 'YYYY-MM'), ''), master_key_id, destroyed_at IS NOT NULL FROM "
      "data_key ORDER BY id",
      {});
  if (!r) return r.error();
  std::vector<DataKeyInfo> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({static_cast<int>(r->getInt(i, 0)), std::string(r->get(i, 1)), std::string(r->get(i, 2)),
                   std::string(r->get(i, 3)), r->get(i, 4) == "t"});
  }
  return out;
}

Status loadAtRest(const app::Config& config, PgConnection& db) {
  PgSettings primary{config.database.url, config.database.connect_timeout_s, config.database.statement_timeout_ms,
                     "vkhid-keys"};
  auto loaded = [&]() -> Result<std::shared_ptr<AtRest>> {
    auto ring = AtRest::fromFile(config.at_rest.master_key, config.at_rest.master_key_id, primary);
    if (!ring) return ring.error();
    if (auto s = (*ring)->checkMasterKey(db); !s) return s.error();
    return ring;
  }();
  if (!loaded) {
    whyNone() = loaded.error().message;
    return loaded.error();
  }
  installAtRest(*loaded);
  // Exported at zero from the start, so that the first failure is an increase the alert sees.
  for (const char* code : {"at_rest.tampered", "at_rest.master_key", "at_rest.unknown_key"}) {
    (void)app::metrics().counter(kFailures, kFailuresHelp, {{"code", code}});
  }
  return {};
}

void installAtRest(std::shared_ptr<AtRest> ring) { installed() = std::move(ring); }
AtRest* atRest() { return installed().get(); }

namespace {
Error noRing() {
  return Error::internal("at_rest.no_master_key",
                         whyNone() + " — personal data is never written or read in clear without it");
}
}  // namespace

Status atRestReady() { return atRest() ? Status() : Status(noRing()); }

Result<std::string> sealPersonal(PgConnection& db, std::string_view plain, std::string_view aad) {
  return atRest() ? atRest()->seal(db, plain, aad) : Result<std::string>(noRing());
}
Result<std::string> openPersonal(PgConnection& db, std::string_view sealed, std::string_view aad) {
  auto plain = atRest() ? atRest()->open(db, sealed, aad) : Result<std::string>(noRing());
  if (!plain && plain.error().code != "at_rest.key_destroyed") {
    // The aad names a row (a case's or a package's id), never its data. The alert rule
    // VkhidSealedDataUnreadable watches the counter.
    log::error("a sealed value could not be opened",
               {{"what", std::string(aad)}, {"code", plain.error().code}, {"error", plain.error().message}});
    app::metrics().counter(kFailures, kFailuresHelp, {{"code", plain.error().code}}).inc();
  }
  return plain;
}
Result<std::string> personalIndex(PgConnection& db, std::string_view value) {
  return atRest() ? atRest()->indexHash(db, value) : Result<std::string>(noRing());
}

Result<std::string> sealText(PgConnection& db, std::string_view plain, std::string_view aad) {
  auto sealed = sealPersonal(db, plain, aad);
  if (!sealed) return sealed.error();
  return "sealed:" + hexEncode(*sealed);
}

Result<std::string> openText(PgConnection& db, std::string_view stored, std::string_view aad) {
  if (!stored.starts_with("sealed:")) return std::string(stored);
  const auto sealed = hexDecode(stored.substr(7));
  return openPersonal(db, sealed ? *sealed : std::string(), aad);  // not hex: it does not open (tampered)
}

}  // namespace vkhid::store
