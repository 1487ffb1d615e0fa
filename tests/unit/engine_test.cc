// Engine: the local clock fallback, and system variables only claiming
// synchronization when the clock process agrees.
#include "ntpd-net/engine.h"

#include <gtest/gtest.h>

namespace ntpd::net {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;
constexpr common::UnixNs kStart{1'700'000'000 * kSecond};

TEST(Engine, LocalClockOnlySynchronizesAfterTheOrphanWait) {
  EngineConfig config;
  config.local_clock_stratum = 10;
  Engine engine(config, kStart);
  EXPECT_FALSE(engine.update_system(common::UnixNs{kStart.ns + 5 * kSecond}));
  const auto sample = engine.update_system(common::UnixNs{kStart.ns + 16 * kSecond});
  ASSERT_TRUE(sample) << "status " << static_cast<int>(engine.last_decision().status);
  EXPECT_EQ(sample->offset_ns, 0);
  EXPECT_EQ(sample->stratum, 10);
  // No new local sample until the next local interval.
  EXPECT_FALSE(engine.update_system(common::UnixNs{kStart.ns + 17 * kSecond}));
  // Not advertised as synchronized until the clock process says so.
  EXPECT_FALSE(engine.system_vars().synchronized);
  EXPECT_EQ(engine.system_vars().stratum, 16);
  engine.on_clock_status(ClockStatus{true, 0, 6, false}, common::UnixNs{kStart.ns + 18 * kSecond});
  EXPECT_TRUE(engine.system_vars().synchronized);
  EXPECT_EQ(engine.system_vars().stratum, 11);
  EXPECT_EQ(engine.system_vars().leap, 0);
}

TEST(Engine, NoSourcesMeansNoSample) {
  Engine engine(EngineConfig{}, kStart);
  EXPECT_FALSE(engine.update_system(common::UnixNs{kStart.ns + 100 * kSecond}));
  EXPECT_FALSE(engine.system_vars().synchronized);
  EXPECT_EQ(engine.system_vars().refid, kRefidInit);
}

}  // namespace
}  // namespace ntpd::net

namespace ntpd::net {
namespace {

TEST(Engine, LocalClockTakesOverWhenServersAreSilent) {
  EngineConfig config;
  config.local_clock_stratum = 10;
  Engine engine(config, kStart);
  AssociationConfig server;
  server.iburst = true;
  engine.add(server, kStart, 0);
  std::vector<Outgoing> out;
  bool sampled = false;
  for (int s = 0; s < 40 && !sampled; ++s) {
    const common::UnixNs now{kStart.ns + s * kSecond};
    engine.poll(
        now, [] { return std::uint64_t{42}; }, out);
    sampled = engine.update_system(now).has_value();
    EXPECT_LE(engine.next_wakeup().ns, now.ns + kSecond);
  }
  EXPECT_TRUE(sampled);
  EXPECT_GE(out.size(), 6u) << "iburst";
}

}  // namespace
}  // namespace ntpd::net
