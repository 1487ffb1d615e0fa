// Tests of the simulator's parts: the seeded RNG, the oscillator, the
// simulated clock's Linux arithmetic, the network exchange and the
// selection stand-in. If these are wrong, every scenario result is.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/sim/network.h"
#include "tests/sim/oscillator.h"
#include "tests/sim/selection_standin.h"
#include "tests/sim/sim_random.h"
#include "tests/sim/simulated_clock.h"

namespace ntpd::sim {
namespace {

TEST(RngTest, SeededAndRoughlyCalibrated) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  Rng r(1);
  double sum = 0, sum2 = 0, esum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sum2 += x * x;
    esum += r.exponential();
  }
  EXPECT_NEAR(sum / n, 0, 0.01);
  EXPECT_NEAR(sum2 / n, 1, 0.02);
  EXPECT_NEAR(esum / n, 1, 0.01);
}

TEST(OscillatorTest, ConstantWanderAndTemperature) {
  Rng rng(1);
  Oscillator fixed({.frequency_ppm = 12.5}, rng);
  fixed.advance(1000);
  EXPECT_DOUBLE_EQ(fixed.frequency(), 12.5e-6);
  Oscillator temp({.temp_ppm = 2, .temp_period_s = 400}, rng);
  temp.advance(100);  // a quarter period: the peak
  EXPECT_NEAR(temp.frequency(), 2e-6, 1e-12);
  // Random walk: sd of the change after 10000 s is wander * sqrt(10000).
  double sum2 = 0;
  for (int i = 0; i < 400; ++i) {
    Oscillator walk({.wander_ppb_per_s = 1}, rng);
    for (int s = 0; s < 100; ++s) walk.advance(100);
    sum2 += walk.frequency() * walk.frequency();
  }
  EXPECT_NEAR(std::sqrt(sum2 / 400), 100e-9, 15e-9);
}

TEST(SimulatedClockTest, StepFrequencyAndAdjtime) {
  Rng rng(1);
  SimulatedClock clk(0.25, Oscillator({.frequency_ppm = 10}, rng));
  EXPECT_DOUBLE_EQ(clk.offset_s(), 0.25);
  clk.step(250'000'000);
  EXPECT_NEAR(clk.offset_s(), 0, 1e-12);
  clk.advance(100);  // 10 PPM fast: 1 ms ahead
  EXPECT_NEAR(clk.offset_s(), -1e-3, 1e-12);
  clk.set_frequency({-10'000, 0});
  clk.advance(100);
  EXPECT_NEAR(clk.offset_s(), -1e-3, 1e-12);
  EXPECT_NEAR(clk.frequency_error(), 0, 1e-15);
  clk.adjtime(-1'000'000);  // back 1 ms at 500 PPM: 2 s
  clk.advance(1);
  EXPECT_NEAR(clk.offset_s(), -0.5e-3, 1e-12);
  clk.advance(1);
  clk.advance(1);
  EXPECT_NEAR(clk.offset_s(), 0, 1e-12);
  EXPECT_EQ(clk.steps(), 1);
  // ADJ_FREQUENCY is clamped to +-500 PPM like Linux.
  clk.set_frequency({900'000, 0});
  EXPECT_DOUBLE_EQ(clk.kernel_frequency(), 500e-6);
}

TEST(SimulatedClockTest, KernelPllSlewsWithItsTimeConstant) {
  Rng rng(1);
  SimulatedClock clk(0, Oscillator({}, rng));
  clk.kernel_pll({1'000'000, 6});  // 1 ms behind, poll 6: tau 2^(2+6) = 256 s
  clk.advance(256);
  // Continuous approximation of offset >> 8 each second: ~e^-1 still to go,
  // so the (exact) clock is now ahead by 1 - e^-1 of a millisecond.
  EXPECT_NEAR(clk.offset_s(), -1e-3 * (1 - std::exp(-1.0)), 2e-5);
  EXPECT_DOUBLE_EQ(clk.kernel_frequency(), 0);  // first call: no interval yet
  clk.kernel_pll({1'000'000, 6});               // 256 s later: PLL frequency gain
  EXPECT_NEAR(clk.kernel_frequency(), 1e-3 * 256 / std::ldexp(1.0, 20), 1e-15);
}

TEST(NetworkTest, ExchangeComputesOffsetAndDelay) {
  Rng rng(1);
  NetworkConfig plain;
  Network net(plain, rng);
  const SimServer server{};
  // Client 5 ms behind, not drifting: exact offset and 2 ms delay.
  auto e = net.exchange(10, server, [](double) { return 5e-3; });
  ASSERT_TRUE(e);
  EXPECT_NEAR(e->offset_s, 5e-3, 1e-12);
  EXPECT_NEAR(e->delay_s, 2e-3, 1e-12);
  // Asymmetry: out 1.5 ms, back 0.5 ms reads half the difference high.
  NetworkConfig skewed;
  skewed.asymmetry_s = 1e-3;
  Network asym(skewed, rng);
  e = asym.exchange(10, server, [](double) { return 0.0; });
  EXPECT_NEAR(e->offset_s, 0.5e-3, 1e-12);
  // Outage and total loss.
  Network out({.outages = {{100, 50}}}, rng);
  EXPECT_FALSE(out.exchange(120, server, [](double) { return 0.0; }));
  EXPECT_TRUE(out.exchange(151, server, [](double) { return 0.0; }));
  NetworkConfig all_lost;
  all_lost.loss = 1.0;
  Network lossy(all_lost, rng);
  EXPECT_FALSE(lossy.exchange(1, server, [](double) { return 0.0; }));
}

TEST(ClockFilterStandInTest, PassesOnlyNewerMinimumDelaySamples) {
  ClockFilterStandIn f;
  EXPECT_TRUE(f.add({1e-3, 5e-3, 0}));
  EXPECT_FALSE(f.add({2e-3, 6e-3, 64}));  // the older one still has the smaller delay
  auto out = f.add({3e-3, 4e-3, 128});
  ASSERT_TRUE(out);
  EXPECT_DOUBLE_EQ(out->offset_s, 3e-3);
  // Older than the Allan intercept: the dispersion counts, a fresh sample wins.
  out = f.add({4e-3, 4.5e-3, 128 + 3000});
  ASSERT_TRUE(out);
  EXPECT_DOUBLE_EQ(out->offset_s, 4e-3);
}

TEST(SelectionStandInTest, MedianOfTruechimersWithAge) {
  SelectionStandIn s(5, true);
  const double offsets[] = {0.010, 0.0011, 0.0012, 0.0013, -0.2};
  for (std::size_t i = 0; i < 5; ++i) s.add(i, {offsets[i], 2e-3, 100});
  auto out = s.combine(110, 6);
  ASSERT_TRUE(out);
  EXPECT_EQ(s.last_truechimers(), 3u);  // 10 ms and -200 ms are falsetickers
  EXPECT_EQ(out->offset_ns, 1'200'000);
  EXPECT_EQ(out->age_ns, 10'000'000'000);
  EXPECT_FALSE(s.combine(120, 6));  // nothing new since
  SelectionStandIn no_age(1, false);
  no_age.add(0, {1e-3, 2e-3, 100});
  EXPECT_EQ(no_age.combine(150, 6)->age_ns, 0);
}

}  // namespace
}  // namespace ntpd::sim
