// Unit tests for ntpd-net/server: which requests get an answer, what the
// answer carries (synchronized and not), the poll echo rule, the length
// bound (no amplification) and stamp_transmit. Timestamps are fixed values.
#include "ntpd-net/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace ntpd::net {
namespace {

using Bytes = std::vector<std::uint8_t>;
using common::UnixNs;

constexpr std::int64_t kSec = common::kNsPerSecond;
constexpr UnixNs kReceive{1'704'067'200 * kSec + 250'000'000};   // 2024-01-01 00:00:00.25
constexpr UnixNs kTransmit{1'704'067'200 * kSec + 250'100'000};  // 100 us later
constexpr UnixNs kReference{1'704'067'100 * kSec};
constexpr std::uint64_t kClientTransmit = 0xe93c7effdeadbeefu;

Bytes request(std::uint8_t version = 4, std::uint8_t mode = 3, std::int8_t poll = 6,
              std::uint64_t transmit = kClientTransmit) {
  NtpPacket p;
  p.version = version;
  p.mode = mode;
  p.poll_log2s = poll;
  p.precision_log2s = -6;
  p.stratum = 0;
  p.transmit_time = common::NtpTimestamp{transmit};
  Bytes b(kHeaderBytes);
  build_packet(p, b);
  return b;
}

SystemVars synced_sys() {
  SystemVars sys;
  sys.synchronized = true;
  sys.leap = 0;
  sys.stratum = 2;
  sys.precision_log2s = -24;
  sys.root_delay_ns = 1'500'000'000;     // 1.5 s -> 0x00018000
  sys.root_dispersion_ns = 250'000'000;  // 0.25 s -> 0x00004000
  sys.refid = 0xc0000201u;               // 192.0.2.1
  sys.reference_time = kReference;
  sys.poll_log2s = 10;
  return sys;
}

struct Reply {
  ServerDecision decision;
  Bytes bytes;
  NtpPacket packet;
};

Reply run(const Bytes& req, const SystemVars& sys, std::size_t out_size = 1500) {
  Reply r;
  r.bytes.assign(out_size, 0xcc);
  r.decision = respond(req, kReceive, kTransmit, sys, r.bytes);
  if (r.decision.action == ServerDecision::Action::kReply) {
    r.bytes.resize(r.decision.length);
    ParseError why;
    const auto parsed = parse_packet(r.bytes, &why);
    EXPECT_TRUE(parsed.has_value()) << to_string(why);
    if (parsed) r.packet = *parsed;
  }
  return r;
}

TEST(ServerTest, SynchronizedClientReplyCarriesEveryField) {
  const Bytes req = request();
  const Reply r = run(req, synced_sys());
  ASSERT_EQ(r.decision.action, ServerDecision::Action::kReply);
  EXPECT_EQ(r.decision.length, 48u);
  EXPECT_EQ(r.decision.reason, IgnoreReason::kNone);
  const NtpPacket& p = r.packet;
  EXPECT_EQ(p.leap, 0);
  EXPECT_EQ(p.version, 4);
  EXPECT_EQ(p.mode, 4);
  EXPECT_EQ(p.stratum, 2);
  EXPECT_EQ(p.poll_log2s, 6);  // the client's, not sys.poll_log2s
  EXPECT_EQ(p.precision_log2s, -24);
  EXPECT_EQ(p.root_delay.raw, 0x00018000u);
  EXPECT_EQ(p.root_dispersion.raw, 0x00004000u);
  EXPECT_EQ(p.refid, 0xc0000201u);
  EXPECT_EQ(p.reference_time, common::to_ntp(kReference));
  EXPECT_EQ(p.origin_time.raw, kClientTransmit);
  EXPECT_EQ(p.receive_time, common::NtpTimestamp::from_parts(3'913'056'000u, 0x40000000u));
  EXPECT_EQ(p.transmit_time, common::to_ntp(kTransmit));
  // Origin is the request's transmit field byte for byte.
  EXPECT_TRUE(std::equal(req.begin() + 40, req.end(), r.bytes.begin() + 24));
}

TEST(ServerTest, UnsynchronizedReplyLooksLikeNtpdAtStartup) {
  SystemVars sys = synced_sys();
  sys.synchronized = false;
  const Reply r = run(request(), sys);
  ASSERT_EQ(r.decision.action, ServerDecision::Action::kReply);
  EXPECT_EQ(r.bytes[0] >> 6, 3);  // LI alarm
  EXPECT_EQ(r.bytes[1], 0);       // stratum 16 is 0 on the wire
  EXPECT_EQ(r.packet.refid, kRefidInit);
  EXPECT_EQ(r.bytes[12], 'I');
  EXPECT_EQ(r.bytes[15], 'T');
  EXPECT_EQ(r.packet.origin_time.raw, kClientTransmit);
}

TEST(ServerTest, StratumOutsideOneToFifteenIsUnsynchronized) {
  for (const std::uint8_t stratum : std::initializer_list<std::uint8_t>{0, 16, 200}) {
    SystemVars sys = synced_sys();
    sys.stratum = stratum;
    const Reply r = run(request(), sys);
    ASSERT_EQ(r.decision.action, ServerDecision::Action::kReply);
    EXPECT_EQ(r.packet.leap, 3) << int{stratum};
    EXPECT_EQ(r.packet.stratum, 0) << int{stratum};
  }
}

TEST(ServerTest, LeapIndicatorComesFromSystem) {
  for (std::uint8_t leap = 0; leap < 4; ++leap) {
    SystemVars sys = synced_sys();
    sys.leap = leap;
    EXPECT_EQ(run(request(), sys).packet.leap, leap);
  }
}

struct ModeCase {
  std::uint8_t version;
  std::uint8_t mode;
  bool reply;
  std::uint8_t reply_mode;
};

TEST(ServerTest, WhichModesAreAnswered) {
  const ModeCase cases[] = {
      {4, 3, true, 4},  {3, 3, true, 4},  {2, 3, true, 4},
      {1, 3, true, 4},  {1, 0, true, 4},  // NTPv1 mode 0 is a client (ntpd receive())
      {2, 0, false, 0}, {3, 0, false, 0}, {4, 0, false, 0},
      {4, 1, true, 2},  // unknown symmetric active: stateless passive
      {3, 1, true, 2},  {4, 2, false, 0}, {4, 4, false, 0},
      {4, 5, false, 0}, {4, 6, false, 0}, {4, 7, false, 0},
      {2, 6, false, 0}, {2, 7, false, 0},
  };
  for (const auto& c : cases) {
    const Reply r = run(request(c.version, c.mode), synced_sys());
    const bool replied = r.decision.action == ServerDecision::Action::kReply;
    EXPECT_EQ(replied, c.reply) << "v" << int{c.version} << " mode " << int{c.mode};
    if (replied) {
      EXPECT_EQ(r.packet.mode, c.reply_mode);
      EXPECT_EQ(r.packet.version, c.version);  // version is echoed
    } else {
      EXPECT_EQ(r.decision.reason, IgnoreReason::kModeNotServed);
      EXPECT_EQ(r.decision.length, 0u);
    }
  }
}

TEST(ServerTest, PollFollowsNtpdFastXmit) {
  const std::pair<std::int8_t, std::int8_t> cases[] = {
      {0, 3}, {2, 3}, {3, 3}, {6, 6}, {17, 17}, {127, 127}, {-1, -1}, {-6, -6}, {-128, -128},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(run(request(4, 3, in), synced_sys()).packet.poll_log2s, out) << int{in};
  }
}

TEST(ServerTest, ZeroTransmitTimestampIsStillAnswered) {
  const Reply r = run(request(4, 3, 6, 0), synced_sys());
  ASSERT_EQ(r.decision.action, ServerDecision::Action::kReply);
  EXPECT_TRUE(r.packet.origin_time.is_zero());
}

TEST(ServerTest, NeverReplyLongerThanRequest) {
  std::vector<Bytes> requests;
  requests.push_back(request());
  Bytes with_mac = request();
  with_mac.resize(48 + 24, 0x11);
  requests.push_back(with_mac);
  Bytes with_nak = request();
  with_nak.resize(48 + 4, 0);
  requests.push_back(with_nak);
  Bytes with_ef = request();
  const std::uint8_t ef[] = {0x01, 0x04, 0x00, 0x1c};  // type 0x0104, 28 bytes
  with_ef.insert(with_ef.end(), std::begin(ef), std::end(ef));
  with_ef.resize(48 + 28, 0);
  requests.push_back(with_ef);
  for (const auto& req : requests) {
    const Reply r = run(req, synced_sys());
    ASSERT_EQ(r.decision.action, ServerDecision::Action::kReply) << req.size();
    EXPECT_EQ(r.decision.length, 48u);
    EXPECT_LE(r.decision.length, req.size());
  }
}

TEST(ServerTest, UnparseableRequestsAreIgnoredWithTheReason) {
  const std::pair<Bytes, ParseError> cases[] = {
      {Bytes(47, 0x23), ParseError::kTooShort},  {Bytes(50, 0x23), ParseError::kNotWordAligned},
      {request(5, 3), ParseError::kBadVersion},  {request(0, 3), ParseError::kBadVersion},
      {Bytes(2000, 0x23), ParseError::kTooLong},
  };
  for (const auto& [req, error] : cases) {
    const Reply r = run(req, synced_sys());
    EXPECT_EQ(r.decision.action, ServerDecision::Action::kIgnore);
    EXPECT_EQ(r.decision.reason, IgnoreReason::kUnparseable);
    EXPECT_EQ(r.decision.parse_error, error);
  }
}

TEST(ServerTest, SmallOutputBufferIsNotWritten) {
  Bytes out(47, 0xcc);
  const ServerDecision d = respond(request(), kReceive, kTransmit, synced_sys(), out);
  EXPECT_EQ(d.action, ServerDecision::Action::kIgnore);
  EXPECT_EQ(d.reason, IgnoreReason::kOutputTooSmall);
  EXPECT_EQ(out, Bytes(47, 0xcc));
}

TEST(ServerTest, RootValuesClampAndReferenceZeroMeansUnknown) {
  SystemVars sys = synced_sys();
  sys.root_delay_ns = -5;
  sys.root_dispersion_ns = INT64_MAX;
  sys.reference_time = UnixNs{0};
  const Reply r = run(request(), sys);
  EXPECT_EQ(r.packet.root_delay.raw, 0u);
  EXPECT_EQ(r.packet.root_dispersion.raw, 0xffffffffu);
  EXPECT_TRUE(r.packet.reference_time.is_zero());
}

TEST(ServerTest, StampTransmitOverwritesOnlyTheTransmitField) {
  Reply r = run(request(), synced_sys());
  const Bytes before = r.bytes;
  const UnixNs later{kTransmit.ns + 7'000};
  ASSERT_TRUE(stamp_transmit(r.bytes, later));
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 40, r.bytes.begin()));
  ParseError why;
  const auto p = parse_packet(r.bytes, &why);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->transmit_time, common::to_ntp(later));

  std::array<std::uint8_t, 47> small{};
  EXPECT_FALSE(stamp_transmit(small, later));
  EXPECT_EQ(small, (std::array<std::uint8_t, 47>{}));
}

TEST(ServerTest, IgnoreReasonsHaveNames) {
  for (const auto reason :
       {IgnoreReason::kNone, IgnoreReason::kUnparseable, IgnoreReason::kModeNotServed,
        IgnoreReason::kOutputTooSmall, IgnoreReason::kWouldAmplify}) {
    EXPECT_FALSE(to_string(reason).empty());
  }
}

}  // namespace
}  // namespace ntpd::net
