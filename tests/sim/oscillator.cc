// Oscillator frequency over time: constant + random walk + sinusoid.
#include "tests/sim/oscillator.h"

#include <cmath>
#include <numbers>

namespace ntpd::sim {

double Oscillator::frequency() const {
  const double temp =
      config_.temp_ppm == 0 || config_.temp_period_s <= 0
          ? 0.0
          : config_.temp_ppm * std::sin(2 * std::numbers::pi * elapsed_s_ / config_.temp_period_s);
  return (config_.frequency_ppm + temp) * 1e-6 + walk_;
}

void Oscillator::advance(double dt_s) {
  elapsed_s_ += dt_s;
  if (config_.wander_ppb_per_s != 0) {
    walk_ += config_.wander_ppb_per_s * 1e-9 * std::sqrt(dt_s) * rng_->normal();
  }
}

}  // namespace ntpd::sim
