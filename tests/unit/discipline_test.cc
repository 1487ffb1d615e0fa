// Unit tests for the discipline core (ntpd-clock/discipline*.h, huff_puff.h,
// clock_driver.h): the policy on samples, ntpd's step/stepout/panic/-g/-x/-q
// rules, frequency and slew bounds, the loops' arithmetic, leap persistence.
// Pure: samples and times in, actions out; no clock is read or changed.
#include "ntpd-clock/discipline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kT0 = 1000 * kSec;  // an arbitrary monotonic start

DisciplineSample sample(std::int64_t offset_ns, std::int64_t delay_ns = 2 * kMs) {
  DisciplineSample s;
  s.offset_ns = offset_ns;
  s.delay_ns = delay_ns;
  s.dispersion_ns = kMs;
  s.jitter_ns = 100'000;
  s.root_distance_ns = 5 * kMs;
  s.stratum = 2;
  s.poll_log2s = 6;
  return s;
}

bool within_bounds(const ClockActions& a) {
  if (a.frequency) {
    const auto& f = *a.frequency;
    if (std::llabs(f.frequency_ppb) > kMaxFrequencyPpb) return false;
    if (std::llabs(f.slew_ppb) > kMaxSlewPpb) return false;
    if (std::llabs(f.frequency_ppb + f.slew_ppb) > kMaxFrequencyPpb) return false;
  }
  if (a.kernel_pll && std::llabs(a.kernel_pll->offset_ns) > kSec / 2) return false;
  return true;
}

// Feeds one sample every `interval` seconds and returns the decisions.
std::vector<Decision> feed(Discipline& d, const std::vector<std::int64_t>& offsets,
                           std::int64_t start_ns, std::int64_t interval_ns) {
  std::vector<Decision> out;
  std::int64_t t = start_ns;
  for (std::int64_t offset : offsets) {
    out.push_back(d.update(sample(offset), t));
    t += interval_ns;
  }
  return out;
}

TEST(DisciplinePolicyTest, RejectsOutOfRangeAndUnsynchronized) {
  Discipline d({}, kT0);
  struct Case {
    const char* name;
    DisciplineSample s;
    SampleRejection why;
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, auto mutate, SampleRejection why) {
    DisciplineSample s = sample(0);
    mutate(s);
    cases.push_back({name, s, why});
  };
  add(
      "offset max", [](auto& s) { s.offset_ns = std::numeric_limits<std::int64_t>::max(); },
      SampleRejection::kOutOfRange);
  add(
      "offset min", [](auto& s) { s.offset_ns = std::numeric_limits<std::int64_t>::min(); },
      SampleRejection::kOutOfRange);
  add(
      "negative delay", [](auto& s) { s.delay_ns = -1; }, SampleRejection::kOutOfRange);
  add(
      "huge dispersion", [](auto& s) { s.dispersion_ns = 17 * kSec; },
      SampleRejection::kOutOfRange);
  add(
      "poll 2", [](auto& s) { s.poll_log2s = 2; }, SampleRejection::kOutOfRange);
  add(
      "poll 18", [](auto& s) { s.poll_log2s = 18; }, SampleRejection::kOutOfRange);
  add(
      "negative age", [](auto& s) { s.age_ns = -1; }, SampleRejection::kOutOfRange);
  add(
      "leap 4", [](auto& s) { s.leap = 4; }, SampleRejection::kOutOfRange);
  add(
      "leap 3", [](auto& s) { s.leap = 3; }, SampleRejection::kUnsynchronized);
  add(
      "stratum 16", [](auto& s) { s.stratum = 16; }, SampleRejection::kUnsynchronized);
  std::int64_t t = kT0;
  for (const auto& c : cases) {
    t += 100 * kSec;
    const Decision r = d.update(c.s, t);
    ASSERT_TRUE(r.rejected) << c.name;
    EXPECT_EQ(*r.rejected, c.why) << c.name;
    EXPECT_TRUE(r.actions.empty()) << c.name;
  }
  EXPECT_EQ(d.status().samples_rejected, cases.size());
  EXPECT_EQ(d.status().state, LoopState::kNset);
}

TEST(DisciplinePolicyTest, RateLimitsBurstsToThePollRules) {
  Discipline d({}, kT0);
  int accepted = 0, too_frequent = 0;
  // 100 samples 1.5 s apart: the burst of 8, then one per 32 s (minpoll 6).
  for (int i = 0; i < 100; ++i) {
    const Decision r = d.update(sample(1000), kT0 + i * 1'500'000'000LL);
    if (!r.rejected) ++accepted;
    if (r.rejected == SampleRejection::kTooFrequent) ++too_frequent;
  }
  EXPECT_EQ(accepted, 8 + 150 / 32);
  EXPECT_EQ(accepted + too_frequent, 100);
  // Less than a second apart: always too frequent.
  const Decision r = d.update(sample(0), kT0 + 300 * kSec);
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(d.update(sample(0), kT0 + 300 * kSec + kSec / 2).rejected,
            SampleRejection::kTooFrequent);
}

TEST(DisciplinePolicyTest, LogGateOncePerKindPerMinute) {
  RejectionLogGate gate;
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(gate.should_log(SampleRejection::kOutOfRange, 0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(gate.should_log(SampleRejection::kOutOfRange, 10 * kSec, &suppressed));
  EXPECT_FALSE(gate.should_log(SampleRejection::kOutOfRange, 59 * kSec, &suppressed));
  EXPECT_TRUE(gate.should_log(SampleRejection::kTooFrequent, 59 * kSec, &suppressed));
  EXPECT_TRUE(gate.should_log(SampleRejection::kOutOfRange, 61 * kSec, &suppressed));
  EXPECT_EQ(suppressed, 2u);
  EXPECT_STREQ(to_string(SampleRejection::kSpike), "spike suppressed");
}

TEST(DisciplineStepTest, FirstLargeOffsetStepsAndResetsAssociations) {
  Discipline d({}, kT0);
  const ClockActions start = d.start();
  ASSERT_TRUE(start.frequency);
  EXPECT_EQ(start.frequency->frequency_ppb, 0);
  ASSERT_TRUE(start.status);
  EXPECT_FALSE(start.status->synchronized);
  const Decision r = d.update(sample(500 * kMs), kT0 + 2 * kSec);
  EXPECT_FALSE(r.rejected);
  ASSERT_TRUE(r.actions.step_ns);
  EXPECT_EQ(*r.actions.step_ns, 500 * kMs);
  EXPECT_TRUE(r.stepped);
  EXPECT_NE(r.message.find("STEP"), std::string::npos);
  EXPECT_EQ(d.status().state, LoopState::kFreq);  // NSET: frequency still unknown
  EXPECT_EQ(d.status().steps, 1u);
}

TEST(DisciplineStepTest, SmallOffsetIsSlewedNeverStepped) {
  Discipline d({}, kT0);
  const Decision r = d.update(sample(100 * kMs), kT0 + 2 * kSec);
  EXPECT_FALSE(r.actions.step_ns);
  ASSERT_TRUE(r.actions.frequency);
  EXPECT_GT(r.actions.frequency->slew_ppb, 0);  // positive offset: speed up
  EXPECT_TRUE(within_bounds(r.actions));
}

TEST(DisciplineStepTest, SpikeIsSuppressedUntilStepout) {
  DisciplineConfig config;
  config.initial_frequency_ppb = 0;  // FSET: straight to SYNC
  Discipline d(config, kT0);
  feed(d, {0, 0, 0}, kT0, 64 * kSec);
  EXPECT_EQ(d.status().state, LoopState::kSync);
  std::int64_t t = kT0 + 3 * 64 * kSec;
  // Outliers (200 ms) inside the 900 s stepout: suppressed, state SPIK.
  for (int i = 0; i < 14; ++i, t += 64 * kSec) {
    const Decision r = d.update(sample(200 * kMs), t);
    ASSERT_EQ(r.rejected, SampleRejection::kSpike) << i;
    EXPECT_FALSE(r.actions.step_ns);
    EXPECT_EQ(d.status().state, LoopState::kSpik);
  }
  // Past stepout (15 * 64 s > 900 s since the last good update): step.
  const Decision r = d.update(sample(200 * kMs), t);
  EXPECT_FALSE(r.rejected);
  ASSERT_TRUE(r.actions.step_ns);
  EXPECT_EQ(d.status().state, LoopState::kSync);
}

TEST(DisciplineStepTest, InlierAfterSpikeReturnsToSync) {
  DisciplineConfig config;
  config.initial_frequency_ppb = 0;
  Discipline d(config, kT0);
  feed(d, {0, 0}, kT0, 64 * kSec);
  EXPECT_EQ(d.update(sample(300 * kMs), kT0 + 128 * kSec).rejected, SampleRejection::kSpike);
  const Decision r = d.update(sample(1000), kT0 + 192 * kSec);
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(d.status().state, LoopState::kSync);
}

TEST(DisciplineStepTest, StepThresholdZeroAlwaysSteps) {
  DisciplineConfig config;
  config.step_threshold_ns = 0;
  Discipline d(config, kT0);
  const auto decisions = feed(d, {1 * kMs, -2 * kMs, 500'000}, kT0, 64 * kSec);
  for (const auto& r : decisions) {
    ASSERT_TRUE(r.actions.step_ns);
    EXPECT_TRUE(r.stepped);
  }
  EXPECT_EQ(d.status().steps, 3u);
}

TEST(DisciplineStepTest, TinkerStepThresholdIsHonoured) {
  DisciplineConfig config;
  config.step_threshold_ns = 2 * kSec;
  Discipline d(config, kT0);
  EXPECT_FALSE(d.update(sample(1500 * kMs), kT0).actions.step_ns);
}

TEST(DisciplinePanicTest, ExitsWithoutDashG) {
  Discipline d({}, kT0);
  const Decision r = d.update(sample(1500 * kSec), kT0 + 2 * kSec);
  EXPECT_EQ(r.exit, ExitReason::kPanic);
  EXPECT_FALSE(r.actions.step_ns);
  EXPECT_NE(r.message.find("PANIC"), std::string::npos);
  EXPECT_TRUE(d.exited());
  EXPECT_EQ(d.update(sample(0), kT0 + 100 * kSec).rejected, SampleRejection::kAfterExit);
}

TEST(DisciplinePanicTest, DashGAllowsOneBigStepOnly) {
  DisciplineConfig config;
  config.allow_big_first_step = true;
  Discipline d(config, kT0);
  const Decision first = d.update(sample(1500 * kSec), kT0 + 2 * kSec);
  EXPECT_EQ(first.exit, ExitReason::kNone);
  ASSERT_TRUE(first.actions.step_ns);
  EXPECT_EQ(*first.actions.step_ns, 1500 * kSec);
  feed(d, {0, 0}, kT0 + 70 * kSec, 64 * kSec);
  const Decision second = d.update(sample(-1500 * kSec), kT0 + 400 * kSec);
  EXPECT_EQ(second.exit, ExitReason::kPanic);
  EXPECT_FALSE(second.actions.step_ns);
}

TEST(DisciplinePanicTest, DashGIsSpentByASmallFirstUpdate) {
  DisciplineConfig config;
  config.allow_big_first_step = true;
  Discipline d(config, kT0);
  d.update(sample(1 * kMs), kT0);
  EXPECT_EQ(d.update(sample(2000 * kSec), kT0 + 64 * kSec).exit, ExitReason::kPanic);
}

TEST(DisciplinePanicTest, PanicThresholdZeroNeverPanics) {
  DisciplineConfig config;
  config.panic_threshold_ns = 0;
  Discipline d(config, kT0);
  const Decision r = d.update(sample(5000 * kSec), kT0);
  EXPECT_EQ(r.exit, ExitReason::kNone);
  EXPECT_TRUE(r.actions.step_ns);
}

TEST(DisciplineSlewOnlyTest, NeverStepsAndStaysWithin500Ppm) {
  DisciplineConfig config;
  config.slew_only = true;
  Discipline d(config, kT0);
  std::int64_t t = kT0;
  for (std::int64_t offset : {500 * kMs, 300 * kSec, -400 * kSec, 2 * kMs}) {
    t += 64 * kSec;
    const Decision r = d.update(sample(offset), t);
    EXPECT_FALSE(r.actions.step_ns);
    EXPECT_TRUE(within_bounds(r.actions));
    for (int i = 0; i < 64; ++i) EXPECT_TRUE(within_bounds(d.tick(t + i * kSec)));
  }
  EXPECT_EQ(d.status().steps, 0u);
}

TEST(DisciplineSlewOnlyTest, BeyondSixHundredSecondsExitsInsteadOfStepping) {
  DisciplineConfig config;
  config.slew_only = true;
  Discipline d(config, kT0);
  const Decision r = d.update(sample(700 * kSec), kT0);
  EXPECT_EQ(r.exit, ExitReason::kSlewLimit);
  EXPECT_FALSE(r.actions.step_ns);
}

TEST(DisciplineQuitTest, DashQStepsOrSlewsThenExits) {
  struct Case {
    std::int64_t offset_ns;
    bool slew_only;
    bool expect_step;
  };
  for (const Case c :
       {Case{300 * kMs, false, true}, Case{30 * kMs, false, false}, Case{300 * kMs, true, false}}) {
    DisciplineConfig config;
    config.quit_after_set = true;
    config.slew_only = c.slew_only;
    Discipline d(config, kT0);
    const Decision r = d.update(sample(c.offset_ns), kT0);
    EXPECT_EQ(r.exit, ExitReason::kQuitAfterSet);
    EXPECT_EQ(r.actions.step_ns.has_value(), c.expect_step);
    EXPECT_EQ(r.actions.adjtime_ns.has_value(), !c.expect_step);
    EXPECT_EQ(r.actions.step_ns.value_or(0) + r.actions.adjtime_ns.value_or(0), c.offset_ns);
  }
}

TEST(DisciplineFrequencyTest, DriftFileStartsInFsetAtThatFrequency) {
  DisciplineConfig config;
  config.initial_frequency_ppb = -12'345;
  Discipline d(config, kT0);
  EXPECT_EQ(d.status().state, LoopState::kFset);
  const ClockActions start = d.start();
  ASSERT_TRUE(start.frequency);
  EXPECT_EQ(start.frequency->frequency_ppb, -12'345);
  d.update(sample(0), kT0 + 64 * kSec);
  EXPECT_EQ(d.status().state, LoopState::kSync);
  EXPECT_NEAR(static_cast<double>(d.status().frequency_ppb), -12'345, 10);
}

// IPC Sample.age_ns: an offset measured a minute ago, with the drift file's
// frequency right, is still the offset now (the frequency correction only
// cancelled the oscillator's error); the step corrects exactly it and no
// slew is left planned for the phase the step removed.
TEST(DisciplineFrequencyTest, AgedSampleStepsByTheOffsetNowWithoutALeftoverSlew) {
  DisciplineConfig config;
  config.initial_frequency_ppb = -50'000;
  Discipline d(config, kT0);
  d.start();
  DisciplineSample s = sample(500 * kMs);
  s.age_ns = 64 * kSec;
  const Decision r = d.update(s, kT0 + 193 * kSec);
  ASSERT_TRUE(r.actions.step_ns);
  EXPECT_NEAR(static_cast<double>(*r.actions.step_ns), 500e6, 1e3);
  ASSERT_TRUE(r.actions.frequency);
  EXPECT_EQ(r.actions.frequency->slew_ppb, 0);
  EXPECT_NEAR(static_cast<double>(r.actions.frequency->frequency_ppb), -50'000, 10);
}

TEST(DisciplineFrequencyTest, AbsurdDriftIsClampedTo500Ppm) {
  DisciplineConfig config;
  config.initial_frequency_ppb = 900'000;
  Discipline d(config, kT0);
  EXPECT_EQ(d.start().frequency->frequency_ppb, kMaxFrequencyPpb);
}

TEST(DisciplineFrequencyTest, RegressionMeasuresAKnownFrequency) {
  // The local clock gains 20 PPM and nothing corrects it: offsets fall by
  // 20 us/s. The loop commands what the clock would do; feed it back.
  Discipline d({}, kT0);
  double error_s = 0;  // local - true
  double rate = 20e-6;
  std::int64_t t = kT0;
  for (int second = 0; second < 3600; ++second, t += kSec) {
    if (second % 64 == 1) {
      const Decision r = d.update(sample(std::llround(-error_s * 1e9)), t);
      if (r.actions.frequency) {
        rate = 20e-6 + static_cast<double>(r.actions.frequency->frequency_ppb +
                                           r.actions.frequency->slew_ppb) *
                           1e-9;
      }
    }
    const ClockActions a = d.tick(t);
    if (a.frequency) {
      rate = 20e-6 + static_cast<double>(a.frequency->frequency_ppb + a.frequency->slew_ppb) * 1e-9;
    }
    error_s += rate;
  }
  EXPECT_EQ(d.status().state, LoopState::kSync);
  EXPECT_NEAR(static_cast<double>(d.status().frequency_ppb), -20'000, 5);
  EXPECT_LT(std::abs(error_s), 20e-6);
}

TEST(DisciplineFrequencyTest, LyingOffsetsNeverExceedTheBounds) {
  Discipline d({}, kT0);
  std::int64_t t = kT0;
  // Alternating +-100 ms (inliers) every 64 s would imply absurd rates.
  for (int i = 0; i < 200; ++i) {
    t += 64 * kSec;
    const Decision r = d.update(sample(i % 2 == 0 ? 100 * kMs : -100 * kMs), t);
    EXPECT_TRUE(within_bounds(r.actions));
    for (int s = 1; s < 64; s += 7) EXPECT_TRUE(within_bounds(d.tick(t + s * kSec)));
  }
  EXPECT_LE(std::llabs(d.status().frequency_ppb), kMaxFrequencyPpb);
}

TEST(DisciplineRfcTest, KernelModeHandsTheOffsetToTheKernelPll) {
  DisciplineConfig config;
  config.algorithm = LoopAlgorithm::kRfc5905;
  config.initial_frequency_ppb = 1000;
  Discipline d(config, kT0);
  const Decision r = d.update(sample(3 * kMs), kT0 + 64 * kSec);
  ASSERT_TRUE(r.actions.kernel_pll);
  EXPECT_EQ(r.actions.kernel_pll->offset_ns, 3 * kMs);
  EXPECT_EQ(r.actions.kernel_pll->time_constant, 6);
  EXPECT_TRUE(d.tick(kT0 + 65 * kSec).frequency == std::nullopt);
}

TEST(DisciplineRfcTest, UserModeAmortizesAndMeasuresFrequencyAfterStepout) {
  DisciplineConfig config;
  config.algorithm = LoopAlgorithm::kRfc5905;
  config.kernel = false;
  Discipline d(config, kT0);
  Decision r = d.update(sample(10 * kMs), kT0);
  EXPECT_EQ(d.status().state, LoopState::kFreq);
  ASSERT_TRUE(r.actions.frequency);
  // adj_host_clock: offset / (16 * 2^6) per second.
  EXPECT_NEAR(static_cast<double>(r.actions.frequency->slew_ppb), 10e6 / 1024, 2);
  // FREQ ignores updates until the stepout interval (900 s) ...
  r = d.update(sample(5 * kMs), kT0 + 500 * kSec);
  EXPECT_FALSE(r.actions.frequency);
  EXPECT_FALSE(r.actions.step_ns);
  EXPECT_EQ(d.status().state, LoopState::kFreq);
  // ... then sets the frequency directly (9 ms over 900 s = 10 PPM) and
  // adds the PLL term 9 ms * 900 s / (4 * 16 * 64 s)^2 = 0.48 PPM.
  d.update(sample(9 * kMs), kT0 + 900 * kSec);
  EXPECT_EQ(d.status().state, LoopState::kSync);
  EXPECT_NEAR(static_cast<double>(d.status().frequency_ppb), 10'483, 5);
}

TEST(DisciplineRfcTest, KernelDisciplineOffForLargeStepThreshold) {
  DisciplineConfig config;
  config.algorithm = LoopAlgorithm::kRfc5905;
  config.step_threshold_ns = kSec;  // ntpd: kernel off above 0.5 s
  config.initial_frequency_ppb = 0;
  Discipline d(config, kT0);
  const Decision r = d.update(sample(3 * kMs), kT0);
  EXPECT_FALSE(r.actions.kernel_pll);
  EXPECT_TRUE(r.actions.frequency);
}

TEST(DisciplineLeapTest, ArmsOnlyAfterConsecutiveAgreement) {
  Discipline d({}, kT0);
  std::int64_t t = kT0;
  auto update_with_leap = [&](std::uint32_t leap) {
    DisciplineSample s = sample(0);
    s.leap = leap;
    t += 64 * kSec;
    return d.update(s, t);
  };
  update_with_leap(1);
  update_with_leap(1);
  EXPECT_EQ(d.status().leap, LeapArm::kNone);
  const Decision armed = update_with_leap(1);
  EXPECT_EQ(d.status().leap, LeapArm::kInsert);
  EXPECT_EQ(armed.actions.leap, LeapArm::kInsert);
  update_with_leap(0);
  EXPECT_EQ(d.status().leap, LeapArm::kInsert);  // one dissent does not disarm
  update_with_leap(0);
  update_with_leap(0);
  EXPECT_EQ(d.status().leap, LeapArm::kNone);
}

TEST(DisciplineStatusTest, KernelStatusFollowsSynchronization) {
  Discipline d({}, kT0);
  Decision r = d.update(sample(200 * kMs), kT0);  // step: not yet synchronized
  ASSERT_TRUE(r.actions.status);
  EXPECT_FALSE(r.actions.status->synchronized);
  r = d.update(sample(100'000), kT0 + 64 * kSec);
  ASSERT_TRUE(r.actions.status);
  EXPECT_TRUE(r.actions.status->synchronized);
  EXPECT_GT(r.actions.status->maxerror_ns, 0);
  EXPECT_TRUE(d.status().synchronized);
}

TEST(HuffPuffTest, ShrinksOffsetsByHalfTheExcessDelay) {
  HuffPuff h(7200 * kSec);
  EXPECT_EQ(h.correct(1 * kMs, 10 * kMs, 0), 1 * kMs);  // first: the minimum itself
  EXPECT_EQ(h.correct(5 * kMs, 16 * kMs, kSec), 2 * kMs);
  EXPECT_EQ(h.correct(-5 * kMs, 16 * kMs, 2 * kSec), -2 * kMs);
  EXPECT_EQ(h.min_delay_ns(), 10 * kMs);
  // After the window (8 buckets of 900 s) the old minimum is forgotten.
  h.correct(0, 20 * kMs, 9000 * kSec);
  EXPECT_EQ(h.min_delay_ns(), 20 * kMs);
}

class RecordingDriver : public ClockDriver {
 public:
  bool step(std::int64_t) override { return log("step"); }
  bool adjtime(std::int64_t) override { return log("adjtime"); }
  bool set_frequency(const FrequencyUpdate&) override { return log("frequency"); }
  bool kernel_pll(const KernelPllUpdate&) override { return log("pll"); }
  bool set_status(const KernelStatus&) override { return log("status"); }
  bool arm_leap(LeapArm) override { return log("leap"); }
  std::vector<std::string> calls;

 private:
  bool log(const char* what) {
    calls.push_back(what);
    return std::string(what) != "adjtime";  // one refusal
  }
};

TEST(ClockDriverTest, ApplyActionsRunsEveryCallInOrder) {
  ClockActions a;
  a.leap = LeapArm::kInsert;
  a.status = KernelStatus{};
  a.kernel_pll = KernelPllUpdate{};
  a.frequency = FrequencyUpdate{};
  a.adjtime_ns = 1;
  a.step_ns = 1;
  RecordingDriver driver;
  EXPECT_FALSE(apply_actions(driver, a));
  EXPECT_EQ(driver.calls,
            (std::vector<std::string>{"step", "adjtime", "frequency", "pll", "status", "leap"}));
  EXPECT_TRUE(ClockActions{}.empty());
}

}  // namespace
}  // namespace ntpd::clock
