// Keeping the hardware clock right while synchronized (what hwclock
// --systohc and the kernel's 11-minute mode do). Pure parts: /etc/adjtime's
// UTC/LOCAL line, system time -> struct rtc_time, and the "every 11 minutes,
// only while synchronized" policy. Shell: Rtc, the only code that issues
// RTC_SET_TIME, on an fd opened at startup. Never opens a path after startup.
#pragma once

#include <linux/rtc.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/time_types.h"
#include "common/unique_fd.h"

namespace ntpd::clock {

inline constexpr char kDefaultAdjtimePath[] = "/etc/adjtime";
inline constexpr char kDefaultRtcPath[] = "/dev/rtc0";

enum class RtcTimescale { kUtc, kLocal };

// Parses /etc/adjtime as util-linux hwclock does (hwclock.c read_adjtime):
// line 3 is "UTC" or "LOCAL"; a missing or empty line 3 means UTC; any
// other text also means UTC, with *warning set (hwclock warns likewise).
// hwclock compares case-sensitively; a final line without '\n' is accepted.
RtcTimescale parse_adjtime(std::string_view text, std::string* warning);

// Shell, for startup: reads `path`; an absent file means UTC with no
// warning ("If the adjtime file doesn't exist, the default is UTC time",
// hwclock(8)); an unreadable one means UTC with *warning set.
RtcTimescale load_adjtime(const std::string& path, std::string* warning);

// Seconds east of UTC in force at `unix_s` (e.g. +3600 for CET in winter).
using UtcOffsetFn = std::function<std::int64_t(std::int64_t unix_s)>;

// An offset function over the process's time zone. Calls tzset() now, so
// the zone file is read at startup; later calls use glibc's cached rules
// (localtime_r does not re-read the file) and open nothing.
UtcOffsetFn system_utc_offset();

// The time the RTC should hold at `now`: UTC, or local time through
// `utc_offset` (required for kLocal). Rounded to the nearest second (the
// RTC's resolution). tm_mon is 0-11, tm_year counts from 1900, tm_wday and
// tm_yday are filled, tm_isdst is 0. nullopt with *error for a date before
// 1970, or an offset beyond +-1 day.
std::optional<rtc_time> rtc_time_for(common::UnixNs now, RtcTimescale timescale,
                                     const UtcOffsetFn& utc_offset, std::string* error);

// When to set the RTC: never more often than every 11 minutes (the kernel's
// 11-minute mode, kernel/time/ntp.c), only while synchronized, and not at
// all when disabled. Time is CLOCK_MONOTONIC nanoseconds.
class RtcPolicy {
 public:
  static constexpr std::int64_t kIntervalNs = 11 * 60 * common::kNsPerSecond;

  explicit RtcPolicy(bool enabled) : enabled_(enabled) {}

  // True when the RTC should be set now; the attempt is then recorded, so a
  // failing set is retried only after another interval.
  bool due(bool synchronized, std::int64_t now_mono_ns);
  // E.g. after the RTC turned out to be missing: stop asking.
  void disable() { enabled_ = false; }
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  std::optional<std::int64_t> last_set_mono_ns_;
};

// What RtcKeeper writes through: the RTC device, or a fake in tests.
class RtcWriter {
 public:
  virtual ~RtcWriter() = default;
  // Sets the hardware clock; false with *error naming the device and errno.
  virtual bool set(const rtc_time& time, std::string* error) = 0;
};

class Rtc final : public RtcWriter {
 public:
  // Opens the RTC device (default /dev/rtc0) at startup. nullopt with
  // *error ("cannot open /dev/rtc0: No such file or directory") when there
  // is none: the caller logs that once and carries on without an RTC.
  static std::optional<Rtc> open(const std::string& path, std::string* error);

  // ioctl(RTC_SET_TIME). False with *error naming the device and errno
  // (ENOTTY when the fd is not an RTC).
  bool set(const rtc_time& time, std::string* error) override;
  const std::string& path() const { return path_; }

 private:
  Rtc(common::UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  common::UniqueFd fd_;
  std::string path_;
};

}  // namespace ntpd::clock
