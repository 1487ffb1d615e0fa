// ntpd's huff-n'-puff filter (ntp_loopfilter.c huffpuff(), ntp_proto.c
// clock_update()): a ring of per-900 s minimum delays over the window.
#include "ntpd-clock/huff_puff.h"

#include <algorithm>
#include <limits>

namespace ntpd::clock {
namespace {
constexpr std::int64_t kNoDelay = std::numeric_limits<std::int64_t>::max();
}  // namespace

HuffPuff::HuffPuff(std::int64_t window_ns)
    : buckets_(static_cast<std::size_t>(std::max<std::int64_t>(1, window_ns / kBucketNs)),
               kNoDelay),
      min_delay_ns_(kNoDelay) {}

void HuffPuff::rotate(std::int64_t now_ns) {
  if (!started_) {
    started_ = true;
    bucket_start_ns_ = now_ns;
    return;
  }
  // Bounded: after a long pause every bucket is stale, so at most one lap.
  std::size_t turns = 0;
  while (now_ns - bucket_start_ns_ >= kBucketNs && turns <= buckets_.size()) {
    bucket_start_ns_ += kBucketNs;
    current_ = (current_ + 1) % buckets_.size();
    buckets_[current_] = kNoDelay;
    ++turns;
  }
  if (now_ns - bucket_start_ns_ >= kBucketNs) bucket_start_ns_ = now_ns;
  if (turns > 0) min_delay_ns_ = *std::min_element(buckets_.begin(), buckets_.end());
}

std::int64_t HuffPuff::correct(std::int64_t offset_ns, std::int64_t delay_ns, std::int64_t now_ns) {
  rotate(now_ns);
  buckets_[current_] = std::min(buckets_[current_], delay_ns);
  min_delay_ns_ = std::min(min_delay_ns_, delay_ns);
  // The excess delay is assumed to sit on the leg that makes |offset| larger.
  const std::int64_t half_excess = (delay_ns - min_delay_ns_) / 2;
  return offset_ns > 0 ? offset_ns - half_excess : offset_ns + half_excess;
}

}  // namespace ntpd::clock
