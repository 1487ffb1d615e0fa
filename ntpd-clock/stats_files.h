// Statistics files (loopstats) in ntpd's exact format, with ntpd's file
// generations (`filegen loopstats file loopstats type day link enable`).
// Formatting and naming are pure; StatsFile writes through the statsdir fd
// opened at startup (openat/linkat/renameat only) and never names a path
// outside that directory. The only code that writes statistics files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ntp_conf_types.h"
#include "common/time_types.h"
#include "common/unique_fd.h"

namespace ntpd::clock {

// One discipline update, as ntpd's record_loop_stats() takes it.
struct LoopStatsRecord {
  common::UnixNs time;             // when the update happened (UTC)
  std::int64_t offset_ns = 0;      // reference - local; positive: local clock behind
  std::int64_t frequency_ppb = 0;  // the frequency correction (drift file value)
  std::int64_t jitter_ns = 0;      // RFC 5905 clock jitter
  std::int64_t wander_ppb = 0;     // RFC 5905 clock wander (ntpd's clock_stability)
  int poll_log2s = 0;              // ntpd's "time constant" column: it writes sys_poll
};

// One loopstats line with its '\n', byte for byte as ntp 4.2.8 writes it
// (ntpd/ntp_util.c record_loop_stats):
//   "%lu %s %.9f %.3f %.9f %.6f %d\n" with MJD, seconds past UTC midnight
//   rounded to 3 decimals (ulfptoa(&now, 3)), offset s, frequency PPM,
//   jitter s, wander PPM, poll. E.g.
//   "60000 3600.123 0.000012345 -12.345 0.000001234 0.012000 6\n".
// Digits come from the integers exactly (no binary floating point). NTPsec
// differs only in printing the frequency with 6 decimals.
std::string format_loopstats_line(const LoopStatsRecord& record);

// The generation file name for `base` at `now` (ntp_filegen.c
// filegen_open): none "base", pid "base.#PID", day "base.YYYYMMDD", week
// "base.YYYYwWW" (ISO 8601 year and week), month "base.YYYYMM", year
// "base.YYYY", all in UTC. nullopt for `age`, which counts daemon uptime
// and is not supported.
std::optional<std::string> filegen_file_name(std::string_view base, common::FilegenType type,
                                             common::UnixNs now, pid_t pid);

struct FilegenSettings {
  std::string base_name = "loopstats";                   // `file`: one name inside statsdir
  common::FilegenType type = common::FilegenType::kDay;  // ntpd's default
  bool link = true;  // ntpd's default (ntp_filegen.c filegen_init sets FGEN_FLAG_LINK)
};

struct StatsWrite {
  bool written = false;
  // Why the line was not written, or (written) a problem to log: the new
  // generation could not be opened (the line went to the previous one, as
  // ntpd does) or the link to it could not be made.
  std::string error;
};

class StatsFile {
 public:
  // Opens statsdir at startup. Fails for a base name that is empty, ".",
  // "..", contains '/', or for `type age`.
  static std::optional<StatsFile> open(const std::string& stats_dir, FilegenSettings settings,
                                       std::string* error);

  // Appends `line` (a '\n' is added if missing) with one write() to the
  // generation for `now`, opening the next generation when `now` leaves the
  // current one and then pointing the link at it: a hard link named
  // base_name, replaced atomically (link to a temporary name, rename). Like
  // ntpd, a lone file already named base_name (link count 1) is first kept
  // as "base_name.PIDCn" rather than destroyed.
  StatsWrite append(common::UnixNs now, std::string_view line);

  const std::string& current_file_name() const { return current_name_; }

 private:
  StatsFile(common::UniqueFd dir, std::string dir_path, FilegenSettings settings, pid_t pid);
  std::string update_link();

  common::UniqueFd dir_;
  std::string dir_path_;  // for messages only
  FilegenSettings settings_;
  pid_t pid_;
  common::UniqueFd file_;
  std::string current_name_;
  unsigned long saved_conflicts_ = 0;
};

}  // namespace ntpd::clock
