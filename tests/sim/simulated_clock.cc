// Linux's clock arithmetic, in doubles: ntp_update_offset() and
// second_overflow() of kernel/time/ntp.c (SHIFT_PLL 2, SHIFT_FLL 2, MINSEC
// 256, MAXSEC 2048, MAXPHASE 0.5 s, MAXFREQ 500 PPM), adjtime at 500 PPM.
#include "tests/sim/simulated_clock.h"

#include <algorithm>
#include <cmath>

namespace ntpd::sim {
namespace {

constexpr double kMaxFreq = 500e-6;
constexpr double kAdjtimeRate = 500e-6;
constexpr int kShiftPll = 2;
constexpr double kMinSec = 256;
constexpr double kMaxSec = 2048;

}  // namespace

SimulatedClock::SimulatedClock(double initial_offset_s, Oscillator oscillator)
    : oscillator_(oscillator), error_s_(-initial_offset_s) {}

bool SimulatedClock::step(std::int64_t offset_ns) {
  error_s_ += static_cast<double>(offset_ns) * 1e-9;
  ++steps_;
  return true;
}

bool SimulatedClock::adjtime(std::int64_t offset_ns) {
  adjtime_left_ = static_cast<double>(offset_ns) * 1e-9;
  return true;
}

bool SimulatedClock::set_frequency(const clock::FrequencyUpdate& update) {
  const double f = static_cast<double>(update.frequency_ppb) * 1e-9;
  const double s = static_cast<double>(update.slew_ppb) * 1e-9;
  freq_ = std::clamp(f + s, -kMaxFreq, kMaxFreq);
  user_slew_ = freq_ - std::clamp(f, -kMaxFreq, kMaxFreq);
  return true;
}

bool SimulatedClock::kernel_pll(const clock::KernelPllUpdate& update) {
  const double offset = std::clamp(static_cast<double>(update.offset_ns) * 1e-9, -0.5, 0.5);
  pll_constant_ = std::clamp(update.time_constant, 0, 10);
  user_slew_ = 0;
  // The kernel counts whole seconds of CLOCK_REALTIME.
  double secs = pll_reftime_ < 0 ? 0.0 : std::floor(time_s_) - pll_reftime_;
  pll_reftime_ = std::floor(time_s_);
  double freq_adj = 0;
  if (secs >= kMinSec && secs > kMaxSec) freq_adj = offset / (4 * secs);  // FLL
  secs = std::min(secs, std::ldexp(1.0, kShiftPll + 1 + pll_constant_));
  freq_adj += offset * secs / std::ldexp(1.0, 2 * (kShiftPll + 2 + pll_constant_));
  freq_ = std::clamp(freq_ + freq_adj, -kMaxFreq, kMaxFreq);
  pll_offset_ = offset;
  return true;
}

bool SimulatedClock::set_status(const clock::KernelStatus& status) {
  status_ = status;
  return true;
}

bool SimulatedClock::arm_leap(clock::LeapArm leap) {
  leap_ = leap;
  return true;
}

double SimulatedClock::pll_chunk() const {
  return pll_offset_ / std::ldexp(1.0, kShiftPll + pll_constant_);
}

double SimulatedClock::rate() const {
  const double adj = std::clamp(adjtime_left_, -kAdjtimeRate, kAdjtimeRate);
  return oscillator_.frequency() + freq_ + pll_chunk() + adj;
}

double SimulatedClock::frequency_error() const {
  return oscillator_.frequency() + freq_ - user_slew_;
}

double SimulatedClock::slew_rate() const {
  return user_slew_ + pll_chunk() + std::clamp(adjtime_left_, -kAdjtimeRate, kAdjtimeRate);
}

double SimulatedClock::adjustment_rate() const { return rate() - oscillator_.frequency(); }

std::int64_t SimulatedClock::monotonic_ns(double dt_s) const {
  const double t = time_s_ + dt_s + mono_s_ + rate() * dt_s;
  return static_cast<std::int64_t>(std::llround(t * 1e9));
}

void SimulatedClock::advance(double dt_s) {
  // At most a second at a time: the kernel's phase slew decays per second.
  while (dt_s > 1) {
    advance(1);
    dt_s -= 1;
  }
  if (dt_s <= 0) return;
  const double r = rate();
  error_s_ += r * dt_s;
  mono_s_ += r * dt_s;
  pll_offset_ -= pll_chunk() * dt_s;
  const double adj = std::clamp(adjtime_left_, -kAdjtimeRate, kAdjtimeRate);
  adjtime_left_ -= adj * dt_s;
  oscillator_.advance(dt_s);
  time_s_ += dt_s;
}

}  // namespace ntpd::sim
