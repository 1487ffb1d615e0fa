// Unit tests for ntpd-net/interleave_server: the RFC 9769 section 2 reply
// decision (interleaved only for a remembered origin from the same client
// with distinct, non-zero receive and transmit fields) and the rewritten
// reply's fields, driven through respond() as the server path does.
#include "ntpd-net/interleave_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "ntpd-net/server.h"

namespace ntpd::net {
namespace {

using common::NtpTimestamp;
using common::UnixNs;

constexpr std::int64_t kS = common::kNsPerSecond;
constexpr std::int64_t kUs = 1'000;
constexpr std::int64_t kT0 = 1'700'000'000 * kS;

sockaddr_storage address(const char* text, std::uint16_t port) {
  sockaddr_storage s{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(s);
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  inet_pton(AF_INET, text, &v4.sin_addr);
  return s;
}

std::vector<std::uint8_t> request(NtpTimestamp origin, NtpTimestamp receive, NtpTimestamp transmit,
                                  Mode mode = Mode::kClient) {
  NtpPacket p;
  p.mode = static_cast<std::uint8_t>(mode);
  p.origin_time = origin;
  p.receive_time = receive;
  p.transmit_time = transmit;
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  build_packet(p, bytes);
  return bytes;
}

SystemVars synced() {
  SystemVars s;
  s.synchronized = true;
  s.leap = 0;
  s.stratum = 2;
  s.refid = 0x7f000001;
  return s;
}

// The server path in miniature: respond, prepare, stamp unless
// interleaved, sent. Returns the parsed reply and whether it interleaved.
struct Served {
  NtpPacket reply;
  bool interleaved = false;
};
Served serve(InterleaveServer& server, const std::vector<std::uint8_t>& req,
             const sockaddr_storage& from, UnixNs received, UnixNs sent) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  const ServerDecision d = respond(req, received, received, synced(), out);
  EXPECT_EQ(d.action, ServerDecision::Action::kReply);
  Served s;
  const InterleavePending pending = server.prepare(req, interleave_client_key(from), out, d.length);
  s.interleaved = pending.interleaved;
  if (!s.interleaved) stamp_transmit(out, sent);
  server.sent(pending, sent);
  s.reply = parse_packet(out, nullptr).value_or(NtpPacket{});
  return s;
}

class InterleaveServerTest : public ::testing::Test {
 protected:
  InterleaveServer server_{64, 11};
  sockaddr_storage client_ = address("192.0.2.1", 40000);
  UnixNs t2_{kT0};
  UnixNs t3_{kT0 + 50 * kUs};
};

TEST_F(InterleaveServerTest, FirstRequestIsBasicAndRemembered) {
  const Served s = serve(server_, request({}, {}, NtpTimestamp{111}), client_, t2_, t3_);
  EXPECT_FALSE(s.interleaved);
  EXPECT_EQ(s.reply.origin_time, NtpTimestamp{111});
  EXPECT_EQ(s.reply.receive_time, common::to_ntp(t2_));
  EXPECT_EQ(s.reply.transmit_time, common::to_ntp(t3_));
  EXPECT_EQ(server_.store().transmit_time(common::to_ntp(t2_), interleave_client_key(client_)),
            t3_);
}

TEST_F(InterleaveServerTest, InterleavedRequestGetsThePreviousKernelTransmitTime) {
  const Served first = serve(server_, request({}, {}, NtpTimestamp{111}), client_, t2_, t3_);
  // The kernel says the first reply left 7 us after the user-space stamp.
  std::array<std::uint8_t, kHeaderBytes> looped{};
  build_packet(first.reply, looped);
  const UnixNs kernel_t3{t3_.ns + 7 * kUs};
  EXPECT_TRUE(server_.kernel_transmit(looped, kernel_t3));

  // A new port (chrony opens one per request): the client is its address.
  const UnixNs t2b{kT0 + kS}, t3b{kT0 + kS + 40 * kUs};
  const Served second =
      serve(server_, request(first.reply.receive_time, NtpTimestamp{222}, NtpTimestamp{333}),
            address("192.0.2.1", 40001), t2b, t3b);
  ASSERT_TRUE(second.interleaved);
  EXPECT_EQ(second.reply.origin_time, NtpTimestamp{222});  // the request's receive field
  EXPECT_EQ(second.reply.receive_time, common::to_ntp(t2b));
  EXPECT_EQ(second.reply.transmit_time, common::to_ntp(kernel_t3));
  EXPECT_EQ(server_.interleaved_replies(), 1u);
  // ...and the second reply is remembered for the third request.
  EXPECT_EQ(server_.store().transmit_time(common::to_ntp(t2b), interleave_client_key(client_)),
            t3b);
}

TEST_F(InterleaveServerTest, BasicUnlessEveryConditionHolds) {
  const Served first = serve(server_, request({}, {}, NtpTimestamp{111}), client_, t2_, t3_);
  const NtpTimestamp key = first.reply.receive_time;
  struct Case {
    const char* name;
    std::vector<std::uint8_t> req;
    sockaddr_storage from;
  };
  const Case cases[] = {
      {"unknown origin", request(NtpTimestamp{key.raw + 1}, NtpTimestamp{2}, NtpTimestamp{3}),
       client_},
      {"another client", request(key, NtpTimestamp{2}, NtpTimestamp{3}),
       address("192.0.2.2", 40000)},
      {"receive equals transmit", request(key, NtpTimestamp{3}, NtpTimestamp{3}), client_},
      {"zero receive", request(key, NtpTimestamp{}, NtpTimestamp{3}), client_},
      {"symmetric active", request(key, NtpTimestamp{2}, NtpTimestamp{3}, Mode::kSymmetricActive),
       client_},
  };
  for (const Case& c : cases) {
    InterleaveServer copy = server_;
    const Served s = serve(copy, c.req, c.from, UnixNs{kT0 + kS}, UnixNs{kT0 + kS + kUs});
    EXPECT_FALSE(s.interleaved) << c.name;
    EXPECT_EQ(s.reply.origin_time, common::NtpTimestamp{load_be64(c.req, 40)}) << c.name;
  }
}

TEST_F(InterleaveServerTest, KernelTimestampOfSomethingElseIsIgnored) {
  const Served first = serve(server_, request({}, {}, NtpTimestamp{111}), client_, t2_, t3_);
  std::array<std::uint8_t, kHeaderBytes> looped{};
  NtpPacket other = first.reply;
  other.mode = static_cast<std::uint8_t>(Mode::kSymmetricActive);  // a peer packet we sent
  build_packet(other, looped);
  EXPECT_FALSE(server_.kernel_transmit(looped, UnixNs{t3_.ns + kUs}));
  build_packet(first.reply, looped);
  EXPECT_FALSE(server_.kernel_transmit(std::span(looped).first(40), UnixNs{t3_.ns + kUs}));
  EXPECT_FALSE(server_.kernel_transmit(looped, UnixNs{t3_.ns + 2 * kS}));  // implausibly late
  EXPECT_EQ(server_.store().transmit_time(first.reply.receive_time, interleave_client_key(client_)),
            t3_);
}

TEST_F(InterleaveServerTest, OnlySentRepliesAreRemembered) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  const auto req = request({}, {}, NtpTimestamp{111});
  const ServerDecision d = respond(req, t2_, t2_, synced(), out);
  const InterleavePending dropped =
      server_.prepare(req, interleave_client_key(client_), out, d.length);
  EXPECT_TRUE(dropped.remember);
  EXPECT_EQ(server_.store().size(), 0u);   // prepared but never sent: nothing saved
  server_.sent(InterleavePending{}, t3_);  // a non-mode-4 reply: nothing to save
  EXPECT_EQ(server_.store().size(), 0u);
  server_.sent(dropped, t3_);
  EXPECT_EQ(server_.store().size(), 1u);
}

}  // namespace
}  // namespace ntpd::net
