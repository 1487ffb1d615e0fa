// The hybrid PLL/FLL of RFC 5905 Appendix A.5.5 as ntpd's loop filter
// implements it (ntp_loopfilter.c: local_clock, direct_freq, adj_host_clock),
// both with the kernel PLL doing the slewing and as a user-space loop. Only
// the arithmetic: the step/spike/panic state machine lives in discipline.cc.
// Units: seconds and seconds per second (doubles); offset = reference - local.
#pragma once

#include "ntpd-clock/clock_driver.h"

namespace ntpd::clock {

class Rfc5905Loop {
 public:
  // ntpd's loop constants (ntp_loopfilter.c).
  static constexpr double kPll = 16;      // CLOCK_PLL: PLL loop gain
  static constexpr double kFll = 0.25;    // CLOCK_FLL: FLL loop gain
  static constexpr double kFloor = 5e-4;  // CLOCK_FLOOR: offset floor for freq training

  Rfc5905Loop(int allan_log2s, bool kernel) : allan_log2s_(allan_log2s), kernel_(kernel) {}

  void set_frequency(double frequency) { frequency_ = frequency; }
  double frequency() const { return frequency_; }
  bool kernel() const { return kernel_; }

  // FREQ state after the stepout interval: the frequency that would have
  // kept `offset_s` from accumulating over `mu_s` (ntpd's direct_freq).
  void direct_frequency(double offset_s, double mu_s);
  // RFC 5905 A.5.5.1 default branch: PLL always, FLL above the Allan
  // intercept. `mu_s` is the time since the last update.
  void pll_fll(double offset_s, double mu_s, int poll_log2s);
  // Adopts `offset_s` as the phase to amortize and returns what the clock
  // must do: hand it to the kernel PLL, or (user-space) set the frequency.
  // `frequency_changed` adds an ADJ_FREQUENCY for the kernel.
  ClockActions commit(double offset_s, int poll_log2s, bool frequency_changed);
  // RFC 5905 A.5.5.2 clock-adjust process (user-space loop only): one
  // second's share of the remaining phase, as a slew rate.
  ClockActions tick(double dt_s, int poll_log2s);
  // After a step: nothing left to amortize (the kernel's phase is cleared).
  ClockActions after_step();
  // Kernel mode: the kernel trains the frequency; the driver reports it.
  void observe_kernel_frequency(double frequency) { frequency_ = frequency; }
  double residual_offset() const { return clock_offset_; }
  double slew_rate() const { return slew_rate_; }

 private:
  FrequencyUpdate frequency_update() const;

  int allan_log2s_;
  bool kernel_;
  double frequency_ = 0;     // drift_comp, s/s
  double clock_offset_ = 0;  // phase left to amortize (user-space), s
  double slew_rate_ = 0;     // current amortization rate, s/s
};

}  // namespace ntpd::clock
