// The kernel clock: the only code in the project that calls clock_adjtime
// on CLOCK_REALTIME. Applies ClockActions and re-checks every bound (500 PPM
// frequency and slew, the kernel PLL's time constant) before it does; no
// policy here. Also the "no clock control" driver, which records what it
// would have done and never calls a syscall that changes the clock.
#pragma once

#include <cstdint>
#include <optional>

#include "ntpd-clock/clock_driver.h"

namespace ntpd::clock {

class KernelClock final : public ClockDriver {
 public:
  bool step(std::int64_t offset_ns) override;
  bool adjtime(std::int64_t offset_ns) override;
  bool set_frequency(const FrequencyUpdate& update) override;
  bool kernel_pll(const KernelPllUpdate& update) override;
  bool set_status(const KernelStatus& status) override;
  bool arm_leap(LeapArm leap) override;

  // The kernel's current frequency correction (read-only adjtimex).
  static std::optional<std::int64_t> read_frequency_ppb();
};

// --no-clock-control: computes everything, applies nothing (like chronyd -x).
class NoClockControl final : public ClockDriver {
 public:
  bool step(std::int64_t offset_ns) override;
  bool adjtime(std::int64_t offset_ns) override;
  bool set_frequency(const FrequencyUpdate& update) override;
  bool kernel_pll(const KernelPllUpdate&) override { return true; }
  bool set_status(const KernelStatus&) override { return true; }
  bool arm_leap(LeapArm) override { return true; }

  std::uint64_t steps() const { return steps_; }
  std::int64_t last_frequency_ppb() const { return frequency_ppb_; }

 private:
  std::uint64_t steps_ = 0;
  std::int64_t frequency_ppb_ = 0;
};

}  // namespace ntpd::clock
