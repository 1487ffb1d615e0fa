// RFC 5905 Appendix A.5.5.1 (local_clock frequency updates) and A.5.5.2
// (clock_adjust), with ntpd's gains. Clamped to +-500 PPM frequency and
// 500 PPM slew, whatever the inputs.
#include "ntpd-clock/discipline_rfc5905.h"

#include <algorithm>
#include <cmath>

namespace ntpd::clock {
namespace {

constexpr double kMaxFrequency = static_cast<double>(kMaxFrequencyPpb) * 1e-9;
constexpr double kMaxSlew = static_cast<double>(kMaxSlewPpb) * 1e-9;

double clamp_frequency(double f) { return std::clamp(f, -kMaxFrequency, kMaxFrequency); }

std::int64_t to_ppb(double rate) {
  return static_cast<std::int64_t>(std::llround(std::clamp(rate, -1e-3, 1e-3) * 1e9));
}

}  // namespace

void Rfc5905Loop::direct_frequency(double offset_s, double mu_s) {
  if (mu_s <= 0) return;
  frequency_ = clamp_frequency(frequency_ + offset_s / mu_s);
}

void Rfc5905Loop::pll_fll(double offset_s, double mu_s, int poll_log2s) {
  const double poll_s = std::ldexp(1.0, poll_log2s);
  // FLL: effective only at and above the Allan intercept (RFC 5905 A.5.5.1).
  if (poll_log2s >= allan_log2s_) {
    frequency_ += (offset_s - clock_offset_) / std::max(poll_s, mu_s) * kFll;
  }
  // PLL: gain shrinks once the update interval passes the Allan intercept.
  const double etemp = std::min(std::ldexp(1.0, allan_log2s_), mu_s);
  const double dtemp = 4 * kPll * poll_s;
  frequency_ = clamp_frequency(frequency_ + offset_s * etemp / (dtemp * dtemp));
}

FrequencyUpdate Rfc5905Loop::frequency_update() const {
  return FrequencyUpdate{to_ppb(frequency_), to_ppb(slew_rate_)};
}

ClockActions Rfc5905Loop::commit(double offset_s, int poll_log2s, bool frequency_changed) {
  ClockActions actions;
  clock_offset_ = offset_s;
  if (kernel_) {
    // ntpd (STA_NANO) passes the poll exponent as the time constant. The
    // kernel slews offset / 2^(2 + constant) per second (SHIFT_PLL 2) and
    // clamps the phase to MAXPHASE (0.5 s); we clamp it further so that the
    // slew never exceeds 500 PPM, whatever ntpd-net claims.
    const int constant = std::clamp(poll_log2s, 0, 10);
    const double limit = std::min(0.5, kMaxSlew * std::ldexp(1.0, 2 + constant));
    const double phase = std::clamp(offset_s, -limit, limit);
    actions.kernel_pll =
        KernelPllUpdate{static_cast<std::int64_t>(std::llround(phase * 1e9)), constant};
    if (frequency_changed) actions.frequency = FrequencyUpdate{to_ppb(frequency_), 0};
    clock_offset_ = 0;
    return actions;
  }
  ClockActions first = tick(0, poll_log2s);
  first.frequency = frequency_update();
  return first;
}

ClockActions Rfc5905Loop::tick(double dt_s, int poll_log2s) {
  ClockActions actions;
  if (kernel_) return actions;
  // adj_host_clock: each second, 1/(CLOCK_PLL * 2^poll) of what is left.
  const double tau_s = kPll * std::ldexp(1.0, poll_log2s);
  if (dt_s > 0) clock_offset_ -= slew_rate_ * dt_s;
  double rate = clock_offset_ / tau_s;
  rate = std::clamp(rate, -kMaxSlew, kMaxSlew);
  rate = std::clamp(rate, -kMaxFrequency - frequency_, kMaxFrequency - frequency_);
  if (std::llround(rate * 1e9) != std::llround(slew_rate_ * 1e9) || dt_s == 0) {
    slew_rate_ = rate;
    actions.frequency = frequency_update();
  }
  return actions;
}

ClockActions Rfc5905Loop::after_step() {
  ClockActions actions;
  clock_offset_ = 0;
  slew_rate_ = 0;
  // The frequency too: a step out of FREQ comes with ntpd's direct_freq().
  actions.frequency = frequency_update();
  if (kernel_) actions.kernel_pll = KernelPllUpdate{0, 0};
  return actions;
}

}  // namespace ntpd::clock
