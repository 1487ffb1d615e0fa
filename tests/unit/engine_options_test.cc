// NetConfig's tos fields into the engine: in-range values are applied,
// out-of-range ones are ignored (ntpd-net treats NetConfig as input).
#include "ntpd-net/engine_options.h"

#include <gtest/gtest.h>

namespace ntpd::net {
namespace {

TEST(EngineOptions, AppliesTosValues) {
  ipc::NetConfig net;
  net.set_orphan_stratum(9);
  net.set_orphan_wait_s(40);
  net.set_tos_mindist_ns(2'000'000);
  net.set_tos_maxdist_ns(3'000'000'000);
  net.set_tos_minclock(4);
  net.set_tos_maxclock(12);
  net.set_tos_minsane(2);
  net.set_tos_floor(1);
  net.set_tos_ceiling(10);
  EngineConfig config;
  apply_engine_options(net, &config);
  EXPECT_EQ(config.params.orphan_stratum, std::optional<std::uint8_t>(9));
  EXPECT_EQ(config.orphan_wait_ns, 40 * common::kNsPerSecond);
  EXPECT_EQ(config.params.mindist_ns, 2'000'000);
  EXPECT_EQ(config.params.maxdist_ns, 3'000'000'000);
  EXPECT_EQ(config.params.minclock, 4);
  EXPECT_EQ(config.params.maxclock, 12);
  EXPECT_EQ(config.params.minsane, 2);
  EXPECT_EQ(config.params.floor, 1);
  EXPECT_EQ(config.params.ceiling, 10);
}

TEST(EngineOptions, IgnoresOutOfRangeValues) {
  ipc::NetConfig net;
  net.set_orphan_stratum(16);
  net.set_orphan_wait_s(10'000'000);
  net.set_tos_maxdist_ns(0);
  net.set_tos_mindist_ns(-5);
  net.set_tos_minclock(0);
  net.set_tos_ceiling(17);
  const EngineConfig defaults;
  EngineConfig config;
  apply_engine_options(net, &config);
  EXPECT_FALSE(config.params.orphan_stratum);
  EXPECT_EQ(config.orphan_wait_ns, defaults.orphan_wait_ns);
  EXPECT_EQ(config.params.maxdist_ns, defaults.params.maxdist_ns);
  EXPECT_EQ(config.params.mindist_ns, defaults.params.mindist_ns);
  EXPECT_EQ(config.params.minclock, defaults.params.minclock);
  EXPECT_EQ(config.params.ceiling, defaults.params.ceiling);
}

}  // namespace
}  // namespace ntpd::net
