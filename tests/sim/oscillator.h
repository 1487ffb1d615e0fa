// A simulated crystal oscillator: a fixed frequency error, a random-walk
// wander and a temperature-like sinusoidal drift. Frequencies are errors in
// s/s; positive means the local clock runs fast (gains time).
#pragma once

#include "tests/sim/sim_random.h"

namespace ntpd::sim {

struct OscillatorConfig {
  double frequency_ppm = 0;     // constant error
  double wander_ppb_per_s = 0;  // random walk: sd of the change per second (ppb)
  double temp_ppm = 0;          // amplitude of the temperature-like drift
  double temp_period_s = 86400;
};

class Oscillator {
 public:
  Oscillator(const OscillatorConfig& config, Rng& rng) : config_(config), rng_(&rng) {}
  double frequency() const;   // the error now, s/s
  void advance(double dt_s);  // time passes: the wander walks

 private:
  OscillatorConfig config_;
  Rng* rng_;
  double elapsed_s_ = 0;
  double walk_ = 0;  // s/s
};

}  // namespace ntpd::sim
