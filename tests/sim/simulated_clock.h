// The simulated system clock: a ClockDriver that applies the discipline's
// actions the way Linux does (ADJ_SETOFFSET, ADJ_FREQUENCY, the nanokernel
// PLL of kernel/time/ntp.c, adjtime at 500 PPM) to a local clock driven by a
// simulated oscillator. It only ever changes its own state. Offsets follow
// the project's convention: reference - local; positive: local clock behind.
#pragma once

#include <cstdint>

#include "ntpd-clock/clock_driver.h"
#include "tests/sim/oscillator.h"

namespace ntpd::sim {

class SimulatedClock final : public clock::ClockDriver {
 public:
  // `initial_offset_s`: reference - local at time zero.
  SimulatedClock(double initial_offset_s, Oscillator oscillator);

  bool step(std::int64_t offset_ns) override;
  bool adjtime(std::int64_t offset_ns) override;
  bool set_frequency(const clock::FrequencyUpdate& update) override;
  bool kernel_pll(const clock::KernelPllUpdate& update) override;
  bool set_status(const clock::KernelStatus& status) override;
  bool arm_leap(clock::LeapArm leap) override;

  // `dt_s` of true time passes. The kernel's once-a-second PLL slew
  // (second_overflow) is applied as the equivalent continuous rate.
  void advance(double dt_s);
  // Somebody else sets the clock (not the discipline): local += jump_s.
  void jump(double jump_s) { error_s_ += jump_s; }

  double true_time_s() const { return time_s_; }
  double offset_s() const { return -error_s_; }  // reference - local, now
  // Offset `dt_s` seconds into the current second (for packet timestamps).
  double offset_after(double dt_s) const { return -(error_s_ + rate() * dt_s); }
  // CLOCK_MONOTONIC: local rate, never stepped.
  std::int64_t monotonic_ns(double dt_s = 0) const;
  double rate() const;             // d(local - true)/dt now
  double frequency_error() const;  // oscillator + frequency correction, s/s
  double slew_rate() const;        // the phase-correction part of the rate, s/s
  double adjustment_rate() const;  // everything the discipline adds to the oscillator
  double kernel_frequency() const { return freq_; }
  int steps() const { return steps_; }
  const clock::KernelStatus& status() const { return status_; }
  clock::LeapArm leap() const { return leap_; }

 private:
  double pll_chunk() const;

  Oscillator oscillator_;
  double time_s_ = 0;
  double error_s_;         // local - true
  double mono_s_ = 0;      // monotonic - true
  double freq_ = 0;        // kernel time_freq (s/s): ADJ_FREQUENCY or trained by the PLL
  double user_slew_ = 0;   // the slew part of the last ADJ_FREQUENCY (inside freq_)
  double pll_offset_ = 0;  // kernel time_offset, s
  int pll_constant_ = 0;
  double pll_reftime_ = -1;
  double adjtime_left_ = 0;
  int steps_ = 0;
  clock::KernelStatus status_;
  clock::LeapArm leap_ = clock::LeapArm::kNone;
};

}  // namespace ntpd::sim
