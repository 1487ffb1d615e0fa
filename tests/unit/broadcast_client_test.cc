// Unit tests for ntpd-net/broadcast_client and broadcast_server: the mode 5
// bytes and schedule, the one-way offset arithmetic of a broadcast client
// (RFC 5905 section 8 with T3 + d - T4), its replay and header tests, the
// calibration volley, and the reach register of a silent broadcaster.
#include "ntpd-net/broadcast_client.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "ntpd-net/broadcast_server.h"
#include "tests/unit/association_test_helpers.h"

namespace ntpd::net {
namespace {

using common::UnixNs;

using testutil::at;
using testutil::kMs;
using testutil::kS;
using testutil::kT0;

SystemVars synced_vars() {
  SystemVars sys;
  sys.synchronized = true;
  sys.leap = 0;
  sys.stratum = 3;
  sys.precision_log2s = -20;
  sys.root_delay_ns = 10 * kMs;
  sys.root_dispersion_ns = 5 * kMs;
  sys.refid = 0x0a000001;
  sys.reference_time = at(-10 * kS);
  return sys;
}

// A broadcast as our server builds it, sent at server time `t3`.
std::vector<std::uint8_t> broadcast_at(UnixNs t3, std::int8_t poll = 6) {
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  EXPECT_EQ(build_broadcast(synced_vars(), 4, poll, t3, bytes), kHeaderBytes);
  return bytes;
}

BroadcastClientConfig novolley(std::int64_t delay_ns = 4 * kMs) {
  BroadcastClientConfig c;
  c.id = 7;
  c.volley = false;
  c.delay_ns = delay_ns;
  c.address_refid = 0x0a000002;
  return c;
}

TEST(BroadcastServer, BuildsModeFiveFromTheSystemVariables) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  ASSERT_EQ(build_broadcast(synced_vars(), 4, 6, at(0), out), kHeaderBytes);
  const auto p = parse_packet(out, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode, static_cast<std::uint8_t>(Mode::kBroadcast));
  EXPECT_EQ(p->version, 4);
  EXPECT_EQ(p->leap, 0);
  EXPECT_EQ(p->stratum, 3);
  EXPECT_EQ(p->poll_log2s, 6);
  EXPECT_EQ(p->refid, 0x0a000001u);
  EXPECT_TRUE(p->origin_time.is_zero());
  EXPECT_TRUE(p->receive_time.is_zero());
  EXPECT_EQ(p->transmit_time, common::to_ntp(at(0)));
  EXPECT_EQ(p->reference_time, common::to_ntp(at(-10 * kS)));
}

TEST(BroadcastServer, SendsNothingWhileUnsynchronized) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  SystemVars sys = synced_vars();
  sys.synchronized = false;
  EXPECT_EQ(build_broadcast(sys, 4, 6, at(0), out), 0u);
  sys = synced_vars();
  sys.leap = 3;
  EXPECT_EQ(build_broadcast(sys, 4, 6, at(0), out), 0u);
  sys = synced_vars();
  sys.stratum = 16;
  EXPECT_EQ(build_broadcast(sys, 4, 6, at(0), out), 0u);
}

TEST(BroadcastServer, KeepsItsCadenceAndSkipsWhileUnsynchronized) {
  BroadcastServerConfig config;
  config.poll_log2s = 3;
  BroadcastServer server(config, at(0), 500 * kMs);
  std::array<std::uint8_t, kHeaderBytes> out{};
  EXPECT_FALSE(server.due(at(400 * kMs)));
  ASSERT_TRUE(server.due(at(500 * kMs)));
  SystemVars unsynced;
  EXPECT_EQ(server.transmit(unsynced, at(500 * kMs), out), 0u);
  EXPECT_EQ(server.next(), at(8500 * kMs));
  // A late wakeup does not shift the schedule.
  EXPECT_EQ(server.transmit(synced_vars(), at(8600 * kMs), out), kHeaderBytes);
  EXPECT_EQ(server.next(), at(16500 * kMs));
  EXPECT_EQ(server.sent(), 1u);
  // Poll outside 3..17 is clamped.
  config.poll_log2s = 1;
  EXPECT_EQ(BroadcastServer(config, at(0), 0).config().poll_log2s, 3);
}

TEST(BroadcastClient, OffsetIsTransmitPlusDelayMinusArrival) {
  BroadcastClient client(novolley(4 * kMs), at(0), 0);
  EXPECT_FALSE(client.calibrating());
  EXPECT_FALSE(client.poll_due(at(100 * kS)).due);
  // The server's clock is 250 ms ahead: it sends at (its) t + 250 ms, the
  // packet takes 4 ms, and we read our clock at t + 4 ms.
  const auto r = client.on_broadcast(broadcast_at(at(250 * kMs)), at(4 * kMs), at(4 * kMs));
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_EQ(r.sample.offset_ns, 250 * kMs);
  EXPECT_EQ(r.sample.delay_ns, 8 * kMs);
  const PeerSummary s = client.summary(at(5 * kMs));
  EXPECT_EQ(s.id, 7u);
  EXPECT_EQ(s.stratum, 3);
  EXPECT_EQ(s.leap, 0);
  EXPECT_EQ(s.reach, 1);
  EXPECT_EQ(s.offset_ns, 250 * kMs);
  EXPECT_EQ(s.address_refid, 0x0a000002u);
  EXPECT_EQ(s.root_delay_ns, common::from_ntp_short(common::to_ntp_short(10 * kMs)));
}

TEST(BroadcastClient, RejectsReplaysOldPacketsAndBadHeaders) {
  BroadcastClient client(novolley(), at(0), 0);
  const auto first = broadcast_at(at(0));
  ASSERT_EQ(client.on_broadcast(first, at(1 * kMs), at(1 * kMs)).action, ReplyAction::kAccepted);
  // The same packet again, and an older one: TEST1.
  auto r = client.on_broadcast(first, at(2 * kMs), at(2 * kMs));
  EXPECT_TRUE(r.failed.has(OnWireTest::kDuplicate));
  r = client.on_broadcast(broadcast_at(at(-64 * kS)), at(3 * kMs), at(3 * kMs));
  EXPECT_TRUE(r.failed.has(OnWireTest::kDuplicate));
  // A mode 4 packet is not a broadcast.
  NtpPacket p;
  p.mode = static_cast<std::uint8_t>(Mode::kServer);
  p.stratum = 2;
  p.transmit_time = common::to_ntp(at(64 * kS));
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  build_packet(p, bytes);
  EXPECT_TRUE(
      client.on_broadcast(bytes, at(64 * kS), at(64 * kS)).failed.has(OnWireTest::kWrongMode));
  // TEST6: unsynchronized broadcaster; TEST3: zero transmit; malformed.
  p.mode = static_cast<std::uint8_t>(Mode::kBroadcast);
  p.leap = 3;
  build_packet(p, bytes);
  EXPECT_TRUE(client.on_broadcast(bytes, at(64 * kS), at(64 * kS))
                  .failed.has(OnWireTest::kBadSyncOrStratum));
  p.leap = 0;
  p.transmit_time = {};
  build_packet(p, bytes);
  EXPECT_TRUE(
      client.on_broadcast(bytes, at(64 * kS), at(64 * kS)).failed.has(OnWireTest::kUnsynchronized));
  bytes.resize(20);
  EXPECT_TRUE(
      client.on_broadcast(bytes, at(64 * kS), at(64 * kS)).failed.has(OnWireTest::kMalformed));
  // A fresh, good one still works.
  EXPECT_EQ(client.on_broadcast(broadcast_at(at(64 * kS)), at(64 * kS), at(64 * kS)).action,
            ReplyAction::kAccepted);
}

TEST(BroadcastClient, ReachFallsWhenTheBroadcasterGoesSilent) {
  BroadcastClient client(novolley(), at(0), 0);
  for (int i = 0; i < 3; ++i) {
    const UnixNs t = at(i * 64 * kS);
    ASSERT_EQ(client.on_broadcast(broadcast_at(t), t, t).action, ReplyAction::kAccepted);
  }
  EXPECT_EQ(client.summary(at(128 * kS + kS)).reach, 0b111);
  // Half an interval of slack, then each interval without a packet is a miss.
  EXPECT_EQ(client.summary(at(128 * kS + 64 * kS + 20 * kS)).reach, 0b111);
  EXPECT_EQ(client.summary(at(128 * kS + 2 * 64 * kS + 40 * kS)).reach, 0b11100);
  EXPECT_EQ(client.summary(at(128 * kS + 9 * 64 * kS)).reach, 0);
  // A packet after a gap of one interval: one miss, then a hit.
  BroadcastClient other(novolley(), at(0), 0);
  ASSERT_EQ(other.on_broadcast(broadcast_at(at(0)), at(0), at(0)).action, ReplyAction::kAccepted);
  ASSERT_EQ(other.on_broadcast(broadcast_at(at(128 * kS)), at(128 * kS), at(128 * kS)).action,
            ReplyAction::kAccepted);
  EXPECT_EQ(other.summary(at(128 * kS)).reach, 0b101);
}

// The server side of a volley: answers `request` with the server's clock
// ahead by `offset_ns`, after `one_way_ns` each way.
std::vector<std::uint8_t> answer(std::span<const std::uint8_t> request, UnixNs client_sent,
                                 std::int64_t offset_ns, std::int64_t one_way_ns) {
  const auto req = parse_packet(request, nullptr);
  EXPECT_TRUE(req);
  NtpPacket p;
  p.mode = static_cast<std::uint8_t>(Mode::kServer);
  p.stratum = 3;
  p.leap = 0;
  p.precision_log2s = -20;
  p.origin_time = req->transmit_time;
  p.receive_time = common::to_ntp(UnixNs{client_sent.ns + one_way_ns + offset_ns});
  p.transmit_time = common::to_ntp(UnixNs{client_sent.ns + one_way_ns + offset_ns});
  p.reference_time = common::to_ntp(at(-10 * kS));
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  build_packet(p, bytes);
  return bytes;
}

TEST(BroadcastClient, VolleyCalibratesTheDelayThenListens) {
  BroadcastClientConfig config = novolley(4 * kMs);
  config.volley = true;
  BroadcastClient client(config, at(0), 0);
  ASSERT_TRUE(client.calibrating());
  // Broadcasts wait for the volley.
  EXPECT_EQ(client.on_broadcast(broadcast_at(at(0)), at(0), at(0)).action, ReplyAction::kDropped);
  const std::int64_t one_way[] = {3 * kMs, 1 * kMs, 2 * kMs};
  std::uint64_t cookie = 1000;
  UnixNs now = at(0);
  for (std::int64_t d : one_way) {
    ASSERT_TRUE(client.poll_due(now).due);
    const TransmitPlan plan = client.make_request(now, cookie++);
    ASSERT_TRUE(plan.send);
    const auto reply = answer({plan.bytes.data(), plan.length}, now, 100 * kMs, d);
    const UnixNs back{now.ns + 2 * d};
    const auto r = client.on_reply(reply, back, back);
    EXPECT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
    now = client.calibrating() ? client.poll_due(back).next : back;
  }
  EXPECT_FALSE(client.calibrating());
  EXPECT_EQ(client.one_way_delay_ns(), 1 * kMs);  // half the smallest round trip
  EXPECT_FALSE(client.poll_due(at(1000 * kS)).due);
  // Volley samples already count; broadcasts now use the calibrated delay.
  EXPECT_EQ(client.summary(now).reach & 1, 1);
  const UnixNs t{now.ns + 64 * kS};
  const auto r = client.on_broadcast(broadcast_at(UnixNs{t.ns + 100 * kMs - 1 * kMs}), t, t);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_EQ(r.sample.offset_ns, 100 * kMs);
  // A late volley reply is not accepted any more.
  EXPECT_NE(client.on_reply(broadcast_at(t), t, t).action, ReplyAction::kAccepted);
}

TEST(BroadcastClient, SilentVolleyFallsBackToTheConfiguredDelay) {
  BroadcastClientConfig config = novolley(7 * kMs);
  config.volley = true;
  BroadcastClient client(config, at(0), 0);
  UnixNs now = at(0);
  int sent = 0;
  for (int i = 0; i < 20 && client.calibrating(); ++i) {
    ASSERT_TRUE(client.poll_due(now).due);
    if (client.make_request(now, 5 + static_cast<std::uint64_t>(i)).send) ++sent;
    now = client.poll_due(now).next;
  }
  EXPECT_FALSE(client.calibrating());
  EXPECT_EQ(sent, kVolleyPackets);
  EXPECT_EQ(client.one_way_delay_ns(), 7 * kMs);
}

TEST(BroadcastClient, StepResetForgetsSamples) {
  BroadcastClient client(novolley(), at(0), 0);
  ASSERT_EQ(client.on_broadcast(broadcast_at(at(0)), at(0), at(0)).action, ReplyAction::kAccepted);
  client.reset(at(1 * kS), 0);
  const PeerSummary s = client.summary(at(2 * kS));
  EXPECT_EQ(s.reach, 0);
  EXPECT_EQ(s.stratum, 16);
  // The old transmit time is forgotten too: the next packet is accepted.
  EXPECT_EQ(client.on_broadcast(broadcast_at(at(0)), at(3 * kS), at(3 * kS)).action,
            ReplyAction::kAccepted);
}

}  // namespace
}  // namespace ntpd::net

namespace ntpd::net {
namespace {

TEST(BroadcastClient, StepKeepsTheCalibratedDelay) {
  BroadcastClientConfig config;
  config.volley = true;
  config.delay_ns = 4 * kMs;
  BroadcastClient client(config, at(0), 0);
  UnixNs now = at(0);
  for (int i = 0; i < kVolleyReplies; ++i) {
    const TransmitPlan plan = client.make_request(now, 100 + static_cast<std::uint64_t>(i));
    ASSERT_TRUE(plan.send);
    const UnixNs back{now.ns + 6 * kMs};
    client.on_reply(answer({plan.bytes.data(), plan.length}, now, 0, 3 * kMs), back, back);
    now = UnixNs{back.ns + 2 * kS};
  }
  ASSERT_FALSE(client.calibrating());
  EXPECT_EQ(client.one_way_delay_ns(), 3 * kMs);
  client.reset(now, 0);
  EXPECT_FALSE(client.calibrating());
  EXPECT_FALSE(client.poll_due(now).due);
  EXPECT_EQ(client.one_way_delay_ns(), 3 * kMs);
}

}  // namespace
}  // namespace ntpd::net
