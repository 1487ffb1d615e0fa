// A compromised ntpd-net: random and extreme sample values, bursts far
// faster than any poll, sudden large offsets. Whatever it sends, the
// discipline must keep the clock within policy: steps only by ntpd's rules
// (never with -x, beyond the panic threshold only once with -g), frequency,
// slew and their sum within 500 PPM, accepted samples within the rate rules.
// (NaN and infinity cannot be expressed: the IPC contract carries int64 ns.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ntpd-clock/discipline.h"
#include "tests/sim/sim_random.h"
#include "tests/sim/simulated_clock.h"

namespace ntpd::sim {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

std::int64_t pick_offset(Rng& rng) {
  const double u = rng.uniform();
  if (u < 0.05) return std::numeric_limits<std::int64_t>::max();
  if (u < 0.10) return std::numeric_limits<std::int64_t>::min();
  if (u < 0.30) return std::llround((rng.uniform() - 0.5) * 4000 * 1e9);  // +-2000 s
  if (u < 0.50) return std::llround((rng.uniform() - 0.5) * 1e9);         // +-0.5 s
  if (u < 0.80) return std::llround((rng.uniform() - 0.5) * 0.25e9);      // near the threshold
  return static_cast<std::int64_t>(rng.next());                           // anything
}

clock::DisciplineSample lying_sample(Rng& rng) {
  clock::DisciplineSample s;
  s.offset_ns = pick_offset(rng);
  auto duration = [&rng]() -> std::int64_t {
    const double u = rng.uniform();
    if (u < 0.1) return -1;
    if (u < 0.2) return static_cast<std::int64_t>(rng.next());
    return std::llround(rng.uniform() * 0.1e9);
  };
  s.delay_ns = duration();
  s.dispersion_ns = duration();
  s.jitter_ns = duration();
  s.root_distance_ns = duration();
  s.stratum = static_cast<std::uint32_t>(rng.next() % 20);
  s.leap = static_cast<std::uint32_t>(rng.next() % 5);
  s.poll_log2s = static_cast<std::int32_t>(rng.next() % 20);
  s.age_ns = rng.uniform() < 0.9 ? 0 : static_cast<std::int64_t>(rng.next());
  return s;
}

struct Outcome {
  int steps = 0;
  int accepted = 0;
  bool exited = false;
};

Outcome run_liar(const clock::DisciplineConfig& config, std::uint64_t seed, double hours) {
  Rng rng(seed);
  OscillatorConfig osc;
  osc.frequency_ppm = 20;
  SimulatedClock clk(0, Oscillator(osc, rng));
  clock::Discipline d(config, clk.monotonic_ns());
  clock::apply_actions(clk, d.start());
  Outcome out;
  const double step_s = static_cast<double>(config.step_threshold_ns) * 1e-9;
  const double panic_s = static_cast<double>(config.panic_threshold_ns) * 1e-9;
  const auto seconds = static_cast<int>(hours * 3600);
  const bool kernel_pll = config.algorithm == clock::LoopAlgorithm::kRfc5905 && config.kernel;
  double next_sample = 1;
  for (int sec = 0; sec < seconds && !out.exited; ++sec) {
    while (next_sample < sec + 1 && !out.exited) {
      const clock::Decision r =
          d.update(lying_sample(rng), clk.monotonic_ns(next_sample - clk.true_time_s()));
      if (!r.rejected) ++out.accepted;
      if (r.actions.step_ns) {
        ++out.steps;
        const double step = std::abs(static_cast<double>(*r.actions.step_ns)) * 1e-9;
        EXPECT_FALSE(config.slew_only) << "step under -x";
        EXPECT_GT(step, step_s) << "step below the threshold";
        if (out.steps > 1 || !config.allow_big_first_step) {
          EXPECT_LE(step, panic_s);
        }
      }
      if (r.exit != clock::ExitReason::kNone) {
        out.exited = true;
        EXPECT_TRUE(r.exit == clock::ExitReason::kPanic || r.exit == clock::ExitReason::kSlewLimit);
      }
      clock::apply_actions(clk, r.actions);
      // Bursts: a quarter of the time, dozens of samples within a second.
      next_sample += rng.uniform() < 0.25 ? rng.uniform() * 0.05 : rng.uniform() * 120;
    }
    clock::apply_actions(clk, d.tick(clk.monotonic_ns()));
    clk.advance(sec + 1 - clk.true_time_s());
    // Frequency and phase slew each within 500 PPM; one ADJ_FREQUENCY (every
    // loop but the kernel PLL) keeps even their sum within 500 PPM.
    const double total_limit = kernel_pll ? 1000e-6 : 500e-6;
    if (std::abs(clk.slew_rate()) > 500e-6 + 1e-12 ||
        std::abs(clk.kernel_frequency()) > 500e-6 + 1e-12 ||
        std::abs(clk.adjustment_rate()) > total_limit + 1e-12) {
      ADD_FAILURE() << "seed " << seed << " t=" << sec << ": slew " << clk.slew_rate()
                    << " frequency " << clk.kernel_frequency() << " total "
                    << clk.adjustment_rate();
      return out;
    }
  }
  // Rate rules: a burst of 8 after start and after each step, then one per 32 s.
  EXPECT_LE(out.accepted, 8 * (1 + out.steps) + static_cast<int>(hours * 3600 / 32) + 1);
  // A step needs an outlier that persisted through the stepout (900 s),
  // except the first update's.
  EXPECT_LE(out.steps, 1 + static_cast<int>(hours * 3600 / 900));
  return out;
}

TEST(LyingStreamTest, DefaultPolicyHolds) {
  int exits = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    if (run_liar({}, seed, 6).exited) ++exits;
  }
  EXPECT_GT(exits, 0);  // a liar can make it panic, as a lying server could
}

TEST(LyingStreamTest, SlewOnlyNeverSteps) {
  clock::DisciplineConfig config;
  config.slew_only = true;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) EXPECT_EQ(run_liar(config, seed, 6).steps, 0);
}

TEST(LyingStreamTest, PanicGateAllowsOnlyTheFirstBigStep) {
  clock::DisciplineConfig config;
  config.allow_big_first_step = true;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) run_liar(config, seed, 6);
}

TEST(LyingStreamTest, ClassicLoopPolicyHolds) {
  for (bool kernel : {true, false}) {
    clock::DisciplineConfig config;
    config.algorithm = clock::LoopAlgorithm::kRfc5905;
    config.kernel = kernel;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) run_liar(config, seed, 6);
  }
}

// Plausible lies only (in-range fields, offsets inside the step threshold),
// so nothing is rejected for range and the loop is driven as hard as a
// lying server could: still within 500 PPM, never a step.
TEST(LyingStreamTest, PlausibleLiesStayWithinSlewLimits) {
  Rng rng(7);
  SimulatedClock clk(0, Oscillator({}, rng));
  clock::Discipline d({}, clk.monotonic_ns());
  clock::apply_actions(clk, d.start());
  for (int sec = 0; sec < 12 * 3600; ++sec) {
    if (sec % 64 == 1) {
      clock::DisciplineSample s;
      s.offset_ns = (sec / 64) % 2 == 0 ? 120'000'000 : -120'000'000;
      s.delay_ns = std::llround(rng.uniform() * 1e6);
      s.root_distance_ns = 1'000'000;
      s.stratum = 1;
      s.poll_log2s = 6;
      const clock::Decision r = d.update(s, clk.monotonic_ns());
      EXPECT_FALSE(r.actions.step_ns);
      clock::apply_actions(clk, r.actions);
    }
    clock::apply_actions(clk, d.tick(clk.monotonic_ns()));
    clk.advance(1);
    ASSERT_LE(std::abs(clk.adjustment_rate()), 500e-6 + 1e-12);
  }
  EXPECT_EQ(clk.steps(), 0);
}

}  // namespace
}  // namespace ntpd::sim
