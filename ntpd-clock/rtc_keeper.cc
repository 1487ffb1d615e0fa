// The RTC keeper (see rtc_keeper.h): policy and conversion around one
// RtcWriter. The only effect is RtcWriter::set.
#include "ntpd-clock/rtc_keeper.h"

#include <syslog.h>

namespace ntpd::clock {

RtcKeeper::RtcKeeper(RtcKeeperConfig config, const Opener& open, Log log)
    : config_(std::move(config)), policy_(config_.enabled), log_(std::move(log)) {
  if (!config_.enabled) return;
  std::string error;
  writer_ = open(&error);
  if (!writer_) {
    log_(LOG_NOTICE, "RTC: " + error + "; running without a hardware clock");
    policy_.disable();
  }
}

void RtcKeeper::tick(bool synchronized, std::int64_t now_mono_ns, common::UnixNs now) {
  if (!writer_ || !policy_.due(synchronized, now_mono_ns)) return;
  std::string error;
  const auto time = rtc_time_for(now, config_.timescale, config_.utc_offset, &error);
  if (!time) {
    log_(LOG_WARNING, "RTC: not set: " + error);
    return;
  }
  // A failing set is retried after the next interval (RtcPolicy::due).
  if (!writer_->set(*time, &error)) {
    log_(LOG_WARNING, "RTC: " + error);
    return;
  }
  ++sets_;
  if (!announced_) {
    announced_ = true;
    log_(LOG_INFO, std::string("RTC: set to the system time (") +
                       (config_.timescale == RtcTimescale::kLocal ? "local time" : "UTC") +
                       "); again every 11 minutes while synchronized");
  }
}

}  // namespace ntpd::clock
