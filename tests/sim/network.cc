// Delay draws and outage windows for the simulated network.
#include "tests/sim/network.h"

#include <algorithm>

namespace ntpd::sim {

double Network::one_way(double shift_s) {
  const double random = config_.jitter_s > 0 ? config_.jitter_s * rng_->exponential() : 0.0;
  return std::max(0.0, config_.base_delay_s + shift_s + random);
}

std::optional<Delays> Network::delays(double t_s) {
  if (in_outage(t_s)) return std::nullopt;
  const bool lost_out = rng_->uniform() < config_.loss;
  const bool lost_back = rng_->uniform() < config_.loss;
  const double d1 = one_way(config_.asymmetry_s / 2);
  const double d2 = one_way(-config_.asymmetry_s / 2);
  if (lost_out || lost_back) return std::nullopt;
  return Delays{d1, d2};
}

bool Network::in_outage(double t_s) const {
  return std::any_of(config_.outages.begin(), config_.outages.end(), [t_s](const Outage& o) {
    return t_s >= o.start_s && t_s < o.start_s + o.duration_s;
  });
}

}  // namespace ntpd::sim
