// The discipline's bookkeeping around each update: the poll exponent fed back
// to ntpd-net (RFC 5905 A.5.5.1 poll adjust; chrony's poll target for the
// regression loop), clock jitter and wander, leap persistence, and what the
// kernel status (maxerror, esterror, STA_UNSYNC) and ClockState report.
#include <algorithm>
#include <cmath>

#include "ntpd-clock/discipline.h"

namespace ntpd::clock {
namespace {

constexpr double kClockAvg = 8;      // ntpd's CLOCK_AVG
constexpr double kPollGate = 4;      // CLOCK_PGATE
constexpr int kPollLimit = 30;       // CLOCK_LIMIT
constexpr int kLeapPersistence = 3;  // consecutive updates before a leap is armed
// The regression's poll target (chrony's polltarget, 8): lengthen the poll
// while the fit keeps at least this many samples (noise dominates), shorten
// it when it keeps fewer (wander dominates).
constexpr double kPollTarget = 8;

std::int64_t to_ns(double s) {
  return static_cast<std::int64_t>(std::llround(std::clamp(s, -9.2e9, 9.2e9) * 1e9));
}

std::int64_t to_ppb(double rate) { return to_ns(rate); }  // s/s -> ppb: the same scaling

LeapArm leap_arm(std::uint32_t leap) {
  return leap == 1 ? LeapArm::kInsert : (leap == 2 ? LeapArm::kDelete : LeapArm::kNone);
}

}  // namespace

void Discipline::adjust_poll(double offset_s) {
  const int old_poll = poll_log2s_;
  if (config_.algorithm == LoopAlgorithm::kRfc5905) {
    // RFC 5905 A.5.5.1 / ntpd: lengthen while |offset| < PGATE * jitter.
    if (std::abs(offset_s) < kPollGate * jitter_s_) {
      poll_counter_ += poll_log2s_;
      if (poll_counter_ > kPollLimit) {
        poll_counter_ = kPollLimit;
        if (poll_log2s_ < config_.max_poll_log2s) {
          poll_counter_ = 0;
          ++poll_log2s_;
        }
      }
    } else {
      poll_counter_ -= poll_log2s_ * 2;
      if (poll_counter_ < -kPollLimit) {
        poll_counter_ = -kPollLimit;
        if (poll_log2s_ > config_.min_poll_log2s) {
          poll_counter_ = 0;
          --poll_log2s_;
        }
      }
    }
  } else if (state_ == LoopState::kSync && regression_.fit()) {
    // chrony's rule: the number of samples the fit keeps tells whether
    // noise (many) or wander (few) dominates.
    const double used = static_cast<double>(regression_.fit()->used);
    poll_score_ += (used - kPollTarget) / kPollTarget;
    if (poll_score_ >= 1) {
      poll_score_ = 0;
      poll_log2s_ = std::min(poll_log2s_ + 1, config_.max_poll_log2s);
    } else if (poll_score_ <= -1) {
      poll_score_ = 0;
      poll_log2s_ = std::max(poll_log2s_ - 1, config_.min_poll_log2s);
    }
  }
  if (poll_log2s_ != old_poll) poll_counter_ = std::clamp(poll_counter_, -kPollLimit, kPollLimit);
}

void Discipline::update_jitter(double offset_s) {
  // RFC 5905 A.5.5.1: exponential average of squared offset differences.
  const double diff = std::max(std::abs(offset_s - last_offset_s_), kPrecisionS);
  const double j2 = jitter_s_ * jitter_s_;
  jitter_s_ = std::sqrt(j2 + (diff * diff - j2) / kClockAvg);
}

void Discipline::update_wander(double old_frequency) {
  const double change = frequency() - old_frequency;
  const double w2 = wander_ * wander_;
  wander_ = std::sqrt(w2 + (change * change - w2) / kClockAvg);
}

void Discipline::track_leap(std::uint32_t leap) {
  // Arm only what several consecutive updates agree on: a lone claim from a
  // newly selected peer does not schedule a leap.
  if (leap == leap_candidate_) {
    ++leap_count_;
  } else {
    leap_candidate_ = leap;
    leap_count_ = 1;
  }
  if (leap_count_ >= kLeapPersistence) leap_ = leap_arm(leap_candidate_);
}

KernelStatus Discipline::kernel_status(double now_s) const {
  const double maxerror = root_distance_s_ + static_cast<double>(config_.dispersion_ppb) * 1e-9 *
                                                 std::max(0.0, now_s - last_update_s_);
  return KernelStatus{synced_ && maxerror < kMaxErrorS, to_ns(std::min(maxerror, kMaxErrorS)),
                      to_ns(std::min(jitter_s_, kMaxErrorS))};
}

DisciplineStatus Discipline::status() const {
  DisciplineStatus s;
  s.state = state_;
  s.synchronized = synced_;
  s.poll_log2s = poll_log2s_;
  s.frequency_ppb = to_ppb(frequency());
  s.offset_ns = to_ns(last_offset_s_);
  s.jitter_ns = to_ns(jitter_s_);
  s.wander_ppb = to_ppb(wander_);
  s.leap = leap_;
  s.samples_accepted = accepted_;
  s.samples_rejected = rejected_;
  s.steps = steps_;
  return s;
}

}  // namespace ntpd::clock
