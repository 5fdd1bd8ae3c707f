// `vkhid journal export --from D --to D --reason R [--format csv|html|json] [--out FILE]`: the journal of
// violence reports for the Social Policy ministry, read as the admin API reads it (flows/violence_journal):
// the read is an evidence entry with who ran it, the entries, the reason and the digest of what was written.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gateway/cli/admin_commands.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/violence_journal.hpp"

namespace vkhid::cli {

void addJournalCommand(CLI::App& app, int& exit_code, std::string& config_path) {
  struct Args {
    flows::JournalRead read;
    std::string out;
  };
  auto a = std::make_shared<Args>();
  auto* journal = app.add_subcommand("journal", "The journal of violence reports (annex 6 to CMU resolution 658)");
  journal->require_subcommand(1);
  auto* exp = journal->add_subcommand("export", "Read the journal for a period; the read is logged as evidence");
  exp->add_option("--from", a->read.from, "first Kyiv date of entry, YYYY-MM-DD")->required();
  exp->add_option("--to", a->read.to, "last Kyiv date of entry, inclusive")->required();
  exp->add_option("--reason", a->read.reason, "why it is read (recorded with the read)")->required();
  exp->add_option("--format", a->read.format, "csv, html or json")->default_val("csv");
  exp->add_option("--out", a->out, "write to this file instead of standard output");
  exp->add_option("--config", config_path, "gateway configuration");
  exp->callback([a, &exit_code, &config_path] {
    auto db = adminDatabase(config_path);
    if (!db) {
      std::fprintf(stderr, "vkhid: %s\n", db.error().message.c_str());
      exit_code = 2;
      return;
    }
    const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
    a->read.actor = std::string("admin:cli:") + (user ? user : "unknown");
    auto text = flows::readJournal(*db, a->read);
    if (!text) {
      std::fprintf(stderr, "vkhid: %s\n", text.error().message.c_str());
      exit_code = 2;
      return;
    }
    if (a->out.empty()) {
      std::fwrite(text->data(), 1, text->size(), stdout);
      return;
    }
    if (auto s = crypto::writeFile(a->out, *text); !s) {
      std::fprintf(stderr, "vkhid: %s\n", s.error().message.c_str());
      exit_code = 2;
      return;
    }
    std::printf("journal written to %s\n", a->out.c_str());
  });
}

}  // namespace vkhid::cli
