// The keys of personal data at rest (docs/privacy.md, docs/operations.md): `vkhid keys new` makes a
// master key file, `list` shows the data keys, `rotate` re-wraps them under a new master key, and
// `reencrypt` gives old months new data keys, re-sealing their values online.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "gateway/app/config.hpp"
#include "gateway/cli/admin_commands.hpp"
#include "gateway/crypto/aead.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/data_keys.hpp"
#include "gateway/store/at_rest.hpp"

namespace vkhid::cli {
namespace {

struct KeyOptions {
  std::string out, new_key, new_id;
  int older_than_days = 365;
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid keys: %s\n", what.c_str());
  return 2;
}

// 32 random bytes as 64 hex digits, into a new file of mode 600 (never over an existing one).
int keysNew(const KeyOptions& o) {
  const int fd = ::open(o.out.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return complain("--out " + o.out + ": cannot create it (it must not exist yet)");
  const std::string hex = hexEncode(crypto::randomBytes(crypto::kAeadKeyBytes)) + "\n";
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!written) return complain("--out " + o.out + ": cannot write it");
  std::printf(
      "master key written to %s (mode 600): name it in at_rest.master_key, with an id of your choice in "
      "at_rest.master_key_id\n",
      o.out.c_str());
  return 0;
}

// The database (migrated, acting for the operator) and the configured master key, which must open the
// data keys.
struct Loaded {
  store::PgConnection db;
  app::Config config;
};
Result<Loaded> load(const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return config.error();
  auto db = adminDatabase(config_path);  // which loads the master key, or records why it could not
  if (!db) return db.error();
  if (auto s = store::atRestReady(); !s) return s.error();
  return Loaded{std::move(*db), std::move(*config)};
}

int keysList(const std::string& config_path) {
  auto l = load(config_path);
  if (!l) return complain(l.error().message);
  auto keys = store::AtRest::listKeys(l->db);
  if (!keys) return complain(keys.error().message);
  std::printf("%-6s %-6s %-8s %-20s %s\n", "id", "use", "month", "master key", "state");
  for (const auto& k : *keys) {
    std::printf("%-6d %-6s %-8s %-20s %s\n", k.id, k.purpose.c_str(), k.month.empty() ? "-" : k.month.c_str(),
                k.master_key_id.c_str(), k.destroyed ? "destroyed" : "live");
  }
  return 0;
}

int keysRotate(const KeyOptions& o, const std::string& config_path) {
  auto l = load(config_path);
  if (!l) return complain(l.error().message);
  if (o.new_id == l->config.at_rest.master_key_id) return complain("--new-id: the current master key's id already");
  auto next = store::AtRest::fromFile(o.new_key, o.new_id, {});
  if (!next) return complain(next.error().message);
  if (auto s = flows::rotateMasterKey(l->db, *store::atRest(), **next); !s) return complain(s.error().message);
  std::printf(
      "the data keys are wrapped by master key %s now: set at_rest.master_key = \"%s\" and at_rest.master_key_id = "
      "\"%s\", restart every gateway, then destroy the old master key\n",
      o.new_id.c_str(), o.new_key.c_str(), o.new_id.c_str());
  return 0;
}

int keysReencrypt(const KeyOptions& o, const std::string& config_path) {
  auto l = load(config_path);
  if (!l) return complain(l.error().message);
  auto done = flows::reencryptOlderThan(l->db, *store::atRest(), o.older_than_days,
                                        [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  if (!done) return complain(done.error().message);
  std::printf("keys reencrypt: %d data key(s) replaced, %lld value(s) re-sealed\n", done->keys, done->values);
  return 0;
}

}  // namespace

void addKeyCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<KeyOptions>();
  auto* keys = app.add_subcommand("keys", "The keys of personal data at rest (docs/privacy.md)");
  keys->require_subcommand(1);
  auto* made = keys->add_subcommand("new", "Write a new master key (64 hex digits) to a new file of mode 600");
  made->add_option("--out", o->out, "the file to make")->required();
  made->callback([o, &exit_code] { exit_code = keysNew(*o); });
  auto* list = keys->add_subcommand("list", "The data keys: month, the master key that wraps each, state");
  list->callback([&exit_code, &config_path] { exit_code = keysList(config_path); });
  auto* rotate = keys->add_subcommand("rotate", "Re-wrap every data key under a new master key");
  rotate->add_option("--new-key", o->new_key, "the new master key's file (vkhid keys new)")->required();
  rotate->add_option("--new-id", o->new_id, "the new master key's id")->required();
  rotate->callback([o, &exit_code, &config_path] { exit_code = keysRotate(*o, config_path); });
  auto* re = keys->add_subcommand("reencrypt", "New data keys for old ones; their values re-sealed online");
  re->add_option("--older-than", o->older_than_days, "days: data keys made before then are replaced")
      ->check(CLI::Range(0, 36500));
  re->callback([o, &exit_code, &config_path] { exit_code = keysReencrypt(*o, config_path); });
}

}  // namespace vkhid::cli
