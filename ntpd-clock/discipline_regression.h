// The discipline's default loop, after chrony's approach: a weighted least-
// squares line through the free-running phase q(t) = offset(t) + C(t), where
// C is every correction this loop has applied (steps, slews, frequency), so
// corrections never disturb the estimate. Samples are weighted by their
// delay excess (an NTP exchange's offset error is at most half of it). The
// window length is the one whose past one-step predictions were best (noise
// favours long windows, wander short ones), capped by chrony's runs test.
// The estimated phase is slewed out at a constant rate over a planned time;
// the estimated frequency is applied as is. C is kept as a short history of
// constant-rate segments so that a sample measured a while ago is placed at
// its measurement time. Pure arithmetic in s and s/s; offset = reference - local.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "ntpd-clock/clock_driver.h"

namespace ntpd::clock {

struct RegressionFit {
  std::size_t used = 0;      // samples in the accepted window
  double t_mean_s = 0;       // weighted mean time of the window
  double q_mean_s = 0;       // fitted free-running phase at t_mean_s
  double frequency = 0;      // fitted slope of q: the correction the oscillator needs
  double var_phase = 0;      // variance of q_mean_s, s^2
  double var_frequency = 0;  // variance of frequency, (s/s)^2
  double scale = 1;          // residual variance relative to the weight model
  double residual_sd_s = 0;
};

class RegressionLoop {
 public:
  static constexpr std::size_t kMaxSamples = 64;
  // Candidate window lengths, in samples.
  static constexpr std::size_t kWindows[] = {3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
  static constexpr std::size_t kWindowCount = sizeof(kWindows) / sizeof(kWindows[0]);

  RegressionLoop() = default;

  // A known frequency (drift file, tinker freq, or the estimate kept across
  // a discontinuity) used as a prior with standard deviation `sd`.
  void set_prior(double frequency, double sd);
  // Drops the sample history after a discontinuity at `since_s`: samples
  // measured before it are ignored from now on. C and the prior stay.
  void clear_history(double since_s);
  // A step of `step_s` was applied at `now_s` (positive: forward).
  void note_step(double now_s, double step_s);
  // The offset a sample measured `age_s` ago would show now: the free-running
  // phase q moved by the estimated frequency times the age, and the
  // corrections applied since moved the clock (what a step must correct).
  double offset_now(double now_s, double offset_s, double age_s) const;
  // Adds the offset measured at `now_s - age_s` (with its round-trip
  // delay), refits and plans the phase correction for the poll 2^poll_log2s.
  // A sample far outside the prediction is held back (a popcorn spike)
  // until the next one: if that one agrees, the clock jumped, and the
  // history restarts from both (the frequency is kept); if not, it is
  // dropped. Returns false for a sample held back.
  bool add(double now_s, double offset_s, double delay_s, double age_s, int poll_log2s);
  // The rates for [now_s, next call): frequency and phase slew, each within
  // +-500 PPM and so is their sum. Called at least once a second.
  FrequencyUpdate command(double now_s);

  // Estimated offset of the clock at `t_s` (reference - local) and its sd.
  double predicted_offset(double t_s) const;
  double predicted_sd(double t_s) const;
  double frequency() const { return frequency_; }
  bool frequency_clamped() const { return clamped_; }
  const std::optional<RegressionFit>& fit() const { return fit_; }
  std::size_t history_size() const { return points_.size(); }
  // The window length the prediction scores currently prefer.
  std::size_t preferred_window() const { return preferred_window_; }

 private:
  struct Point {
    double t_s;
    double q_s;
    double delay_s;
  };
  // C(t) = c_s + rate * (t - t_s) from t_s until the next segment.
  struct Segment {
    double t_s;
    double c_s;
    double rate;
  };
  static constexpr std::size_t kMaxSegments = 4096;
  struct Weighting {
    double min_delay;
    double floor;
    double weight(double delay_s) const;
  };
  double correction_at(double t_s) const;
  Weighting weighting() const;
  // Fits the newest `count` samples; nullopt if the runs test rejects them
  // (only when `runs_test`).
  std::optional<RegressionFit> fit_newest(std::size_t count, const Weighting& weighting,
                                          bool runs_test) const;
  void score_windows(double now_s, double q_s, double weight);
  void refit();
  void insert(const Point& point);
  void plan(double now_s, int poll_log2s);
  // The innovation of `point` against the current fit, in its own sds
  // (0 when there is no fit to judge by).
  double surprise(const Point& point, const Weighting& weighting) const;
  void set_rate(double now_s, double rate);

  std::deque<Point> points_;
  std::optional<Point> held_;  // a suspected spike, waiting for the next sample
  double since_s_ = -1e300;    // samples measured before this belong to the past
  std::optional<RegressionFit> fit_;
  double scores_[kWindowCount] = {};  // averaged weighted squared prediction errors
  std::size_t scored_ = 0;
  std::size_t preferred_window_ = kMaxSamples;
  std::optional<double> prior_frequency_;
  double prior_sd_ = 0;
  std::deque<Segment> segments_;
  double frequency_ = 0;
  double slew_rate_ = 0;  // planned at the last add(), until slew_end_s_
  double slew_end_s_ = 0;
  bool clamped_ = false;
};

}  // namespace ntpd::clock
