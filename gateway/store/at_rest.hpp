// Personal data at rest (issue 29, docs/privacy.md): the key ring that seals and opens it. Values are
// AES-256-GCM under a data key of their month; data keys live in the database (table data_key), each
// wrapped by the master key, which lives outside it (a file, named by at_rest.master_key and
// at_rest.master_key_id). A sealed value is
//   "vk1" || data key id (4 bytes, big-endian) || nonce (12) || ciphertext || tag (16),
// authenticated with the row and column it belongs to (its "aad"), so it opens nowhere else; "vk2" is
// the same for a value deflated (zlib) before it was sealed — text of 256 bytes or more that shrinks.
//
// There is no fallback to clear text: without the master key nothing is sealed or opened, and the
// gateway refuses to start (checkMasterKey). Thread-safe; one ring per process (install/atRest), as the
// store's functions that read and write personal data are reached from every flow.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/app/config.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::store {

// What the ring knows of one data key (the key itself stays inside).
struct DataKeyInfo {
  int id = 0;
  std::string purpose;  // data | index
  std::string month;    // YYYY-MM for data keys
  std::string master_key_id;
  bool destroyed = false;
  long long values = -1;  // how many values it seals (listKeys counts them)
};

class AtRest {
 public:
  // Reads the master key: a file of 64 hexadecimal digits (32 bytes), not readable by others in
  // production (the profile checks). An error names the key id and the file.
  // `primary` is where new data keys are made, on a connection of their own, so that a key is committed
  // before any value sealed under it (a seal inside a transaction that rolls back loses no key).
  static Result<std::shared_ptr<AtRest>> fromFile(const std::string& path, const std::string& master_key_id,
                                                  PgSettings primary);
  AtRest(std::string master_key, std::string master_key_id, PgSettings primary);

  const std::string& masterKeyId() const { return master_id_; }

  // Opens every live data key with the master key: an error (at_rest.master_key) names the key id a key
  // is wrapped by when that is not ours, or says that ours does not open it. serve and the CLI call it
  // before any work.
  Status checkMasterKey(PgConnection& db);

  // Seals `plain` for the row `aad` names, under the sealing data key of `month` (YYYY-MM; default the
  // current month, UTC), made on first use. Which key seals a month is looked up again after 10 s, so a
  // key retired by `vkhid keys reencrypt` stops sealing in every process soon after.
  Result<std::string> seal(PgConnection& db, std::string_view plain, std::string_view aad,
                           const std::optional<std::string>& month = std::nullopt);
  // The plaintext of a sealed value. Errors: at_rest.tampered (the value, or its row binding, was
  // changed), at_rest.key_destroyed (its month was erased), at_rest.unknown_key.
  Result<std::string> open(PgConnection& db, std::string_view sealed, std::string_view aad);
  // The data key id a sealed value names; nullopt when `sealed` is not a sealed value.
  static std::optional<int> keyIdOf(std::string_view sealed);

  // HMAC-SHA-256 of `value` under the index key (made on first use), hex: for equality search.
  Result<std::string> indexHash(PgConnection& db, std::string_view value);

  // Re-wraps every live data key under `next` (in one transaction of the caller's); the ring then uses it.
  Status rewrap(PgConnection& db, const AtRest& next);
  // The keys in the database, oldest first.
  static Result<std::vector<DataKeyInfo>> listKeys(PgConnection& db);

 private:
  struct Key {
    std::string bytes;  // empty: destroyed
    std::string month;
  };
  Result<Key> key(PgConnection& db, int id);
  Result<int> sealingKeyId(PgConnection& db, const std::string& month);
  Result<int> makeKey(const std::string& purpose, const std::optional<std::string>& month);
  std::optional<std::string> unwrap(std::string_view wrapped, int id) const;
  std::string wrap(std::string_view key, int id) const;

  std::string master_;
  std::string master_id_;
  PgSettings primary_;
  std::mutex mutex_;
  std::map<int, Key> keys_;
  struct Sealing {
    int id;
    std::chrono::steady_clock::time_point looked_up;
  };
  std::map<std::string, Sealing> month_key_;  // YYYY-MM -> the data key that seals it
  std::optional<std::string> index_key_;
};

// Reads the master key the configuration names (at_rest.*), checks on `db` (the primary) that it opens
// every data key, and installs it as the process's ring. serve and the CLI call it at start; an error
// names the key id needed.
Status loadAtRest(const app::Config& config, PgConnection& db);
// Whether a ring is installed; if not, the error loadAtRest failed with.
Status atRestReady();

// The process's ring (set once at start by serve, the CLI and the notifier); null before.
void installAtRest(std::shared_ptr<AtRest> ring);
AtRest* atRest();
// Seal and open through the process's ring; at_rest.no_master_key when none is installed.
Result<std::string> sealPersonal(PgConnection& db, std::string_view plain, std::string_view aad);
Result<std::string> openPersonal(PgConnection& db, std::string_view sealed, std::string_view aad);
Result<std::string> personalIndex(PgConnection& db, std::string_view value);
// The same for a text column: "sealed:" and the sealed value in hex. openText gives a value without
// the prefix back as it is (written before it was sealed).
Result<std::string> sealText(PgConnection& db, std::string_view plain, std::string_view aad);
Result<std::string> openText(PgConnection& db, std::string_view stored, std::string_view aad);

namespace at_rest_detail {
// What a "vk2" value holds before it is sealed: the text's length (4 bytes, big-endian), then a zlib
// stream (libdeflate, level 1); nullopt when the text is under 256 bytes or would not shrink by a tenth.
// inflated() gives the text back from any zlib stream of it, whatever its window or its maker.
std::optional<std::string> deflated(std::string_view plain);
std::optional<std::string> inflated(std::string_view packed);
}  // namespace at_rest_detail

}  // namespace vkhid::store
