// Tests of the simulator's parts: the seeded RNG, the oscillator, the
// simulated clock's Linux arithmetic, the network exchange and the real
// ntpd-net core behind simulated servers. If these are wrong, every scenario result is.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/sim/network.h"
#include "tests/sim/oscillator.h"
#include "tests/sim/sim_net_process.h"
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

// ntpd-net's real core behind real packets: with an exact network the
// system samples read the simulated clock's true offset (to the packet
// format's resolution and the clock's drift during the exchange), the
// falsetickers are voted out, and Sample.age_ns is the newest survivor's
// filter-sample age.
TEST(SimNetProcessTest, RealCoreSeesTheTrueOffsetAndOutvotesFalsetickers) {
  Rng rng(7);
  SimulatedClock clk(0.02, Oscillator({.frequency_ppm = 0}, rng));
  Network net({}, rng);
  SimNetConfig config;
  config.servers = {{0.3, true}, {0, false}, {0, false}, {-0.4, true}, {0, false}};
  config.iburst = true;
  SimNetProcess sim(config, net, rng, clk);
  std::vector<clock::DisciplineSample> samples;
  for (int guard = 0; guard < 100000 && clk.true_time_s() < 200; ++guard) {
    const double next = std::min(sim.next_arrival_s(), sim.next_timer_s());
    clk.advance(next - clk.true_time_s());
    auto s = sim.next_arrival_s() <= next ? sim.on_arrival() : sim.on_timer();
    if (s) samples.push_back(*s);
  }
  ASSERT_FALSE(samples.empty());
  for (const auto& s : samples) {
    EXPECT_NEAR(static_cast<double>(s.offset_ns) * 1e-9, 0.02, 2e-6);
    EXPECT_NEAR(static_cast<double>(s.delay_ns) * 1e-9, 2e-3, 2e-6);
    EXPECT_GE(s.age_ns, 0);
    EXPECT_LT(s.age_ns, std::int64_t{70} * 1'000'000'000);
    EXPECT_EQ(s.stratum, 1u);
  }
  EXPECT_EQ(sim.engine().last_decision().selection.survivors.size, 3u);
}

}  // namespace
}  // namespace ntpd::sim
