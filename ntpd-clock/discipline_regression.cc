// Weighted regression, predictive window choice capped by a runs test
// (after chrony's sourcestats/regress) and the phase/frequency controller. Every rate leaving here
// is clamped to
// +-500 PPM (frequency, slew, and their sum), whatever the samples say.
#include "ntpd-clock/discipline_regression.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

namespace ntpd::clock {
namespace {

constexpr double kMaxFrequency = static_cast<double>(kMaxFrequencyPpb) * 1e-9;
constexpr double kMaxSlew = static_cast<double>(kMaxSlewPpb) * 1e-9;
// Below this many samples a runs test has no power: the window is accepted.
constexpr std::size_t kMinRunsTestSamples = 6;
// One-sided normal quantile of the runs test (about 1 %, as chrony's table).
constexpr double kRunsZ = 2.33;
// Pseudo-observations of the weight model's scale (k^2 = 1) that steady the
// residual variance of short windows.
constexpr double kScalePriorDof = 2;
// Phase correction time: ratio * poll * sd/|offset| (chrony's corrtimeratio
// idea: slew a statistically clear offset fast, a noise-sized one slowly).
constexpr double kCorrectionRatio = 1.5;
constexpr double kMinTauS = 16;
constexpr double kMaxTauPolls = 4;
// Offset-error floor of the best sample: the delay excess is measured from
// the smallest delay seen, itself a little above the true minimum.
constexpr double kMinFloorS = 50e-9;
constexpr double kFloorFraction = 0.5;
// Window scores: averaged over about this many samples, each capped (a wild
// sample must not rule forever), and trusted after a few samples.
constexpr double kScoreAverage = 32;
constexpr double kMaxScore = 1e4;
constexpr std::size_t kMinScored = 4;
// Samples closer than this are the same measurement.
constexpr double kSameTimeS = 1;
// Popcorn spikes: an innovation beyond this many sds (and this far in
// absolute terms), judged once the history holds a few samples.
constexpr double kSpikeSigmas = 6;
constexpr double kSpikeFloorS = 1e-4;
constexpr std::size_t kMinSpikeFit = 6;
// A surprising sample is held for the next one only when the previous one
// is younger than ntpd's Allan intercept (2^11 s). ntpd-net's clock filter
// passes a new sample only when it is the lowest-delay of eight, i.e. every
// few polls, and has already held back popcorn spikes (RFC 5905 A.5.2);
// beyond the intercept wander dominates, waiting for a second opinion would
// leave a genuine change uncorrected for hours, and such a sample restarts
// the history at once instead.
constexpr double kMaxHoldGapS = 2048;
constexpr double kRestartFrequencySd = 1e-6;

std::int64_t to_ppb(double rate) { return static_cast<std::int64_t>(std::llround(rate * 1e9)); }

// Wald-Wolfowitz runs test on the residual signs: false when the residuals
// show fewer runs than chance allows (the line no longer fits the window).
bool runs_test_passes(const std::vector<double>& residuals) {
  if (residuals.size() < kMinRunsTestSamples) return true;
  double pos = 0, neg = 0, runs = 0;
  int last_sign = 0;
  for (double r : residuals) {
    const int sign = r > 0 ? 1 : (r < 0 ? -1 : 0);
    if (sign == 0) continue;
    (sign > 0 ? pos : neg) += 1;
    if (sign != last_sign) runs += 1;
    last_sign = sign;
  }
  const double n = pos + neg;
  if (n < static_cast<double>(kMinRunsTestSamples) || pos == 0 || neg == 0) return n < 2;
  const double mean = 1 + 2 * pos * neg / n;
  const double var = 2 * pos * neg * (2 * pos * neg - n) / (n * n * (n - 1));
  return runs >= mean - kRunsZ * std::sqrt(std::max(var, 0.0));
}

}  // namespace

void RegressionLoop::set_prior(double frequency, double sd) {
  prior_frequency_ = std::clamp(frequency, -kMaxFrequency, kMaxFrequency);
  prior_sd_ = sd;
  if (points_.empty()) frequency_ = *prior_frequency_;
}

void RegressionLoop::clear_history(double since_s) {
  since_s_ = since_s;
  points_.clear();
  fit_.reset();
  held_.reset();
  scored_ = 0;
}

double RegressionLoop::correction_at(double t_s) const {
  if (segments_.empty()) return 0.0;
  // The last segment starting at or before t (the first one for older t).
  auto it = std::upper_bound(segments_.begin(), segments_.end(), t_s,
                             [](double t, const Segment& seg) { return t < seg.t_s; });
  if (it != segments_.begin()) --it;
  return it->c_s + it->rate * (t_s - it->t_s);
}

void RegressionLoop::set_rate(double now_s, double rate) {
  if (!segments_.empty() && segments_.back().rate == rate) return;
  segments_.push_back(Segment{now_s, correction_at(now_s), rate});
  if (segments_.size() > kMaxSegments) segments_.pop_front();
}

void RegressionLoop::note_step(double now_s, double step_s) {
  const double rate = segments_.empty() ? 0.0 : segments_.back().rate;
  segments_.push_back(Segment{now_s, correction_at(now_s) + step_s, rate});
  if (segments_.size() > kMaxSegments) segments_.pop_front();
  // The step corrected the estimated phase: drop the slew planned for it.
  slew_rate_ = 0;
  slew_end_s_ = now_s;
}

double RegressionLoop::offset_now(double now_s, double offset_s, double age_s) const {
  // theta(now) = q(now) - C(now), with q(now) ~ q(then) + frequency * age.
  return offset_s + frequency_ * age_s - (correction_at(now_s) - correction_at(now_s - age_s));
}

double RegressionLoop::Weighting::weight(double delay_s) const {
  const double excess = std::max(0.0, delay_s - min_delay);
  return 1.0 / (floor * floor + excess * excess / 12.0);
}

RegressionLoop::Weighting RegressionLoop::weighting() const {
  Weighting w{points_.front().delay_s, kMinFloorS};
  for (const Point& p : points_) w.min_delay = std::min(w.min_delay, p.delay_s);
  std::vector<double> excess;
  excess.reserve(points_.size());
  for (const Point& p : points_) excess.push_back(p.delay_s - w.min_delay);
  const auto mid = excess.begin() + static_cast<long>(excess.size() / 2);
  std::nth_element(excess.begin(), mid, excess.end());
  w.floor = std::max(kMinFloorS, kFloorFraction * *mid / std::sqrt(12.0));
  return w;
}

std::optional<RegressionFit> RegressionLoop::fit_newest(std::size_t count,
                                                        const Weighting& weighting,
                                                        bool runs_test) const {
  const std::size_t n = std::min(count, points_.size());
  if (n == 0) return std::nullopt;
  const std::size_t first = points_.size() - n;
  std::vector<double> w(n);
  double sw = 0, st = 0, sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Point& p = points_[first + i];
    w[i] = weighting.weight(p.delay_s);
    sw += w[i];
    st += w[i] * p.t_s;
    sq += w[i] * p.q_s;
  }
  RegressionFit fit;
  fit.used = n;
  fit.t_mean_s = st / sw;
  fit.q_mean_s = sq / sw;
  double stt = 0, stq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Point& p = points_[first + i];
    const double dt = p.t_s - fit.t_mean_s;
    stt += w[i] * dt * dt;
    stq += w[i] * dt * (p.q_s - fit.q_mean_s);
  }
  // Data slope (if the window spans time) combined with the prior, if any.
  const bool has_slope = n >= 2 && points_.back().t_s - points_[first].t_s >= kSameTimeS && stt > 0;
  double slope = has_slope ? stq / stt : frequency_;
  double chi2 = 0, sum_r2 = 0;
  std::vector<double> residuals(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Point& p = points_[first + i];
    residuals[i] = p.q_s - fit.q_mean_s - slope * (p.t_s - fit.t_mean_s);
    chi2 += w[i] * residuals[i] * residuals[i];
    sum_r2 += residuals[i] * residuals[i];
  }
  if (runs_test && !runs_test_passes(residuals)) return std::nullopt;
  const double dof = n > 2 ? static_cast<double>(n - 2) : 0.0;
  const double scale = (chi2 + kScalePriorDof) / (dof + kScalePriorDof);
  double var_slope = has_slope ? scale / stt : 1.0;  // 1 (s/s)^2: "unknown"
  if (prior_frequency_) {
    const double vp = prior_sd_ * prior_sd_;
    const double combined = 1.0 / (1.0 / var_slope + 1.0 / vp);
    slope = combined * (slope / var_slope + *prior_frequency_ / vp);
    var_slope = combined;
  }
  fit.frequency = slope;
  fit.var_frequency = var_slope;
  fit.var_phase = scale / sw;
  fit.scale = scale;
  fit.residual_sd_s = std::sqrt(sum_r2 / static_cast<double>(n));
  return fit;
}

void RegressionLoop::score_windows(double now_s, double q_s, double weight) {
  // One-step prediction of the new sample by each window length, before it
  // joins the history; the errors are averaged over about kScoreAverage
  // samples. A window longer than the history scores like the whole history.
  if (points_.empty()) return;
  const Weighting w = weighting();
  for (std::size_t k = 0; k < kWindowCount; ++k) {
    const auto fit = fit_newest(kWindows[k], w, false);
    if (!fit) continue;
    const double e = q_s - fit->q_mean_s - fit->frequency * (now_s - fit->t_mean_s);
    const double sample = std::min(weight * e * e, kMaxScore);
    scores_[k] = scored_ == 0 ? sample : scores_[k] + (sample - scores_[k]) / kScoreAverage;
  }
  ++scored_;
}

void RegressionLoop::refit() {
  fit_.reset();
  if (points_.empty()) return;
  // The window that predicted best (ties: the longest), once scores exist.
  std::size_t best = kWindowCount - 1;
  const Weighting w = weighting();
  if (scored_ >= kMinScored) {
    for (std::size_t k = kWindowCount - 1; k-- > 0;) {
      if (scores_[k] < scores_[best]) best = k;
    }
  }
  preferred_window_ = kWindows[best];
  // The longest window up to the preferred one whose residuals look random
  // (chrony's RGR_FindBestRegression).
  for (std::size_t k = best + 1; k-- > 0;) {
    if (auto fit = fit_newest(kWindows[k], w, true)) {
      fit_ = fit;
      return;
    }
  }
  fit_ = fit_newest(kWindows[0], w, false);
}

void RegressionLoop::insert(const Point& point) {
  if (!points_.empty() && point.t_s >= points_.back().t_s) {
    Weighting w = weighting();
    w.min_delay = std::min(w.min_delay, point.delay_s);
    score_windows(point.t_s, point.q_s, w.weight(point.delay_s));
  }
  // Keep time order (a stale sample from another server may arrive late);
  // the same measurement seen again replaces the old point, it adds nothing.
  auto at = std::upper_bound(points_.begin(), points_.end(), point.t_s,
                             [](double t, const Point& p) { return t < p.t_s; });
  if (at != points_.begin() && point.t_s - std::prev(at)->t_s < kSameTimeS) {
    *std::prev(at) = point;
  } else {
    points_.insert(at, point);
  }
  if (points_.size() > kMaxSamples) points_.pop_front();
}

double RegressionLoop::surprise(const Point& point, const Weighting& weighting) const {
  if (!fit_ || points_.size() < kMinSpikeFit) return 0.0;
  const double dt = point.t_s - fit_->t_mean_s;
  const double predicted = fit_->q_mean_s + fit_->frequency * dt;
  const double var = fit_->var_phase + dt * dt * fit_->var_frequency +
                     fit_->scale / weighting.weight(point.delay_s);
  return std::abs(point.q_s - predicted) / std::sqrt(var);
}

bool RegressionLoop::add(double now_s, double offset_s, double delay_s, double age_s,
                         int poll_log2s) {
  const double t_s = now_s - std::max(age_s, 0.0);
  const Point point{t_s, offset_s + correction_at(t_s), std::max(delay_s, 0.0)};
  if (t_s < since_s_) return false;  // measured before a discontinuity
  if (!points_.empty()) {
    const Weighting w = weighting();
    const double z = surprise(point, w);
    const bool surprising =
        z > kSpikeSigmas && std::abs(offset_s - predicted_offset(t_s)) > kSpikeFloorS;
    const bool recent = t_s - points_.back().t_s <= kMaxHoldGapS;
    if (surprising && !recent && !held_) {
      // Too long since the last sample to wait for another: restart now,
      // with the phase from this sample and the frequency kept, as unsure
      // as the frequency change that would explain the surprise.
      const double gap_s = std::max(t_s - points_.back().t_s, 1.0);
      const double explained = std::abs(offset_s - predicted_offset(t_s)) / gap_s;
      set_prior(frequency_, std::max(std::sqrt(fit_->var_frequency), explained));
      clear_history(t_s);
    } else if (held_ && surprising) {
      // Two surprises in a row: do they agree with each other (the clock
      // jumped) or not (two spikes)? Compare along the current frequency.
      const double dq = std::abs(point.q_s - held_->q_s - frequency_ * (t_s - held_->t_s));
      const double slack =
          std::sqrt((1.0 / w.weight(point.delay_s) + 1.0 / w.weight(held_->delay_s)) * fit_->scale);
      const Point held = *held_;
      if (dq <= kSpikeSigmas * slack + kSpikeFloorS) {
        // A discontinuity: restart from the two that agree, keeping what
        // is known of the frequency.
        set_prior(frequency_, std::max(std::sqrt(fit_->var_frequency), kRestartFrequencySd));
        clear_history(held.t_s);
      }
      // Otherwise the fit, not the samples, is wrong: keep both.
      insert(held);
    } else if (surprising) {
      held_ = point;
      return false;
    }
    held_.reset();
  }
  insert(point);
  refit();
  if (fit_) frequency_ = fit_->frequency;
  clamped_ = std::abs(frequency_) > kMaxFrequency;
  frequency_ = std::clamp(frequency_, -kMaxFrequency, kMaxFrequency);
  plan(now_s, poll_log2s);
  return true;
}

void RegressionLoop::plan(double now_s, int poll_log2s) {
  // The phase correction: a constant slew for about tau.
  const double offset = predicted_offset(now_s);
  const double sd = predicted_sd(now_s);
  const double poll_s = std::ldexp(1.0, poll_log2s);
  const double max_tau = std::max(kMinTauS, kMaxTauPolls * poll_s);
  double tau = std::abs(offset) > 0 ? kCorrectionRatio * poll_s * sd / std::abs(offset) : max_tau;
  tau = std::clamp(tau, kMinTauS, max_tau);
  slew_rate_ = std::clamp(offset / tau, -kMaxSlew, kMaxSlew);
  slew_rate_ = std::clamp(slew_rate_, -kMaxFrequency - frequency_, kMaxFrequency - frequency_);
  slew_end_s_ = slew_rate_ != 0 ? now_s + offset / slew_rate_ : now_s;
}

double RegressionLoop::predicted_offset(double t_s) const {
  if (!fit_) {
    if (points_.empty()) return 0.0;
    const Point& last = points_.back();
    return last.q_s + frequency_ * (t_s - last.t_s) - correction_at(t_s);
  }
  return fit_->q_mean_s + fit_->frequency * (t_s - fit_->t_mean_s) - correction_at(t_s);
}

double RegressionLoop::predicted_sd(double t_s) const {
  if (!fit_) return 0.0;
  const double dt = t_s - fit_->t_mean_s;
  return std::sqrt(fit_->var_phase + dt * dt * fit_->var_frequency);
}

FrequencyUpdate RegressionLoop::command(double now_s) {
  double slew = 0;
  const double left_s = slew_end_s_ - now_s;
  if (left_s > 0) slew = left_s >= 1 ? slew_rate_ : slew_rate_ * left_s;  // last part-second
  const double freq = std::clamp(frequency_, -kMaxFrequency, kMaxFrequency);
  slew = std::clamp(slew, -kMaxSlew, kMaxSlew);
  slew = std::clamp(slew, -kMaxFrequency - freq, kMaxFrequency - freq);
  const FrequencyUpdate update{to_ppb(freq), to_ppb(slew)};
  // C integrates exactly what the clock is told, not the unrounded rates.
  set_rate(now_s, static_cast<double>(update.frequency_ppb + update.slew_ppb) * 1e-9);
  return update;
}

}  // namespace ntpd::clock
