// RtcKeeper: the clock process's use of the RTC. Opened once at startup
// (before the sandbox), then set from the clock loop's tick while the
// discipline says synchronized, as RtcPolicy allows (every 11 minutes), to
// UTC or local time as /etc/adjtime says. No RTC (the open fails) is logged
// once and the daemon carries on. Never reads or sets the system clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/time_types.h"
#include "ntpd-clock/rtc.h"

namespace ntpd::clock {

struct RtcKeeperConfig {
  // ntp.conf `enable rtc` / `disable rtc` (default enabled), and never with
  // --no-clock-control or -q.
  bool enabled = true;
  RtcTimescale timescale = RtcTimescale::kUtc;  // /etc/adjtime
  UtcOffsetFn utc_offset;                       // required for kLocal
};

class RtcKeeper {
 public:
  // priority is a syslog priority (LOG_NOTICE, ...).
  using Log = std::function<void(int priority, const std::string& text)>;
  // Opens the RTC; nullptr with *error when there is none.
  using Opener = std::function<std::unique_ptr<RtcWriter>(std::string* error)>;

  // Calls `open` only when enabled; a failure is logged here, once.
  RtcKeeper(RtcKeeperConfig config, const Opener& open, Log log);

  // From the clock loop's once-a-second tick: `synchronized` is the
  // discipline's state, `now_mono_ns` CLOCK_MONOTONIC, `now` the system
  // time the RTC should be set from.
  void tick(bool synchronized, std::int64_t now_mono_ns, common::UnixNs now);

  bool active() const { return writer_ != nullptr; }
  std::uint64_t sets() const { return sets_; }

 private:
  RtcKeeperConfig config_;
  RtcPolicy policy_;
  std::unique_ptr<RtcWriter> writer_;
  Log log_;
  std::uint64_t sets_ = 0;
  bool announced_ = false;
};

}  // namespace ntpd::clock
