// WakeupPacer (see wakeup_pacer.h).
#include "ntpd-net/wakeup_pacer.h"

#include <algorithm>

namespace ntpd::net {

std::optional<std::int64_t> WakeupPacer::after_wakeup(std::int64_t now_ns, std::size_t datagrams) {
  if (!enabled_) return std::nullopt;
  if (datagrams == 0) {
    // A whole window (or a wakeup for the error queue) brought nothing: the
    // load is gone, wake per datagram again.
    pacing_ = false;
    last_busy_ns_.reset();
    return std::nullopt;
  }
  if (!pacing_) {
    const bool busy = last_busy_ns_ && now_ns - *last_busy_ns_ < kMinWindowNs;
    last_busy_ns_ = now_ns;
    if (!busy) return std::nullopt;
    pacing_ = true;
    window_ns_ = kMinWindowNs;
    deadline_ns_ = now_ns + window_ns_;
    return deadline_ns_;
  }
  // The last window held `datagrams`: scale it toward kTargetBatch.
  const std::int64_t scaled = window_ns_ * static_cast<std::int64_t>(kTargetBatch) /
                              static_cast<std::int64_t>(std::min(datagrams, kTargetBatch * 64));
  window_ns_ = std::clamp(scaled, kMinWindowNs, kMaxWindowNs);
  // A late window (answering took longer than planned) starts now rather
  // than trying to catch up.
  deadline_ns_ = std::max(deadline_ns_ + window_ns_, now_ns);
  return deadline_ns_;
}

}  // namespace ntpd::net
