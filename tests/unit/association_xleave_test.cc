// Unit tests for interleaved client mode in ntpd-net/association (RFC 9769
// section 2, chrony's xleave): the requests it sends, an interleaved reply
// accepted with the previous exchange's T1, T2, T4 and the reply's T3, the
// fallback to basic replies, and bogus or implausible replies rejected.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>
#include <vector>

#include "ntpd-net/association.h"
#include "tests/unit/association_test_helpers.h"

namespace ntpd::net {

void PrintTo(const TestMask& mask, std::ostream* os);

namespace {

using common::NtpTimestamp;
using common::UnixNs;

using namespace testutil;  // at(), encode(), decode(), kT0, kUs, kMs, kS

constexpr std::int64_t kServerAheadNs = 3 * kMs;  // the server's clock leads ours

// A stratum-1 reply; t2 and t3 are in our local time (the server adds its
// offset). Origin as given.
NtpPacket reply(NtpTimestamp origin, UnixNs t2, UnixNs t3) {
  NtpPacket r;
  r.leap = 0;
  r.mode = static_cast<std::uint8_t>(Mode::kServer);
  r.stratum = 1;
  r.precision_log2s = -20;
  r.refid = refid_from_ascii("GPS");
  r.origin_time = origin;
  r.receive_time = common::to_ntp(UnixNs{t2.ns + kServerAheadNs});
  r.transmit_time = common::to_ntp(UnixNs{t3.ns + kServerAheadNs});
  return r;
}

class AssociationXleaveTest : public ::testing::Test {
 protected:
  AssociationXleaveTest() : a_(config(), at(0), 0) {
    SystemVars sys;
    sys.synchronized = true;
    a_.set_system(sys);
  }
  static AssociationConfig config() {
    AssociationConfig c;
    c.minpoll_log2s = 4;
    c.maxpoll_log2s = 4;
    c.xleave = true;
    return c;
  }
  // One request at `t1` (user-space), its kernel TX `kernel_delay` later.
  NtpPacket send(std::int64_t t1, std::uint64_t cookie, std::int64_t kernel_delay = 0) {
    const NtpPacket req = decode(a_.make_request(at(t1), cookie));
    if (kernel_delay > 0) a_.note_transmit_time(at(t1 + kernel_delay));
    return req;
  }
  ReceiveResult receive(const NtpPacket& r, std::int64_t t4) {
    return a_.on_reply(encode(r), at(t4), at(t4));
  }
  // The first, basic exchange: T1 = 0 (+2 us kernel), T2 = 100 us,
  // T3 = 130 us (the server's user-space stamp), T4 = 250 us.
  NtpPacket first_exchange() {
    const NtpPacket req = send(0, 0x1111, 2 * kUs);
    EXPECT_TRUE(req.origin_time.is_zero());
    EXPECT_TRUE(req.receive_time.is_zero());
    const ReceiveResult r =
        receive(reply(req.transmit_time, at(100 * kUs), at(130 * kUs)), 250 * kUs);
    EXPECT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
    EXPECT_FALSE(r.interleaved);
    return req;
  }

  Association a_;
};

TEST_F(AssociationXleaveTest, SecondRequestAsksForInterleavedMode) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  // origin = the server's receive timestamp of the first exchange; receive
  // = a cookie of ours, distinct from the transmit cookie.
  EXPECT_EQ(req.origin_time, common::to_ntp(at(100 * kUs + kServerAheadNs)));
  EXPECT_FALSE(req.receive_time.is_zero());
  EXPECT_NE(req.receive_time, req.transmit_time);
  EXPECT_EQ(req.transmit_time, NtpTimestamp{0x2222});
}

TEST_F(AssociationXleaveTest, InterleavedReplyCompletesThePreviousExchange) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  // The server answers interleaved: origin = our receive cookie, receive =
  // this request's arrival, transmit = when its first reply really left
  // (140 us, 10 us after the stamp it wrote into it).
  const ReceiveResult r =
      receive(reply(req.receive_time, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 300 * kUs);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  // The first exchange already gave its basic sample: not filtered twice.
  EXPECT_TRUE(r.repeated_exchange);
  EXPECT_EQ(r.filter, FilterUpdate::kNoValidSample);
  // T1 = 2 us (kernel), T2 = 100 us, T3 = 140 us, T4 = 250 us (+ the
  // server's offset on T2 and T3): offset ((98) + (-110)) / 2 = -6 us
  // plus 3 ms; delay (250 - 2) - (140 - 100) = 208 us. NTP timestamps keep
  // about 0.23 ns, so allow 2 ns.
  EXPECT_LE(std::llabs(r.sample.offset_ns - (kServerAheadNs - 6 * kUs)), 2) << r.sample.offset_ns;
  EXPECT_LE(std::llabs(r.sample.delay_ns - (208 * kUs)), 2) << r.sample.delay_ns;
}

TEST_F(AssociationXleaveTest, SteadyStateFiltersEachExchangeOnce) {
  first_exchange();
  NtpPacket req = send(16 * kS, 0x2222, 2 * kUs);
  ASSERT_EQ(
      receive(reply(req.receive_time, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 250 * kUs)
          .action,
      ReplyAction::kAccepted);
  // The third reply completes the second exchange, which nothing sampled
  // yet: it goes to the filter, with that exchange's timestamps.
  req = send(32 * kS, 0x3333, 2 * kUs);
  const ReceiveResult r =
      receive(reply(req.receive_time, at(32 * kS + 100 * kUs), at(16 * kS + 135 * kUs)),
              32 * kS + 250 * kUs);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  EXPECT_FALSE(r.repeated_exchange);
  EXPECT_NE(r.filter, FilterUpdate::kNoValidSample);
  // T1 = 16 s + 2 us, T2 = +100 us, T3 = +135 us, T4 = +250 us.
  EXPECT_LE(std::llabs(r.sample.offset_ns - (kServerAheadNs - 8500)), 2) << r.sample.offset_ns;
  EXPECT_LE(std::llabs(r.sample.delay_ns - 213 * kUs), 2) << r.sample.delay_ns;
}

TEST_F(AssociationXleaveTest, KernelTimestampAfterTheReplyStillRefinesTheOpenExchange) {
  // First exchange as usual, but the kernel's T1 (5 us late) is read only
  // after the reply was processed.
  const NtpPacket first = send(0, 0x1111);
  ASSERT_EQ(receive(reply(first.transmit_time, at(100 * kUs), at(130 * kUs)), 250 * kUs).action,
            ReplyAction::kAccepted);
  a_.note_transmit_time(at(5 * kUs));
  a_.note_transmit_time(at(5 * kS));  // implausible: ignored
  const NtpPacket req = send(16 * kS, 0x2222);
  const ReceiveResult r =
      receive(reply(req.receive_time, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 300 * kUs);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  // T1 = 5 us: offset ((95) + (-110)) / 2 = -7.5 us; delay 245 - 40 = 205 us.
  EXPECT_LE(std::llabs(r.sample.offset_ns - (kServerAheadNs - 7500)), 2) << r.sample.offset_ns;
  EXPECT_LE(std::llabs(r.sample.delay_ns - 205 * kUs), 2) << r.sample.delay_ns;
}

TEST_F(AssociationXleaveTest, ReferenceTimeAfterTheEarlierTransmitIsFine) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  // The server's clock was updated between its two replies: the reference
  // time is after the (earlier) transmit time but before this receive.
  NtpPacket r = reply(req.receive_time, at(16 * kS + 100 * kUs), at(140 * kUs));
  r.reference_time = common::to_ntp(at(8 * kS));
  ReceiveResult result = receive(r, 16 * kS + 300 * kUs);
  EXPECT_EQ(result.action, ReplyAction::kAccepted) << to_string(result.failed);
  // A reference time after the receive time is still TEST6.
  const NtpPacket req2 = send(32 * kS, 0x3333);
  r = reply(req2.receive_time, at(32 * kS + 100 * kUs), at(16 * kS + 140 * kUs));
  r.reference_time = common::to_ntp(at(33 * kS));
  result = receive(r, 32 * kS + 300 * kUs);
  EXPECT_EQ(result.action, ReplyAction::kDropped);
  EXPECT_TRUE(result.failed.has(OnWireTest::kBadSyncOrStratum)) << to_string(result.failed);
}

TEST_F(AssociationXleaveTest, BasicReplyToAnInterleavedRequestIsUsedAsBasic) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  // A server without interleaved support (or that forgot us) echoes our
  // transmit cookie: an ordinary sample of this exchange.
  const ReceiveResult r =
      receive(reply(req.transmit_time, at(16 * kS + 100 * kUs), at(16 * kS + 120 * kUs)),
              16 * kS + 200 * kUs);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_FALSE(r.interleaved);
  EXPECT_LE(std::llabs(r.sample.offset_ns - (kServerAheadNs + 10 * kUs)), 2)
      << r.sample.offset_ns;  // ((100) + (-80)) / 2
  EXPECT_LE(std::llabs(r.sample.delay_ns - (180 * kUs)), 2) << r.sample.delay_ns;
  // ...and the next request asks for interleaved mode again, naming it.
  const NtpPacket next = send(32 * kS, 0x3333);
  EXPECT_EQ(next.origin_time, common::to_ntp(at(16 * kS + 100 * kUs + kServerAheadNs)));
}

TEST_F(AssociationXleaveTest, BogusOriginIsRejected) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  NtpTimestamp wrong{req.receive_time.raw + 1};
  const ReceiveResult r =
      receive(reply(wrong, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 300 * kUs);
  EXPECT_EQ(r.action, ReplyAction::kDropped);
  EXPECT_TRUE(r.failed.has(OnWireTest::kBogus)) << to_string(r.failed);
  // The origin we sent (the server's old receive time) is not a reply either.
  const ReceiveResult echo =
      receive(reply(req.origin_time, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 300 * kUs);
  EXPECT_EQ(echo.action, ReplyAction::kDropped);
  EXPECT_TRUE(echo.failed.has(OnWireTest::kBogus)) << to_string(echo.failed);
}

TEST_F(AssociationXleaveTest, InterleavedTransmitOutsideTheServerWindowIsRejected) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  // T3 before the T2 it would complete: not that reply's transmit time.
  const ReceiveResult r =
      receive(reply(req.receive_time, at(16 * kS + 100 * kUs), at(50 * kUs)), 16 * kS + 300 * kUs);
  EXPECT_EQ(r.action, ReplyAction::kDropped);
  EXPECT_TRUE(r.failed.has(OnWireTest::kBogus)) << to_string(r.failed);
}

TEST_F(AssociationXleaveTest, SecondReplyToTheSameRequestIsRejected) {
  first_exchange();
  const NtpPacket req = send(16 * kS, 0x2222);
  ASSERT_EQ(
      receive(reply(req.receive_time, at(16 * kS + 100 * kUs), at(140 * kUs)), 16 * kS + 300 * kUs)
          .action,
      ReplyAction::kAccepted);
  // A basic reply to the same request after the interleaved one: TEST2.
  const ReceiveResult again =
      receive(reply(req.transmit_time, at(16 * kS + 100 * kUs), at(16 * kS + 120 * kUs)),
              16 * kS + 400 * kUs);
  EXPECT_EQ(again.action, ReplyAction::kDropped);
  EXPECT_TRUE(again.failed.has(OnWireTest::kBogus)) << to_string(again.failed);
}

TEST_F(AssociationXleaveTest, UnansweredRequestsFallBackToBasic) {
  first_exchange();
  for (int i = 0; i < kMaxUnansweredInterleaved; ++i) {
    EXPECT_FALSE(send((16 + 16 * i) * kS, 0x100 + i).origin_time.is_zero()) << i;
  }
  const NtpPacket basic = send(100 * kS, 0x999);
  EXPECT_TRUE(basic.origin_time.is_zero());
  EXPECT_TRUE(basic.receive_time.is_zero());
}

TEST_F(AssociationXleaveTest, StepResetForgetsTheOpenExchange) {
  first_exchange();
  a_.reset(at(kS), 0);
  const NtpPacket req = send(2 * kS, 0x2222);
  EXPECT_TRUE(req.origin_time.is_zero());
  EXPECT_TRUE(req.receive_time.is_zero());
}

TEST(AssociationNoXleaveTest, WithoutXleaveRequestsStayMinimal) {
  AssociationConfig c;
  Association a(c, at(0), 0);
  SystemVars sys;
  sys.synchronized = true;
  a.set_system(sys);
  const NtpPacket req = decode(a.make_request(at(0), 0x1111));
  ASSERT_EQ(a.on_reply(encode(reply(req.transmit_time, at(100 * kUs), at(130 * kUs))),
                       at(250 * kUs), at(250 * kUs))
                .action,
            ReplyAction::kAccepted);
  const NtpPacket next = decode(a.make_request(at(64 * kS), 0x2222));
  EXPECT_TRUE(next.origin_time.is_zero());
  EXPECT_TRUE(next.receive_time.is_zero());
}

}  // namespace
}  // namespace ntpd::net
