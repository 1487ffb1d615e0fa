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

namespace ntpd::net {
namespace {

// IPC Sample.age_ns: the combined offset is as old as the newest survivor's
// clock-filter sample; the local clock's zero offset is never old.
TEST(Engine, SampleAgeIsTheNewestSurvivorsFilterSampleAge) {
  Engine engine(EngineConfig{}, kStart);
  AssociationConfig server;
  server.iburst = true;
  const std::uint32_t id = engine.add(server, kStart, 0);
  SystemVars upstream;
  upstream.synchronized = true;
  upstream.leap = 0;
  upstream.stratum = 1;
  upstream.refid = refid_from_ascii("GPS");
  upstream.reference_time = kStart;
  std::optional<SystemSample> sample;
  common::UnixNs now = kStart;
  for (int s = 0; s < 60 && !sample; ++s) {
    now = common::UnixNs{kStart.ns + s * kSecond};
    std::vector<Outgoing> out;
    engine.poll(
        now, [s] { return std::uint64_t{1000} + static_cast<std::uint64_t>(s); }, out);
    for (const Outgoing& o : out) {
      std::array<std::uint8_t, kHeaderBytes> reply{};
      const common::UnixNs at_server{now.ns + 2'000'000};
      const ServerDecision d =
          respond(std::span(o.bytes.data(), o.length), at_server, at_server, upstream, reply);
      ASSERT_EQ(d.action, ServerDecision::Action::kReply);
      const common::UnixNs back{now.ns + 4'000'000};
      engine.on_reply(o.association_id, std::span(reply.data(), d.length), back, back);
    }
    // Asked 300 ms after the last reply: the sample is at least that old.
    const common::UnixNs later{now.ns + 300'000'000};
    sample = engine.update_system(later);
    if (sample) now = later;
  }
  ASSERT_TRUE(sample);
  const Association* a = engine.find(id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(sample->age_ns, now.ns - a->filter().epoch().ns);
  EXPECT_GE(sample->age_ns, 296'000'000);

  EngineConfig local;
  local.local_clock_stratum = 10;
  Engine local_engine(local, kStart);
  const auto local_sample = local_engine.update_system(common::UnixNs{kStart.ns + 16 * kSecond});
  ASSERT_TRUE(local_sample);
  EXPECT_EQ(local_sample->age_ns, 0);
}

}  // namespace
}  // namespace ntpd::net
