// The per-association clock filter of RFC 5905 section 10 (A.5.2
// clock_filter) with ntpd's refinements: an 8-stage shift register of
// (offset, delay, dispersion, time) samples, from which it picks the
// minimum-delay sample and computes the peer dispersion and jitter.
// Pure code for ntpd-net: time comes in as arguments; no I/O, no clock reads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/time_types.h"

namespace ntpd::net {

inline constexpr std::size_t kFilterStages = 8;                              // RFC 5905 NSTAGE
inline constexpr std::int64_t kMaxDispersionNs = 16 * common::kNsPerSecond;  // MAXDISP
// PHI, the frequency tolerance (15 PPM): dispersion grows 15 us per second.
inline constexpr std::int64_t kPhiNsPerSecond = 15'000;
inline constexpr int kSpikeGate = 3;  // SGATE: popcorn spike threshold, in jitters

// PHI * duration, for a duration in ns (negative durations age nothing).
constexpr std::int64_t phi_ns(std::int64_t duration_ns) {
  if (duration_ns <= 0) return 0;
  if (duration_ns >= kMaxDispersionNs / kPhiNsPerSecond * common::kNsPerSecond) {
    return kMaxDispersionNs;
  }
  return duration_ns / 1'000'000 * 15 + duration_ns % 1'000'000 * 15 / 1'000'000;
}

// 2^log2s seconds in ns, log2s clamped to [-30, 30] (precisions and polls
// from the wire can be any int8); never less than 1 ns.
std::int64_t log2s_to_ns(int log2s);

struct ClockFilterConfig {
  std::int8_t precision_log2s = -20;                            // ours: the jitter floor
  std::int64_t max_distance_ns = 3 * common::kNsPerSecond / 2;  // tos maxdist (ntpd: 1.5 s)
};

// One measurement (RFC 5905 section 8): offset = reference - local,
// positive means the local clock is behind; time is the local receive time.
struct FilterSample {
  std::int64_t offset_ns = 0;
  std::int64_t delay_ns = 0;       // >= 0
  std::int64_t dispersion_ns = 0;  // epsilon at `time`, >= 0
  common::UnixNs time;
};

enum class FilterUpdate : std::uint8_t {
  kPublished,      // the chosen sample is new: offset/delay/epoch moved to it
  kOlderThanLast,  // chosen sample not newer than the last used (ntpd's rule)
  kPopcorn,        // chosen sample is a spike (RFC 5905 A.5.2, SGATE) and was held back
  kNoValidSample,  // nothing usable in the register; only the dispersion changed
};

// What the caller's poll process tells each update.
struct FilterContext {
  std::int8_t poll_log2s = 6;       // the association's host poll (popcorn window)
  bool system_synchronized = true;  // before first sync "anything goes" (A.5.2)
};

class ClockFilter {
 public:
  struct Stage {
    FilterSample sample;
    bool valid = false;  // false: empty stage or a dummy (MAXDISP) shifted in
  };

  explicit ClockFilter(ClockFilterConfig config = {});

  // Shifts `sample` in (dropping the oldest), sorts by delay and re-derives
  // offset, delay, jitter and dispersion at sample.time. Dispersion and
  // offset inputs are clamped to sane ranges (dispersion to MAXDISP).
  FilterUpdate add(const FilterSample& sample, const FilterContext& context);
  // Shifts in an invalid MAXDISP sample (ntpd does this when a poll goes
  // unanswered) so a silent server's dispersion grows; publishes nothing.
  void add_dummy(common::UnixNs now);
  // Forgets every sample and the published state (RFC 5905 clear()).
  void clear();

  bool has_estimate() const { return published_; }
  std::int64_t offset_ns() const { return offset_ns_; }  // theta of the last published sample
  std::int64_t delay_ns() const { return delay_ns_; }
  std::int64_t jitter_ns() const { return jitter_ns_; }  // psi: RMS of offsets vs the chosen one
  // Peer dispersion epsilon (sum of sorted stage dispersions / 2^(i+1),
  // empty stages counting MAXDISP) grown by PHI to `now`; <= MAXDISP.
  std::int64_t dispersion_ns(common::UnixNs now) const;
  common::UnixNs epoch() const { return epoch_; }  // time of the last published sample
  // Stages newest first; stage 0 is the latest sample.
  const std::array<Stage, kFilterStages>& stages() const { return stages_; }
  std::size_t valid_samples() const;

 private:
  std::int64_t aged_dispersion(const Stage& stage, common::UnixNs now) const;

  ClockFilterConfig config_;
  std::array<Stage, kFilterStages> stages_{};
  bool published_ = false;
  std::int64_t offset_ns_ = 0;
  std::int64_t delay_ns_ = 0;
  std::int64_t jitter_ns_ = 0;
  std::int64_t dispersion_ns_ = kMaxDispersionNs;  // as of dispersion_time_
  common::UnixNs dispersion_time_;
  common::UnixNs epoch_;
};

}  // namespace ntpd::net
