// Engine with orphan mode (tos orphan) and broadcast associations: the
// orphan parent claims synchronization on its own at the orphan stratum
// once the orphan wait is over; broadcast servers send only while we are
// synchronized; a broadcast client's samples reach the system process.
#include <gtest/gtest.h>

#include <vector>

#include "ntpd-net/engine.h"

namespace ntpd::net {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;
constexpr common::UnixNs kStart{1'700'000'000 * kSecond};

common::UnixNs after(std::int64_t ns) { return common::UnixNs{kStart.ns + ns}; }

TEST(EngineOrphan, BecomesOrphanParentAfterTheWaitWithoutTheClockProcess) {
  EngineConfig config;
  config.params.orphan_stratum = 10;
  Engine engine(config, kStart);
  EXPECT_FALSE(engine.update_system(after(5 * kSecond)));
  EXPECT_FALSE(engine.system_vars().synchronized);
  EXPECT_EQ(engine.system_vars().stratum, 16);
  // Past the (default 15 s) orphan wait: the orphan parent, with no sample
  // for the clock process (there is nothing to follow).
  EXPECT_FALSE(engine.update_system(after(16 * kSecond)));
  EXPECT_EQ(engine.last_decision().status, SyncStatus::kOrphanParent);
  const SystemVars sys = engine.system_vars();
  EXPECT_TRUE(sys.synchronized);
  EXPECT_EQ(sys.stratum, 10);
  EXPECT_EQ(sys.leap, 0);
  EXPECT_EQ(sys.refid, kRefidLoopback);
  EXPECT_EQ(sys.root_delay_ns, 0);
}

TEST(EngineOrphan, OrphanWaitIsConfigurable) {
  EngineConfig config;
  config.params.orphan_stratum = 5;
  config.orphan_wait_ns = 60 * kSecond;
  Engine engine(config, kStart);
  engine.update_system(after(30 * kSecond));
  EXPECT_FALSE(engine.system_vars().synchronized);
  engine.update_system(after(61 * kSecond));
  EXPECT_TRUE(engine.system_vars().synchronized);
  EXPECT_EQ(engine.system_vars().stratum, 5);
}

TEST(EngineOrphan, LocalClockWinsOverOrphanParent) {
  EngineConfig config;
  config.params.orphan_stratum = 12;
  config.local_clock_stratum = 8;
  Engine engine(config, kStart);
  ASSERT_TRUE(engine.update_system(after(16 * kSecond)));
  EXPECT_EQ(engine.last_decision().status, SyncStatus::kSynchronized);
  engine.on_clock_status(ClockStatus{true, 0, 6, false}, after(17 * kSecond));
  EXPECT_EQ(engine.system_vars().stratum, 9);
}

TEST(EngineBroadcast, ServerSendsOnlyWhileSynchronized) {
  EngineConfig config;
  config.local_clock_stratum = 10;
  Engine engine(config, kStart);
  BroadcastServerConfig b;
  b.poll_log2s = 3;
  const std::uint32_t id = engine.add_broadcast_server(b, kStart, 0);
  std::vector<Outgoing> out;
  const auto cookie = [] { return std::uint64_t{1}; };
  engine.poll(after(0), cookie, out);
  EXPECT_TRUE(out.empty());  // due, but unsynchronized: nothing
  EXPECT_LE(engine.next_wakeup().ns, after(8 * kSecond).ns);
  engine.update_system(after(16 * kSecond));
  engine.on_clock_status(ClockStatus{true, 0, 6, false}, after(16 * kSecond));
  engine.poll(after(16 * kSecond), cookie, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].association_id, id);
  ASSERT_EQ(out[0].length, kHeaderBytes);
  const auto p = parse_packet({out[0].bytes.data(), out[0].length}, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode, static_cast<std::uint8_t>(Mode::kBroadcast));
  EXPECT_EQ(p->stratum, 11);
  EXPECT_EQ(p->refid, 0x7f7f0100u);
}

TEST(EngineBroadcast, BroadcastClientSamplesReachTheClockProcess) {
  Engine engine(EngineConfig{}, kStart);
  BroadcastClientConfig c;
  c.volley = false;
  c.delay_ns = 0;
  c.address_refid = 0x0a000001;
  const std::uint32_t id = engine.add_broadcast_client(c, kStart, 0);
  ASSERT_NE(engine.find_broadcast_client(id), nullptr);
  SystemVars server;
  server.synchronized = true;
  server.leap = 0;
  server.stratum = 2;
  server.refid = 0x47505300;
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  std::optional<SystemSample> sample;
  for (int i = 0; i < 8 && !sample; ++i) {
    const common::UnixNs t = after(i * 64 * kSecond);
    // The broadcaster is 20 ms ahead of us.
    ASSERT_EQ(build_broadcast(server, 4, 6, common::UnixNs{t.ns + 20'000'000}, bytes),
              kHeaderBytes);
    const auto r = engine.on_broadcast(id, bytes, t, t);
    ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
    sample = engine.update_system(t);
  }
  ASSERT_TRUE(sample);
  EXPECT_EQ(sample->offset_ns, 20'000'000);
  EXPECT_EQ(sample->stratum, 2);
  EXPECT_EQ(sample->refid, 0x0a000001u);
  EXPECT_EQ(sample->system_peer_id, id);
  // Unknown ids are ignored.
  EXPECT_EQ(engine.on_broadcast(id + 100, bytes, kStart, kStart).action, ReplyAction::kDropped);
}

}  // namespace
}  // namespace ntpd::net
