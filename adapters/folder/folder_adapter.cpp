#include "adapters/folder/folder_adapter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "gateway/app/logging.hpp"

namespace vkhid::adapters::folder {
namespace {

namespace fs = std::filesystem;

Status fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Error::unavailable("folder.io", "cannot open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::unavailable("folder.io", "fsync failed for " + path);
  return {};
}

class FolderAdapter final : public Adapter {
 public:
  explicit FolderAdapter(Settings settings) : settings_(settings) {}
  ~FolderAdapter() override { stop(); }

  std::string name() const override { return kName; }

  DeliveryOutcome deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& e) override {
    std::string dir = e.setting("outgoing");
    if (dir.empty()) return DeliveryOutcome::failed("endpoint needs an outgoing folder");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (auto s = writeAtomically(dir, msg_id + ".xml", bytes); !s) return DeliveryOutcome::retry(s.error().message);
    return DeliveryOutcome::delivered(msg_id + ".xml");
  }

  Status health(const Endpoint& e) override {
    return fs::is_directory(e.setting("outgoing")) ? Status()
                                                   : Status(Error::unavailable("folder.io", "no outgoing folder"));
  }

  std::string address(const Endpoint&) const override { return "localhost:0"; }

  Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink) override {
    stop();
    stopping_ = false;
    poller_ = std::thread([this, endpoints, sink = std::move(sink)] { poll(endpoints, sink); });
    return {};
  }

  void stop() override {
    stopping_ = true;
    if (poller_.joinable()) poller_.join();
  }

 private:
  void poll(const std::vector<Endpoint>& endpoints, const InboundSink& sink) {
    std::map<std::string, std::uintmax_t> seen_size;  // a file is complete once its size holds still
    while (!stopping_) {
      for (const auto& e : endpoints) {
        std::string dir = e.setting("incoming");
        if (dir.empty()) continue;
        std::error_code ec;
        fs::create_directories(fs::path(dir) / "done", ec);
        fs::create_directories(fs::path(dir) / "rejected", ec);
        std::vector<fs::path> files;
        for (const auto& f : fs::directory_iterator(dir, ec)) {
          if (f.is_regular_file() && f.path().extension() == ".xml") files.push_back(f.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& path : files) {
          if (stopping_) return;
          auto size = fs::file_size(path, ec);
          if (ec) continue;
          auto& last = seen_size[path.string()];
          if (last != size + 1) {  // first look, or it changed: look again next round
            last = size + 1;
            continue;
          }
          seen_size.erase(path.string());
          take(e, path, sink);
        }
      }
      for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void take(const Endpoint& e, const fs::path& path, const InboundSink& sink) {
    // A file over the package limit is read no further than the limit and a byte: enough for the core to
    // refuse it as too large, never a whole huge file in memory. The file is closed before the core
    // handles it: nothing of the share is held open while a transaction runs (a share held open cannot
    // be unmounted, and a read-only spell would outlast itself).
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      std::error_code size_ec;
      auto size = fs::file_size(path, size_ec);
      bytes.assign(std::min<std::uintmax_t>(size_ec ? 0 : size, settings_.max_package_bytes + 1), '\0');
      in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      bytes.resize(static_cast<std::size_t>(in.gcount()));
    }
    InboundVerdict verdict;
    InboundPackage package{std::move(bytes), kName, endpointIdentity(kName, e.org_id), e.org_id, &verdict, {}};
    if (auto s = sink(package); !s) return;  // not handled now: the file stays for the next round
    std::error_code ec;
    fs::path dir = path.parent_path();
    if (verdict.accepted) {
      fs::rename(path, dir / "done" / path.filename(), ec);
    } else {
      std::ofstream(dir / "rejected" / (path.filename().string() + ".error.txt"))
          << "code " << verdict.error_code << ": " << verdict.detail << "\n";
      fs::rename(path, dir / "rejected" / path.filename(), ec);
    }
    if (ec) log::warn("folder adapter: cannot move a handled file", {{"error", ec.message()}});
  }

  Settings settings_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace

Status writeAtomically(const std::string& dir, const std::string& name, std::string_view bytes) {
  std::string tmp = dir + "/." + name + ".tmp";
  std::string final_path = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Error::unavailable("folder.io", "cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error::unavailable("folder.io", "cannot write " + tmp + ": " + std::strerror(errno));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error::unavailable("folder.io", "cannot flush " + tmp);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error::unavailable("folder.io", "cannot rename into " + final_path + ": " + std::strerror(errno));
  }
  return fsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

std::unique_ptr<Adapter> makeAdapter(Settings settings) { return std::make_unique<FolderAdapter>(settings); }

}  // namespace vkhid::adapters::folder
