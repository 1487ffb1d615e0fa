// The clock process's own policy on the system samples ntpd-net sends,
// independent of ntpd-net (which may be compromised): range, synchronization
// and rate checks, the reasons a sample is refused, and a gate that lets the
// caller log each reason once per minute. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <optional>

#include "ntpd-clock/log_gate.h"

namespace ntpd::clock {

// One validated system sample (mirrors ValidSample in validate.h, without
// protobuf). offset = reference - local; positive: local clock behind.
struct DisciplineSample {
  std::int64_t offset_ns = 0;
  std::int64_t delay_ns = 0;  // round-trip delay to the system peer
  std::int64_t dispersion_ns = 0;
  std::int64_t jitter_ns = 0;
  std::int64_t root_distance_ns = 0;
  std::uint32_t stratum = 0;
  std::uint32_t leap = 0;  // voted leap indicator, 0..2 (3: unsynchronized)
  std::uint32_t refid = 0;
  std::int32_t poll_log2s = 0;
  // How long before its receipt the offset was measured (the clock filter
  // may pass a sample several polls old): IPC Sample.age_ns. The discipline
  // removes the correction it applied since then (offset_now).
  std::int64_t age_ns = 0;
};

// Why the discipline refused a sample. Every refusal leaves the clock alone.
enum class SampleRejection {
  kOutOfRange,      // a field no honest ntpd-net can produce
  kUnsynchronized,  // leap 3 or stratum 16+: the source is not synchronized
  kTooFrequent,     // faster than the poll rules allow (burst of 8, then 1 per minpoll/2)
  kSpike,           // above the step threshold inside the stepout interval (RFC 5905 SPIK)
  kAfterExit,       // the discipline already asked the process to exit
};
inline constexpr int kSampleRejectionCount = 5;
const char* to_string(SampleRejection reason);

// Hard bounds (RFC 5905 section 7.3 quantities; MAXDISP 16 s).
inline constexpr std::int64_t kMaxOffsetNs = std::int64_t{1} << 61;  // ~73 years
inline constexpr std::int64_t kMaxDurationNs = 16'000'000'000;
inline constexpr int kPolicyMinPollLog2s = 3;
inline constexpr int kPolicyMaxPollLog2s = 17;
// Eight filter stages at the longest poll.
inline constexpr std::int64_t kMaxSampleAgeNs = std::int64_t{8} << 17 << 30;

// Range and rate checks. Rate: ntpd-net sends one sample per system update,
// i.e. at most one per poll of the system peer, except the iburst at start
// and after a step (8 at >= 1 s spacing). A token bucket of 8 refilled once
// per 2^(min_poll - 1) s, with a 1 s minimum spacing, admits every honest
// stream and caps a lying one.
class SamplePolicy {
 public:
  static constexpr int kBurst = 8;
  static constexpr std::int64_t kMinSpacingNs = 1'000'000'000;

  explicit SamplePolicy(int min_poll_log2s);
  std::optional<SampleRejection> check(const DisciplineSample& sample, std::int64_t now_ns);
  // After a step every association restarts (with its iburst): refill.
  void refill() { tokens_ = kBurst; }

 private:
  std::int64_t refill_ns_;
  int tokens_ = kBurst;
  bool seen_ = false;
  std::int64_t last_accepted_ns_ = 0;
  std::int64_t last_refill_ns_ = 0;
};

// "Log each rejection once per kind per minute" (log_gate.h).
using RejectionLogGate = KindLogGate<SampleRejection, kSampleRejectionCount>;

}  // namespace ntpd::clock
