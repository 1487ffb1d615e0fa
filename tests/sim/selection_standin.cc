// The stand-in's filter, intersection and median (see selection_standin.h;
// to be replaced by ntpd-net's real selection core).
#include "tests/sim/selection_standin.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ntpd::sim {
namespace {

constexpr double kPhi = 15e-6;  // dispersion growth, s/s
constexpr double kPrecisionS = 1e-6;
constexpr double kAllanS = 2048;        // ntpd's allan intercept, 2^11 s
constexpr double kMinDistanceS = 1e-3;  // ntpd's mindist floor on the distance

std::int64_t to_ns(double s) { return static_cast<std::int64_t>(std::llround(s * 1e9)); }

}  // namespace

std::optional<FilterSample> ClockFilterStandIn::add(const FilterSample& sample) {
  stages_[next_] = sample;
  next_ = (next_ + 1) % kStages;
  // ntpd's clock_filter sort key: the delay, plus the dispersion grown
  // since the measurement once a sample is older than the Allan intercept.
  auto key = [&sample](const FilterSample& s) {
    const double age = sample.time_s - s.time_s;
    return age > kAllanS ? s.delay_s + kPhi * age : s.delay_s;
  };
  const FilterSample* best = nullptr;
  for (const auto& stage : stages_) {
    if (stage && (best == nullptr || key(*stage) < key(*best))) best = &*stage;
  }
  double sum = 0;
  int n = 0;
  for (const auto& stage : stages_) {
    if (!stage) continue;
    sum += (stage->offset_s - best->offset_s) * (stage->offset_s - best->offset_s);
    ++n;
  }
  jitter_s_ = std::max(kPrecisionS, std::sqrt(sum / std::max(1, n - 1)));
  if (best->time_s <= last_used_time_s_) return std::nullopt;
  last_used_time_s_ = best->time_s;
  best_ = *best;
  return best_;
}

void ClockFilterStandIn::reset() { *this = ClockFilterStandIn(); }

void SelectionStandIn::add(std::size_t server, const FilterSample& sample) {
  if (filters_[server].add(sample)) fresh_[server] = true;
}

void SelectionStandIn::reset() {
  last_epoch_s_ = -1;
  for (auto& f : filters_) f.reset();
  std::fill(fresh_.begin(), fresh_.end(), false);
}

std::optional<clock::DisciplineSample> SelectionStandIn::combine(double now_s, int poll_log2s) {
  struct Candidate {
    std::size_t server;
    FilterSample s;
    double distance;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < filters_.size(); ++i) {
    const auto& best = filters_[i].best();
    if (!best) continue;
    const double distance = std::max(
        kMinDistanceS, best->delay_s / 2 + kPhi * (now_s - best->time_s) + filters_[i].jitter_s());
    candidates.push_back({i, *best, distance});
  }
  const std::size_t n = candidates.size();
  // Intersection: the smallest number of falsetickers f (< n/2) for which
  // some interval is common to n - f correctness intervals.
  std::vector<std::pair<double, int>> edges;
  for (const auto& c : candidates) {
    edges.push_back({c.s.offset_s - c.distance, +1});
    edges.push_back({c.s.offset_s + c.distance, -1});
  }
  std::sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  });
  std::optional<std::pair<double, double>> range;
  for (std::size_t f = 0; 2 * f < n && !range; ++f) {
    const int need = static_cast<int>(n - f);
    int count = 0;
    double low = 0;
    bool in = false;
    for (const auto& [x, delta] : edges) {
      count += delta;
      if (!in && count >= need) {
        in = true;
        low = x;
      } else if (in && count < need) {
        range = std::make_pair(low, x);
        break;
      }
    }
  }
  std::vector<Candidate> truechimers;
  if (range) {
    for (const auto& c : candidates) {
      if (c.s.offset_s + c.distance >= range->first && c.s.offset_s - c.distance <= range->second) {
        truechimers.push_back(c);
      }
    }
  }
  last_truechimers_ = truechimers.size();
  const bool any_fresh = std::any_of(truechimers.begin(), truechimers.end(),
                                     [this](const Candidate& c) { return fresh_[c.server]; });
  std::fill(fresh_.begin(), fresh_.end(), false);
  if (truechimers.empty() || !any_fresh) return std::nullopt;
  std::sort(truechimers.begin(), truechimers.end(),
            [](const Candidate& a, const Candidate& b) { return a.s.offset_s < b.s.offset_s; });
  const std::size_t m = truechimers.size();
  const Candidate& lo = truechimers[(m - 1) / 2];
  const Candidate& hi = truechimers[m / 2];
  // ntpd's clock_update: only when the system peer's sample is newer than
  // the one used last (here the newer of the median pair).
  const double epoch = std::max(lo.s.time_s, hi.s.time_s);
  if (epoch <= last_epoch_s_) return std::nullopt;
  last_epoch_s_ = epoch;
  clock::DisciplineSample out;
  out.offset_ns = to_ns((lo.s.offset_s + hi.s.offset_s) / 2);
  out.delay_ns = to_ns((lo.s.delay_s + hi.s.delay_s) / 2);
  out.dispersion_ns = to_ns(kPhi * (now_s - lo.s.time_s) + kPrecisionS);
  out.jitter_ns = to_ns(filters_[lo.server].jitter_s());
  out.root_distance_ns = to_ns(lo.distance);
  out.stratum = 2;
  out.leap = 0;
  out.refid = 0x7f000001u + static_cast<std::uint32_t>(lo.server);
  out.poll_log2s = poll_log2s;
  if (send_age_) {
    // The median's measurement time: the mean of the two middle ones.
    const double measured = (lo.s.time_s + hi.s.time_s) / 2;
    out.age_ns = std::max<std::int64_t>(0, to_ns(now_s - measured));
  }
  return out;
}

}  // namespace ntpd::sim
