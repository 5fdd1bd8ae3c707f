// The UCC's duty officers (notify.rota_file, config/notifications/rota.example.toml): who is told of an
// escalation at a given moment, Kyiv time. People are in the file's order; an escalation goes to the
// first on duty, and one nobody acknowledges goes on to the next on duty (step 1, 2 …).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::notify {

struct DutyOfficer {
  std::string name;
  std::string email;
  unsigned days = 0x7f;  // bit 0 = Monday … bit 6 = Sunday
  int from_minute = 0;   // of the day, Kyiv time; from > to: across midnight
  int to_minute = 1440;
  bool restricted = false;  // may be told of violence and trafficking reports
};

// "21:00-08:00" -> {1260, 480}; nullopt if malformed.
std::optional<std::pair<int, int>> parseHours(std::string_view text);
// Whether Kyiv minute-of-day `minute` lies in [from, to), across midnight when from > to.
bool withinHours(int minute, int from, int to);

// Kyiv local weekday (0 = Monday) and minute of the day of `t`.
struct KyivMoment {
  int weekday = 0;
  int minute = 0;
};
KyivMoment kyivMoment(std::chrono::system_clock::time_point t);

class Rota {
 public:
  // An empty path: nobody (escalations are only in the console's inbox). config.invalid naming the entry.
  static Result<Rota> load(const std::string& path);
  static Result<Rota> parse(const std::string& toml, const std::string& source);

  // Who is on duty at `at`, in rota order; `restricted`: only those who may be told of restricted cases.
  std::vector<DutyOfficer> onDuty(KyivMoment at, bool restricted) const;
  // The officer for an escalation's `step` (0: first told; 1: the next, after nobody acknowledged …);
  // nullopt when the rota has nobody left on duty for it.
  std::optional<DutyOfficer> forStep(KyivMoment at, bool restricted, int step) const;
  std::size_t size() const { return people_.size(); }

 private:
  std::vector<DutyOfficer> people_;
};

}  // namespace vkhid::notify
