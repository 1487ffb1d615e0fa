// Unit tests for interleaved symmetric mode in ntpd-net/association (RFC
// 9769 section 3, chrony's xleave on a peer line): two of our associations
// exchange packets with exact timestamps (B's clock 3 ms ahead of A's,
// 100 us each way, kernel transmit stamps a few us after user space), the
// interleaved samples come out exact, a basic peer makes us fall back, and
// an interleaved-looking packet with a foreign origin is rejected.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "ntpd-net/association.h"

namespace ntpd::net {
namespace {

using common::NtpTimestamp;
using common::UnixNs;

constexpr std::int64_t kUs = 1'000;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = common::kNsPerSecond;
constexpr std::int64_t kT0 = 1'700'000'000 * kS;
constexpr std::int64_t kBAheadNs = 3 * kMs;    // B's clock leads A's
constexpr std::int64_t kOneWayNs = 100 * kUs;  // either direction
constexpr std::int64_t kAKernelNs = 2 * kUs;   // user-space stamp -> kernel TX
constexpr std::int64_t kBKernelNs = 5 * kUs;

struct Sent {
  std::vector<std::uint8_t> bytes;
  NtpPacket packet;
  std::int64_t true_kernel_tx = 0;  // on A's (true) time scale
};

AssociationConfig config(bool xleave, std::uint32_t id) {
  AssociationConfig c;
  c.id = id;
  c.mode = AssociationMode::kSymmetricActive;
  c.minpoll_log2s = 4;
  c.maxpoll_log2s = 4;
  c.xleave = xleave;
  return c;
}

class Side {
 public:
  Side(bool xleave, std::int64_t clock_ns, std::int64_t kernel_ns, std::uint32_t id)
      : a(config(xleave, id), UnixNs{kT0 + clock_ns}, 0),
        clock_ns_(clock_ns),
        kernel_ns_(kernel_ns) {
    SystemVars sys;
    sys.synchronized = true;
    sys.leap = 0;
    sys.stratum = 2;
    sys.refid = refid_from_ascii("GPS");
    sys.precision_log2s = -20;
    a.set_system(sys);
    sys_ = sys;
  }
  // The last clock update (reference time) at true time t.
  void updated_at(std::int64_t t) {
    sys_.reference_time = local(t);
    a.set_system(sys_);
  }
  UnixNs local(std::int64_t true_ns) const { return UnixNs{kT0 + true_ns + clock_ns_}; }
  // Builds a packet at true time t; its kernel transmit stamp comes back.
  Sent send(std::int64_t t) {
    const TransmitPlan plan = a.make_request(local(t), 0);
    EXPECT_TRUE(plan.send);
    a.note_transmit_time(local(t + kernel_ns_));
    Sent s;
    s.bytes.assign(plan.bytes.begin(), plan.bytes.begin() + static_cast<long>(plan.length));
    s.packet = parse_packet(s.bytes, nullptr).value_or(NtpPacket{});
    s.true_kernel_tx = t + kernel_ns_;
    return s;
  }
  ReceiveResult receive(const Sent& s) {
    const UnixNs t4 = local(s.true_kernel_tx + kOneWayNs);
    return a.on_reply(s.bytes, t4, t4);
  }
  ReceiveResult receive(const NtpPacket& p, std::int64_t true_t4) {
    std::vector<std::uint8_t> bytes(kHeaderBytes);
    build_packet(p, bytes);
    return a.on_reply(bytes, local(true_t4), local(true_t4));
  }

  Association a;

 private:
  SystemVars sys_;
  std::int64_t clock_ns_;
  std::int64_t kernel_ns_;
};

bool near(std::int64_t got, std::int64_t want) { return std::llabs(got - want) <= 2; }

TEST(AssociationXleaveSymmetricTest, TwoPeersSampleInterleavedExactly) {
  Side a(true, 0, kAKernelNs, 1);
  Side b(true, kBAheadNs, kBKernelNs, 2);
  // a1: nothing heard yet, basic with zero origin (TEST3 at B, recorded).
  const Sent a1 = a.send(0);
  EXPECT_TRUE(a1.packet.origin_time.is_zero());
  EXPECT_EQ(b.receive(a1).action, ReplyAction::kDropped);
  // b1: B has no previous packet: basic; A samples it with B's user-space
  // T3, 5 us early, so the offset is 2.5 us short of 3 ms.
  const Sent b1 = b.send(1 * kS);
  EXPECT_EQ(b1.packet.origin_time, a1.packet.transmit_time);
  EXPECT_EQ(b1.packet.transmit_time, common::to_ntp(b.local(1 * kS)));
  ReceiveResult r = a.receive(b1);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_FALSE(r.interleaved);
  EXPECT_TRUE(near(r.sample.offset_ns, kBAheadNs - kBKernelNs / 2)) << r.sample.offset_ns;

  // a2: interleaved: origin = B's receive field, receive = A's arrival of
  // b1, transmit = a1's kernel transmit time.
  const Sent a2 = a.send(2 * kS);
  EXPECT_EQ(a2.packet.origin_time, b1.packet.receive_time);
  EXPECT_EQ(a2.packet.receive_time, common::to_ntp(a.local(b1.true_kernel_tx + kOneWayNs)));
  EXPECT_EQ(a2.packet.transmit_time, common::to_ntp(a.local(a1.true_kernel_tx)));
  // B recognises it but has no exchange for it to complete (a1 answered
  // nothing of B's): no sample.
  r = b.receive(a2);
  EXPECT_TRUE(r.interleaved);
  EXPECT_EQ(r.action, ReplyAction::kDropped);

  // b2: interleaved too; A completes the a1 -> b1 exchange with b1's
  // kernel T3: exactly 3 ms and 200 us, already sampled (basic). B's clock
  // was updated after both its receive and transmit fields: no TEST6.
  b.updated_at(2 * kS + 500 * kMs);
  const Sent b2 = b.send(3 * kS);
  EXPECT_EQ(b2.packet.origin_time, a2.packet.receive_time);
  EXPECT_EQ(b2.packet.transmit_time, common::to_ntp(b.local(b1.true_kernel_tx)));
  r = a.receive(b2);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  EXPECT_TRUE(r.repeated_exchange);
  EXPECT_TRUE(near(r.sample.offset_ns, kBAheadNs)) << r.sample.offset_ns;
  EXPECT_TRUE(near(r.sample.delay_ns, 2 * kOneWayNs)) << r.sample.delay_ns;

  // a3 completes b1 -> a2 at B (T1 = b1 kernel, T2 = A's receive of b1,
  // T3 = a2's kernel, T4 = B's receive of a2): -3 ms, a new sample.
  const Sent a3 = a.send(4 * kS);
  EXPECT_EQ(a3.packet.transmit_time, common::to_ntp(a.local(a2.true_kernel_tx)));
  r = b.receive(a3);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  EXPECT_FALSE(r.repeated_exchange);
  EXPECT_NE(r.filter, FilterUpdate::kNoValidSample);
  EXPECT_TRUE(near(r.sample.offset_ns, -kBAheadNs)) << r.sample.offset_ns;
  EXPECT_TRUE(near(r.sample.delay_ns, 2 * kOneWayNs)) << r.sample.delay_ns;

  // b3 completes a2 -> b2 at A, which no basic packet sampled.
  const Sent b3 = b.send(5 * kS);
  r = a.receive(b3);
  ASSERT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  EXPECT_FALSE(r.repeated_exchange);
  EXPECT_TRUE(near(r.sample.offset_ns, kBAheadNs)) << r.sample.offset_ns;
  EXPECT_TRUE(near(r.sample.delay_ns, 2 * kOneWayNs)) << r.sample.delay_ns;
  EXPECT_NE(a.a.reach(), 0);
  EXPECT_NE(b.a.reach(), 0);
}

TEST(AssociationXleaveSymmetricTest, FallsBackToBasicWithABasicPeer) {
  Side a(true, 0, kAKernelNs, 1);
  Side b(false, kBAheadNs, kBKernelNs, 2);  // ours, without xleave
  b.receive(a.send(0));
  ASSERT_EQ(a.receive(b.send(1 * kS)).action, ReplyAction::kAccepted);
  // A tries interleaved a few times; B rejects each (TEST2) and answers an
  // older packet of A's, which A records but cannot sample.
  int interleaved_tries = 0;
  int b_samples = 0;
  int a_basic_samples = 0;
  for (int round = 1; round <= 8; ++round) {
    const Sent x = a.send((2 * round) * kS);
    if (x.packet.transmit_time != common::to_ntp(a.local(2 * round * kS))) ++interleaved_tries;
    const ReceiveResult rb = b.receive(x);
    if (rb.action == ReplyAction::kAccepted) {
      ++b_samples;
      // A basic packet's transmit field is A's user-space stamp, 2 us early.
      EXPECT_TRUE(near(rb.sample.offset_ns, -kBAheadNs - kAKernelNs / 2)) << rb.sample.offset_ns;
    }
    const ReceiveResult ra = a.receive(b.send((2 * round + 1) * kS));
    EXPECT_FALSE(ra.interleaved);
    if (ra.action == ReplyAction::kAccepted) ++a_basic_samples;
  }
  EXPECT_EQ(interleaved_tries, kMaxUnansweredSymmetricInterleaved);
  // After the tries both sides sample every round in basic mode again.
  EXPECT_EQ(b_samples, 8 - kMaxUnansweredSymmetricInterleaved);
  EXPECT_GE(a_basic_samples, 8 - kMaxUnansweredSymmetricInterleaved - 1);
}

TEST(AssociationXleaveSymmetricTest, ForeignOriginIsRejected) {
  Side a(true, 0, kAKernelNs, 1);
  Side b(true, kBAheadNs, kBKernelNs, 2);
  b.receive(a.send(0));
  ASSERT_EQ(a.receive(b.send(1 * kS)).action, ReplyAction::kAccepted);
  const Sent a2 = a.send(2 * kS);
  b.receive(a2);
  Sent b2 = b.send(3 * kS);
  // A forged copy whose origin is neither our transmit nor our receive
  // field: TEST2, nothing recorded (the genuine packet still works).
  NtpPacket forged = b2.packet;
  forged.origin_time = NtpTimestamp{forged.origin_time.raw ^ 0x10000};
  ReceiveResult r = a.receive(forged, b2.true_kernel_tx + kOneWayNs);
  EXPECT_EQ(r.action, ReplyAction::kDropped);
  EXPECT_TRUE(r.failed.has(OnWireTest::kBogus));
  EXPECT_FALSE(r.interleaved);
  r = a.receive(b2);
  EXPECT_EQ(r.action, ReplyAction::kAccepted) << to_string(r.failed);
  EXPECT_TRUE(r.interleaved);
  // An interleaved packet whose T3 is before its T2 (not the transmit time
  // of the packet that answered us) gives no sample.
  const Sent a3 = a.send(4 * kS);
  b.receive(a3);
  NtpPacket late = b.send(5 * kS).packet;
  late.transmit_time = common::to_ntp(b.local(1 * kS));
  r = a.receive(late, 5 * kS + kBKernelNs + kOneWayNs);
  EXPECT_EQ(r.action, ReplyAction::kDropped);
}

}  // namespace
}  // namespace ntpd::net
