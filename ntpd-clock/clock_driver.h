// The contract between the discipline (which decides) and a clock (which
// obeys): ClockActions, and the ClockDriver interface with two
// implementations, the kernel (clock_adjtime on CLOCK_REALTIME, clock
// process only) and the simulator's SimulatedClock (tests/sim/). Data and an
// interface only: no policy here, and nothing here touches a clock.
// Sign convention: offset = reference - local; positive: local clock behind,
// so a positive step moves the clock forward and a positive frequency makes it
// run faster.
#pragma once

#include <cstdint>
#include <optional>

namespace ntpd::clock {

inline constexpr std::int64_t kMaxFrequencyPpb = 500'000;  // +-500 PPM, ntpd's NTP_MAXFREQ
inline constexpr std::int64_t kMaxSlewPpb = 500'000;       // 500 PPM, ntpd's slew limit

enum class LeapArm { kNone, kInsert, kDelete };  // STA_INS / STA_DEL

// Frequency of the clock, applied as one ADJ_FREQUENCY of (frequency_ppb +
// slew_ppb). frequency_ppb is the discipline's estimate of the oscillator's
// correction (what the drift file keeps); slew_ppb is a temporary addition
// that amortizes a phase offset (user-space loops). Both are within +-500
// PPM and so is their sum. (With the kernel PLL the phase slew comes on top
// of the kernel frequency, each within 500 PPM.)
struct FrequencyUpdate {
  std::int64_t frequency_ppb = 0;
  std::int64_t slew_ppb = 0;
  friend bool operator==(const FrequencyUpdate&, const FrequencyUpdate&) = default;
};

// An offset handed to the kernel PLL (STA_PLL; ADJ_OFFSET | ADJ_TIMECONST,
// nanosecond mode). The kernel slews the phase and trains its frequency; it
// slews offset / 2^(2 + time_constant) per second, so the discipline keeps
// |offset| <= 500 PPM * 2^(2 + time_constant) (and <= 0.5 s, MAXPHASE).
struct KernelPllUpdate {
  std::int64_t offset_ns = 0;
  int time_constant = 0;  // ntpd passes the poll exponent; 0..10
  friend bool operator==(const KernelPllUpdate&, const KernelPllUpdate&) = default;
};

// The kernel's view of our quality (timex maxerror, esterror, STA_UNSYNC).
struct KernelStatus {
  bool synchronized = false;  // STA_UNSYNC cleared only while true
  std::int64_t maxerror_ns = 0;
  std::int64_t esterror_ns = 0;
  friend bool operator==(const KernelStatus&, const KernelStatus&) = default;
};

// Everything one discipline decision asks of the clock. Unset fields mean
// "leave as is". A driver applies them in the order of apply_actions().
struct ClockActions {
  std::optional<std::int64_t> step_ns;     // ADJ_SETOFFSET by this much
  std::optional<std::int64_t> adjtime_ns;  // one-shot slew at 500 PPM (adjtime; -q slews)
  std::optional<FrequencyUpdate> frequency;
  std::optional<KernelPllUpdate> kernel_pll;
  std::optional<KernelStatus> status;
  std::optional<LeapArm> leap;

  bool empty() const {
    return !step_ns && !adjtime_ns && !frequency && !kernel_pll && !status && !leap;
  }
};

// Executes ClockActions. Every method returns false if the clock refused;
// the caller logs it. Implementations re-check the documented bounds (they
// are the last line of defence) and clamp rather than exceed them.
class ClockDriver {
 public:
  virtual ~ClockDriver() = default;
  virtual bool step(std::int64_t offset_ns) = 0;
  virtual bool adjtime(std::int64_t offset_ns) = 0;
  virtual bool set_frequency(const FrequencyUpdate& update) = 0;
  virtual bool kernel_pll(const KernelPllUpdate& update) = 0;
  virtual bool set_status(const KernelStatus& status) = 0;
  virtual bool arm_leap(LeapArm leap) = 0;
};

// Applies `actions` in the one correct order: phase first (step, one-shot
// slew), then frequency and kernel PLL, then status and leap. Returns false
// if any call failed (the remaining ones are still attempted).
inline bool apply_actions(ClockDriver& driver, const ClockActions& actions) {
  bool ok = true;
  if (actions.step_ns) ok = driver.step(*actions.step_ns) && ok;
  if (actions.adjtime_ns) ok = driver.adjtime(*actions.adjtime_ns) && ok;
  if (actions.frequency) ok = driver.set_frequency(*actions.frequency) && ok;
  if (actions.kernel_pll) ok = driver.kernel_pll(*actions.kernel_pll) && ok;
  if (actions.status) ok = driver.set_status(*actions.status) && ok;
  if (actions.leap) ok = driver.arm_leap(*actions.leap) && ok;
  return ok;
}

}  // namespace ntpd::clock
