// The clock discipline: a pure core fed validated system samples and a
// monotonic time, returning what the clock must do (ClockActions) and what
// the process must do (reset associations, exit). It follows RFC 5905 section
// 11.3 and Appendix A.5.5 (local_clock, rstclock) and ntpd's documented rules
// for steps, stepout, panic, -g, -x and -q. It never reads a clock, a file or
// the environment. Sign convention: offset = reference - local; positive:
// local clock behind. Clock-process only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ntpd-clock/clock_driver.h"
#include "ntpd-clock/discipline_policy.h"
#include "ntpd-clock/discipline_regression.h"
#include "ntpd-clock/discipline_rfc5905.h"
#include "ntpd-clock/huff_puff.h"

namespace ntpd::clock {

// kRegression (default): the chrony-style loop of discipline_regression.h,
// always driven through ADJ_FREQUENCY (frequency plus phase slew, as chrony
// does on Linux), whatever `kernel` says. kRfc5905: ntpd's hybrid PLL/FLL,
// through the kernel PLL when `kernel` is set (and the step threshold is in
// (0, 0.5 s], ntpd's rule), else through the user-space clock-adjust process.
enum class LoopAlgorithm { kRegression, kRfc5905 };

// RFC 5905 A.5.5.1 states (ntpd's EVNT_NSET .. EVNT_SYNC).
enum class LoopState { kNset, kFset, kSpik, kFreq, kSync };
const char* to_string(LoopState state);

enum class ExitReason {
  kNone,
  kPanic,         // offset above the panic threshold (without -g, or after the first update)
  kSlewLimit,     // -x: offset too large to slew (above 600 s)
  kQuitAfterSet,  // -q: the clock was set; exit status 0
};

inline constexpr std::int64_t kNsPerS = 1'000'000'000;

struct DisciplineConfig {
  // tinker step. 0: every update steps (issue 5's rule; ntpd's own manual
  // says 0 disables stepping).
  std::int64_t step_threshold_ns = 128'000'000;
  std::int64_t stepout_ns = 900 * kNsPerS;           // tinker stepout
  std::int64_t panic_threshold_ns = 1000 * kNsPerS;  // tinker panic; 0: never panic
  std::int64_t dispersion_ppb = 15'000;              // tinker dispersion (PHI, 15 PPM)
  int allan_log2s = 11;                              // tinker allan (RFC 5905 ALLAN)
  std::int64_t huffpuff_ns = 0;                      // tinker huffpuff window; 0: off
  // Drift file or `tinker freq` (which wins): start in FSET at this
  // frequency. Absent: NSET, the frequency is measured first.
  std::optional<std::int64_t> initial_frequency_ppb;
  bool allow_big_first_step = false;  // -g
  bool slew_only = false;             // -x: never step; slew at most 500 PPM
  bool quit_after_set = false;        // -q
  bool kernel = true;                 // enable/disable kernel
  LoopAlgorithm algorithm = LoopAlgorithm::kRegression;
  int min_poll_log2s = 6;
  int max_poll_log2s = 10;
};

// -x raises the step threshold to 600 s (ntpd); we never step with -x, so
// beyond it the discipline asks to exit instead.
inline constexpr std::int64_t kSlewOnlyLimitNs = 600 * kNsPerS;

// The answer to one sample.
struct Decision {
  std::optional<SampleRejection> rejected;  // set: the sample was refused
  ClockActions actions;
  bool stepped = false;  // tell ntpd-net to reset every association (ClockState.stepped)
  ExitReason exit = ExitReason::kNone;
  std::string message;  // one log line for an event (step, panic, clamp), else empty
};

// What ClockState and loopstats report.
struct DisciplineStatus {
  LoopState state = LoopState::kNset;
  bool synchronized = false;
  int poll_log2s = 6;
  std::int64_t frequency_ppb = 0;  // the correction applied (drift file value)
  std::int64_t offset_ns = 0;      // last offset processed
  std::int64_t jitter_ns = 0;      // RFC 5905 clock jitter
  std::int64_t wander_ppb = 0;     // RFC 5905 clock wander (stability)
  LeapArm leap = LeapArm::kNone;
  std::uint64_t samples_accepted = 0;
  std::uint64_t samples_rejected = 0;
  std::uint64_t steps = 0;
};

class Discipline {
 public:
  // `now_ns`: the monotonic time at start (CLOCK_MONOTONIC; never stepped).
  Discipline(const DisciplineConfig& config, std::int64_t now_ns);

  // What to do before the first sample: the drift-file frequency, and
  // STA_UNSYNC set.
  ClockActions start() const;
  // One validated system sample received at monotonic `now_ns`.
  Decision update(const DisciplineSample& sample, std::int64_t now_ns);
  // Once per second (RFC 5905 section 12, clock-adjust process): the
  // user-space loop's frequency and slew, a status change when the clock
  // becomes unsynchronized; empty when nothing changes.
  ClockActions tick(std::int64_t now_ns);
  // Kernel-PLL mode: the frequency the kernel reports after kernel_pll().
  void observe_kernel_frequency(std::int64_t frequency_ppb);

  DisciplineStatus status() const;
  bool exited() const { return exited_; }

 private:
  static constexpr double kPrecisionS = 1e-6;  // ~2^-20 s: the floor of clock jitter
  static constexpr double kMaxErrorS = 16;     // MAXDISP: beyond it, unsynchronized

  Decision step(double measured_s, double offset_s, double delay_s, double now_s);
  Decision inlier(double offset_s, double delay_s, double now_s, double mu_s);
  Decision inlier_rfc(double offset_s, double now_s, double mu_s);
  Decision inlier_regression(double offset_s, double delay_s, double now_s);
  Decision quit_after_set(double offset_s);
  Decision exit_with(ExitReason reason, std::string message);
  void adjust_poll(double offset_s);
  void update_jitter(double offset_s);
  void update_wander(double old_frequency);
  void track_leap(std::uint32_t leap);
  KernelStatus kernel_status(double now_s) const;
  double frequency() const;
  bool use_kernel_pll() const;
  double seconds(std::int64_t now_ns) const;

  DisciplineConfig config_;
  std::int64_t origin_ns_;
  SamplePolicy policy_;
  std::optional<HuffPuff> huff_puff_;
  Rfc5905Loop rfc_;
  RegressionLoop regression_;

  LoopState state_;
  bool allow_panic_;
  bool exited_ = false;
  bool ever_set_ = false;
  double epoch_s_ = 0;       // time of the last update that reset the clock state
  double freq_start_s_ = 0;  // time the FREQ state was entered
  double last_tick_s_ = 0;
  int poll_log2s_;
  int poll_counter_ = 0;   // ntpd's tc_counter
  double poll_score_ = 0;  // the regression's poll score
  bool synced_ = false;    // updated since the last step
  bool last_synchronized_ = false;
  std::optional<FrequencyUpdate> last_frequency_;
  double last_offset_s_ = 0;
  double age_s_ = 0;  // age of the sample being processed
  double jitter_s_ = 0;
  double wander_ = 0;
  double root_distance_s_ = 0;
  double last_update_s_ = 0;
  LeapArm leap_ = LeapArm::kNone;
  std::uint32_t leap_candidate_ = 0;
  int leap_count_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t steps_ = 0;
};

}  // namespace ntpd::clock
