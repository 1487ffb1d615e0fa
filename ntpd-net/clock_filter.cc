// The RFC 5905 section 10 clock filter (see clock_filter.h). Owns the
// shift register and the choice of sample; it must never read a clock,
// decide reachability or polling, or look at packets.
#include "ntpd-net/clock_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>

namespace ntpd::net {
namespace {

// Offsets beyond +-2^62 ns (146 years) are clamped so differences of two
// offsets cannot overflow; real offsets are bounded by era resolution.
constexpr std::int64_t kMaxOffsetNs = std::int64_t{1} << 62;

FilterSample sanitize(const FilterSample& in) {
  FilterSample s = in;
  s.offset_ns = std::clamp(s.offset_ns, -kMaxOffsetNs, kMaxOffsetNs);
  s.delay_ns = std::clamp<std::int64_t>(s.delay_ns, 0, kMaxOffsetNs);
  s.dispersion_ns = std::clamp<std::int64_t>(s.dispersion_ns, 0, kMaxDispersionNs);
  return s;
}

std::int64_t elapsed_ns(common::UnixNs from, common::UnixNs to) {
  // Both are real times (within centuries of each other); a negative age
  // (the clock went back without a reset) ages nothing.
  if (to.ns <= from.ns) return 0;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (from.ns < 0 && to.ns > kMax + from.ns) return kMax;
  return to.ns - from.ns;
}

}  // namespace

std::int64_t log2s_to_ns(int log2s) {
  const int e = std::clamp(log2s, -30, 30);
  if (e >= 0) return common::kNsPerSecond << e;
  return std::max<std::int64_t>(1, common::kNsPerSecond >> -e);
}

ClockFilter::ClockFilter(ClockFilterConfig config) : config_(config) {}

void ClockFilter::clear() { *this = ClockFilter(config_); }

std::size_t ClockFilter::valid_samples() const {
  return static_cast<std::size_t>(
      std::count_if(stages_.begin(), stages_.end(), [](const Stage& s) { return s.valid; }));
}

std::int64_t ClockFilter::aged_dispersion(const Stage& stage, common::UnixNs now) const {
  if (!stage.valid) return kMaxDispersionNs;
  const std::int64_t aged = stage.sample.dispersion_ns + phi_ns(elapsed_ns(stage.sample.time, now));
  return std::min(aged, kMaxDispersionNs);
}

std::int64_t ClockFilter::dispersion_ns(common::UnixNs now) const {
  return std::min(dispersion_ns_ + phi_ns(elapsed_ns(dispersion_time_, now)), kMaxDispersionNs);
}

void ClockFilter::add_dummy(common::UnixNs now) {
  std::shift_right(stages_.begin(), stages_.end(), 1);
  stages_[0] = Stage{FilterSample{0, 0, kMaxDispersionNs, now}, false};
  // Only the dispersion follows; what was published stays (no new data).
  std::array<std::int64_t, kFilterStages> aged{};
  for (std::size_t i = 0; i < kFilterStages; ++i) aged[i] = aged_dispersion(stages_[i], now);
  std::sort(aged.begin(), aged.end());
  std::int64_t disp = 0;
  for (std::size_t i = 0; i < kFilterStages; ++i) disp += aged[i] >> (i + 1);
  dispersion_ns_ = disp;
  dispersion_time_ = now;
}

FilterUpdate ClockFilter::add(const FilterSample& input, const FilterContext& context) {
  const FilterSample sample = sanitize(input);
  const common::UnixNs now = sample.time;
  std::shift_right(stages_.begin(), stages_.end(), 1);
  stages_[0] = Stage{sample, sample.dispersion_ns < kMaxDispersionNs};

  // RFC 5905 A.5.2: age every stage by PHI, then sort by delay. Stages
  // whose dispersion reached MAXDISP (and empty ones) sort last; among
  // equal delays the newer stage wins (stable sort over newest-first).
  std::array<std::int64_t, kFilterStages> aged{};
  std::array<std::size_t, kFilterStages> order{};
  for (std::size_t i = 0; i < kFilterStages; ++i) aged[i] = aged_dispersion(stages_[i], now);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto usable = [&](std::size_t i) { return aged[i] < kMaxDispersionNs; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (usable(a) != usable(b)) return usable(a);
    return stages_[a].sample.delay_ns < stages_[b].sample.delay_ns;
  });
  const auto m = static_cast<std::size_t>(std::count_if(order.begin(), order.end(), usable));

  // Peer dispersion: sum of sorted stage dispersions / 2^(i+1), so the
  // best samples weigh most and empty stages keep it near MAXDISP.
  std::int64_t disp = 0;
  for (std::size_t i = 0; i < kFilterStages; ++i) disp += aged[order[i]] >> (i + 1);
  dispersion_ns_ = disp;
  dispersion_time_ = now;
  if (m == 0) return FilterUpdate::kNoValidSample;

  const FilterSample& chosen = stages_[order[0]].sample;
  // Jitter: RMS of the other usable offsets relative to the chosen one,
  // never below our precision (A.5.2).
  double sum_sq = 0;
  for (std::size_t i = 1; i < m; ++i) {
    const auto d = static_cast<double>(stages_[order[i]].sample.offset_ns - chosen.offset_ns);
    sum_sq += d * d;
  }
  const double rms = m > 1 ? std::sqrt(sum_sq / static_cast<double>(m - 1)) : 0.0;
  const std::int64_t floor_ns = log2s_to_ns(config_.precision_log2s);
  const std::int64_t jitter =
      rms >= static_cast<double>(kMaxDispersionNs)
          ? kMaxDispersionNs
          : std::max(floor_ns, static_cast<std::int64_t>(std::llround(rms)));

  if (published_) {
    // Popcorn spike suppressor (RFC 5905 A.5.2, ntpd clock_filter): once
    // the filter has settled (dispersions below maxdist), a jump larger
    // than SGATE times the established jitter, less than two poll
    // intervals after the last used sample, is held back. The established
    // jitter is used because the spike would inflate the new one, and the
    // window runs to now so a genuine change waits at most two polls.
    const std::int64_t jump_ns = std::llabs(chosen.offset_ns - offset_ns_);
    const bool settled =
        dispersion_ns_ < config_.max_distance_ns && aged[order[0]] < config_.max_distance_ns;
    const std::int64_t window_ns = 2 * log2s_to_ns(context.poll_log2s);
    if (settled && jump_ns / kSpikeGate > jitter_ns_ && elapsed_ns(epoch_, now) < window_ns) {
      return FilterUpdate::kPopcorn;
    }
    // ntpd: never use a sample older than (or the same as) the last one
    // used, except before the system first synchronizes.
    if (chosen.time <= epoch_ && context.system_synchronized) return FilterUpdate::kOlderThanLast;
  }
  published_ = true;
  offset_ns_ = chosen.offset_ns;
  delay_ns_ = chosen.delay_ns;
  jitter_ns_ = jitter;
  epoch_ = chosen.time;
  return FilterUpdate::kPublished;
}

}  // namespace ntpd::net
