// The discipline's state machine: policy, panic, -q, -x, step/spike/stepout
// (RFC 5905 Appendix A.5.5.1 local_clock and ntpd's ntp_loopfilter.c). Poll,
// jitter, wander, leap and status are in discipline_stats.cc, the loop
// arithmetic in discipline_rfc5905.cc and discipline_regression.cc. No clock
// is read here.
#include "ntpd-clock/discipline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ntpd::clock {
namespace {

constexpr double kPriorFrequencySd = 1e-6;  // a drift file is trusted to about 1 PPM

std::int64_t to_ns(double s) {
  return static_cast<std::int64_t>(std::llround(std::clamp(s, -9.2e9, 9.2e9) * 1e9));
}

std::int64_t to_ppb(double rate) { return to_ns(rate); }  // s/s -> ppb: the same scaling

std::string format(const char* fmt, double value, double limit = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, fmt, value, limit);
  return buf;
}

}  // namespace

const char* to_string(LoopState state) {
  switch (state) {
    case LoopState::kNset:
      return "NSET";
    case LoopState::kFset:
      return "FSET";
    case LoopState::kSpik:
      return "SPIK";
    case LoopState::kFreq:
      return "FREQ";
    case LoopState::kSync:
      return "SYNC";
  }
  return "?";
}

Discipline::Discipline(const DisciplineConfig& config, std::int64_t now_ns)
    : config_(config),
      origin_ns_(now_ns),
      policy_(config.min_poll_log2s),
      rfc_(config.allan_log2s, use_kernel_pll()),
      state_(config.initial_frequency_ppb ? LoopState::kFset : LoopState::kNset),
      allow_panic_(config.allow_big_first_step),
      poll_log2s_(config.min_poll_log2s),
      jitter_s_(kPrecisionS) {
  config_.max_poll_log2s = std::max(config_.max_poll_log2s, config_.min_poll_log2s);
  if (config.huffpuff_ns > 0) huff_puff_.emplace(config.huffpuff_ns);
  if (config.initial_frequency_ppb) {
    const double f =
        std::clamp(static_cast<double>(*config.initial_frequency_ppb) * 1e-9, -500e-6, 500e-6);
    rfc_.set_frequency(f);
    regression_.set_prior(f, kPriorFrequencySd);
  }
  // start() applies this frequency from now on: the correction history C
  // must know it, or an aged first sample would be misplaced by f * age.
  regression_.command(0);
}

bool Discipline::use_kernel_pll() const {
  // ntpd: the kernel discipline is off with a step threshold of 0 or > 0.5 s.
  return config_.kernel && config_.algorithm == LoopAlgorithm::kRfc5905 && !config_.slew_only &&
         config_.step_threshold_ns > 0 && config_.step_threshold_ns <= kNsPerS / 2;
}

double Discipline::seconds(std::int64_t now_ns) const {
  return static_cast<double>(now_ns - origin_ns_) * 1e-9;
}

double Discipline::frequency() const {
  return config_.algorithm == LoopAlgorithm::kRfc5905 ? rfc_.frequency() : regression_.frequency();
}

ClockActions Discipline::start() const {
  ClockActions actions;
  actions.frequency = FrequencyUpdate{to_ppb(frequency()), 0};
  if (use_kernel_pll()) actions.kernel_pll = KernelPllUpdate{0, poll_log2s_};
  actions.status = KernelStatus{false, to_ns(kMaxErrorS), to_ns(kMaxErrorS)};
  actions.leap = LeapArm::kNone;
  return actions;
}

Decision Discipline::update(const DisciplineSample& sample, std::int64_t now_ns) {
  Decision d;
  if (exited_) {
    d.rejected = SampleRejection::kAfterExit;
    return d;
  }
  if (auto why = policy_.check(sample, now_ns)) {
    ++rejected_;
    d.rejected = why;
    return d;
  }
  ++accepted_;
  const double now_s = seconds(now_ns);
  const LeapArm old_leap = leap_;
  track_leap(sample.leap);
  root_distance_s_ = static_cast<double>(sample.root_distance_ns) * 1e-9;
  std::int64_t offset_ns = sample.offset_ns;
  if (huff_puff_) offset_ns = huff_puff_->correct(offset_ns, sample.delay_ns, now_ns);
  const double measured_s = static_cast<double>(offset_ns) * 1e-9;
  const double delay_s = static_cast<double>(sample.delay_ns) * 1e-9;
  age_s_ = static_cast<double>(sample.age_ns) * 1e-9;
  // What the sample says about the clock now: the regression knows what it
  // corrected since the measurement; ntpd's loop uses the offset as is.
  const double offset_s = config_.algorithm == LoopAlgorithm::kRegression
                              ? regression_.offset_now(now_s, measured_s, age_s_)
                              : measured_s;
  const double abs_offset = std::abs(offset_s);
  const double mu_s = now_s - epoch_s_;

  // Panic (ntpd local_clock): -g lets the very first update through only.
  if (config_.panic_threshold_ns > 0 &&
      abs_offset > static_cast<double>(config_.panic_threshold_ns) * 1e-9 && !allow_panic_) {
    return exit_with(ExitReason::kPanic,
                     format("[clock] PANIC: time correction of %+.0f s exceeds sanity limit "
                            "(%.0f s); set clock manually to the correct UTC time.",
                            offset_s, static_cast<double>(config_.panic_threshold_ns) * 1e-9));
  }
  allow_panic_ = false;
  if (config_.slew_only && abs_offset > static_cast<double>(kSlewOnlyLimitNs) * 1e-9) {
    return exit_with(ExitReason::kSlewLimit,
                     format("[clock] SLEW: offset %+.0f s is beyond the -x limit of %.0f s; "
                            "set clock manually to the correct UTC time.",
                            offset_s, static_cast<double>(kSlewOnlyLimitNs) * 1e-9));
  }
  if (config_.quit_after_set) return quit_after_set(offset_s);

  const double step_s = static_cast<double>(config_.step_threshold_ns) * 1e-9;
  const bool outlier = !config_.slew_only && (step_s == 0 || abs_offset > step_s);
  Decision result;
  if (!outlier) {
    result = inlier(measured_s, delay_s, now_s, mu_s);
  } else {
    // RFC 5905 A.5.5.1: a first outlier in SYNC is a spike; outliers are
    // ignored until the stepout interval has passed, then the clock steps.
    const double stepout_s = static_cast<double>(config_.stepout_ns) * 1e-9;
    bool suppress = false;
    if (step_s > 0) {
      switch (state_) {
        case LoopState::kSync:
          state_ = LoopState::kSpik;
          suppress = true;
          break;
        case LoopState::kFreq:
          if (mu_s < stepout_s) {
            suppress = true;
          } else if (config_.algorithm == LoopAlgorithm::kRfc5905) {
            rfc_.direct_frequency(offset_s, now_s - freq_start_s_);
          }
          break;
        case LoopState::kSpik:
          suppress = mu_s < stepout_s;
          break;
        default:
          break;
      }
    }
    if (suppress) {
      ++rejected_;
      --accepted_;
      result.rejected = SampleRejection::kSpike;
      return result;
    }
    result = step(measured_s, offset_s, delay_s, now_s);
  }
  if (leap_ != old_leap) result.actions.leap = leap_;
  if (regression_.frequency_clamped() && config_.algorithm == LoopAlgorithm::kRegression &&
      result.message.empty()) {
    result.message = "[clock] FREQ: frequency error exceeds tolerance 500 PPM; clamped";
  }
  return result;
}

Decision Discipline::step(double measured_s, double offset_s, double delay_s, double now_s) {
  Decision d;
  if (config_.algorithm == LoopAlgorithm::kRegression) {
    // A step means the samples no longer fit the history (a discontinuity):
    // start over, keeping the frequency.
    if (regression_.history_size() > 0) {
      regression_.set_prior(regression_.frequency(), kPriorFrequencySd);
      regression_.clear_history(now_s - age_s_);
    }
    // The sample is good data about the free-running phase; keep it.
    regression_.add(now_s, measured_s, delay_s, age_s_, config_.min_poll_log2s);
    regression_.note_step(now_s, offset_s);
    d.actions.frequency = regression_.command(now_s);
    last_frequency_ = d.actions.frequency;
  } else {
    d.actions = rfc_.after_step();
  }
  d.actions.step_ns = to_ns(offset_s);
  d.stepped = true;
  d.message = format("[clock] STEP: time reset %+.6f s", offset_s);
  ++steps_;
  ever_set_ = true;
  policy_.refill();
  poll_log2s_ = config_.min_poll_log2s;
  poll_counter_ = 0;
  poll_score_ = 0;
  jitter_s_ = kPrecisionS;
  last_offset_s_ = 0;
  last_update_s_ = now_s;
  last_tick_s_ = now_s;
  synced_ = false;
  epoch_s_ = now_s;
  if (state_ == LoopState::kNset) {
    state_ = LoopState::kFreq;
    freq_start_s_ = now_s;
  } else {
    state_ = LoopState::kSync;
  }
  d.actions.status = kernel_status(now_s);
  last_synchronized_ = d.actions.status->synchronized;
  return d;
}

Decision Discipline::inlier(double offset_s, double delay_s, double now_s, double mu_s) {
  update_jitter(offset_s);
  const double old_frequency = frequency();
  Decision d = config_.algorithm == LoopAlgorithm::kRfc5905
                   ? inlier_rfc(offset_s, now_s, mu_s)
                   : inlier_regression(offset_s, delay_s, now_s);
  update_wander(old_frequency);
  adjust_poll(offset_s);
  ever_set_ = true;
  synced_ = true;
  last_offset_s_ = offset_s;
  last_update_s_ = now_s;
  if (d.actions.frequency) last_tick_s_ = now_s;
  d.actions.status = kernel_status(now_s);
  last_synchronized_ = d.actions.status->synchronized;
  return d;
}

Decision Discipline::inlier_rfc(double offset_s, double now_s, double mu_s) {
  Decision d;
  bool frequency_changed = false;
  switch (state_) {
    case LoopState::kNset:
      // First update, frequency unknown: amortize the phase, measure later.
      state_ = LoopState::kFreq;
      freq_start_s_ = epoch_s_ = now_s;
      d.actions = rfc_.commit(offset_s, poll_log2s_, false);
      return d;
    case LoopState::kFreq:
      // Ignore updates until the stepout interval, then set the frequency.
      if (now_s - freq_start_s_ < static_cast<double>(config_.stepout_ns) * 1e-9) return d;
      rfc_.direct_frequency(offset_s, now_s - freq_start_s_);
      frequency_changed = true;
      [[fallthrough]];
    default:
      rfc_.pll_fll(offset_s, mu_s, poll_log2s_);
      state_ = LoopState::kSync;
      epoch_s_ = now_s;
      break;
  }
  d.actions = rfc_.commit(offset_s, poll_log2s_, frequency_changed);
  return d;
}

Decision Discipline::inlier_regression(double offset_s, double delay_s, double now_s) {
  Decision d;
  regression_.add(now_s, offset_s, delay_s, age_s_, poll_log2s_);
  switch (state_) {
    case LoopState::kNset:
      state_ = LoopState::kFreq;
      freq_start_s_ = now_s;
      break;
    case LoopState::kFreq: {
      // Leave FREQ once the frequency is known to 1 PPM, or after stepout.
      const auto& fit = regression_.fit();
      const bool known = fit && fit->used >= 3 && fit->var_frequency < 1e-12;
      if (known || now_s - freq_start_s_ >= static_cast<double>(config_.stepout_ns) * 1e-9) {
        state_ = LoopState::kSync;
      }
      break;
    }
    default:
      state_ = LoopState::kSync;
      break;
  }
  epoch_s_ = now_s;
  d.actions.frequency = regression_.command(now_s);
  last_frequency_ = d.actions.frequency;
  return d;
}

Decision Discipline::quit_after_set(double offset_s) {
  // ntpd -q (mode_ntpdate): step above the threshold, else slew; then exit.
  Decision d;
  const double step_s = static_cast<double>(config_.step_threshold_ns) * 1e-9;
  if (!config_.slew_only && (step_s == 0 || std::abs(offset_s) > step_s)) {
    d.actions.step_ns = to_ns(offset_s);
    d.message = format("ntpd: time set %+.6fs", offset_s);
    ++steps_;
  } else {
    d.actions.adjtime_ns = to_ns(offset_s);
    d.message = format("ntpd: time slew %+.6fs", offset_s);
  }
  exited_ = true;
  d.exit = ExitReason::kQuitAfterSet;
  return d;
}

Decision Discipline::exit_with(ExitReason reason, std::string message) {
  Decision d;
  exited_ = true;
  d.exit = reason;
  d.message = std::move(message);
  return d;
}

ClockActions Discipline::tick(std::int64_t now_ns) {
  ClockActions actions;
  if (exited_) return actions;
  const double now_s = seconds(now_ns);
  const double dt = std::max(0.0, now_s - last_tick_s_);
  last_tick_s_ = now_s;
  if (config_.algorithm == LoopAlgorithm::kRfc5905) {
    actions = rfc_.tick(dt, poll_log2s_);
  } else if (ever_set_ || config_.initial_frequency_ppb) {
    const FrequencyUpdate f = regression_.command(now_s);
    if (!last_frequency_ || !(f == *last_frequency_)) {
      actions.frequency = f;
      last_frequency_ = f;
    }
  }
  const KernelStatus s = kernel_status(now_s);
  if (s.synchronized != last_synchronized_) {
    actions.status = s;
    last_synchronized_ = s.synchronized;
  }
  return actions;
}

void Discipline::observe_kernel_frequency(std::int64_t frequency_ppb) {
  if (use_kernel_pll()) {
    rfc_.observe_kernel_frequency(
        std::clamp(static_cast<double>(frequency_ppb) * 1e-9, -500e-6, 500e-6));
  }
}

}  // namespace ntpd::clock
