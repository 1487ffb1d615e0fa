// Range, synchronization and rate checks on system samples; the log gate.
// Never trusts that validate.cc ran first: every bound is re-checked here.
#include "ntpd-clock/discipline_policy.h"

namespace ntpd::clock {
namespace {

bool in_range(std::int64_t value, std::int64_t low, std::int64_t high) {
  return value >= low && value <= high;
}

}  // namespace

const char* to_string(SampleRejection reason) {
  switch (reason) {
    case SampleRejection::kOutOfRange:
      return "out of range";
    case SampleRejection::kUnsynchronized:
      return "source unsynchronized";
    case SampleRejection::kTooFrequent:
      return "faster than the poll rules allow";
    case SampleRejection::kSpike:
      return "spike suppressed";
    case SampleRejection::kAfterExit:
      return "after exit";
  }
  return "unknown";
}

SamplePolicy::SamplePolicy(int min_poll_log2s) {
  if (min_poll_log2s < kPolicyMinPollLog2s) min_poll_log2s = kPolicyMinPollLog2s;
  if (min_poll_log2s > kPolicyMaxPollLog2s) min_poll_log2s = kPolicyMaxPollLog2s;
  refill_ns_ = (std::int64_t{1} << (min_poll_log2s - 1)) * 1'000'000'000;
}

std::optional<SampleRejection> SamplePolicy::check(const DisciplineSample& s, std::int64_t now_ns) {
  if (!in_range(s.offset_ns, -kMaxOffsetNs, kMaxOffsetNs)) return SampleRejection::kOutOfRange;
  for (std::int64_t d : {s.delay_ns, s.dispersion_ns, s.jitter_ns, s.root_distance_ns}) {
    if (!in_range(d, 0, kMaxDurationNs)) return SampleRejection::kOutOfRange;
  }
  if (!in_range(s.age_ns, 0, kMaxSampleAgeNs)) return SampleRejection::kOutOfRange;
  if (!in_range(s.poll_log2s, kPolicyMinPollLog2s, kPolicyMaxPollLog2s)) {
    return SampleRejection::kOutOfRange;
  }
  if (s.leap > 3) return SampleRejection::kOutOfRange;
  // RFC 5905 section 7.3: leap 3 is "clock unsynchronized", stratum 16 the same.
  if (s.leap == 3 || s.stratum >= 16) return SampleRejection::kUnsynchronized;

  if (!seen_) {
    seen_ = true;
    last_refill_ns_ = now_ns;
  } else {
    if (now_ns - last_accepted_ns_ < kMinSpacingNs) return SampleRejection::kTooFrequent;
    if (now_ns > last_refill_ns_) {
      const std::int64_t earned = (now_ns - last_refill_ns_) / refill_ns_;
      if (earned >= kBurst - tokens_) {
        tokens_ = kBurst;
        last_refill_ns_ = now_ns;
      } else if (earned > 0) {
        tokens_ += static_cast<int>(earned);
        last_refill_ns_ += earned * refill_ns_;
      }
    }
  }
  if (tokens_ == 0) return SampleRejection::kTooFrequent;
  --tokens_;
  last_accepted_ns_ = now_ns;
  return std::nullopt;
}

}  // namespace ntpd::clock
