// Unit tests for ntpd-net/tx_timestamps: the looped-back frame parser on
// hand-built Ethernet/VLAN/IPv4/IPv6 frames and malformed ones, and on
// loopback a real send whose kernel transmit timestamp comes back with the
// payload, between the times taken around the send.
#include "ntpd-net/tx_timestamps.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <array>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::net {
namespace {

std::vector<std::uint8_t> ipv4_udp(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> f(20 + 8);
  f[0] = 0x45;
  const std::size_t total = 28 + payload.size();
  f[2] = static_cast<std::uint8_t>(total >> 8);
  f[3] = static_cast<std::uint8_t>(total);
  f[9] = 17;
  const std::size_t udp = 8 + payload.size();
  f[24] = static_cast<std::uint8_t>(udp >> 8);
  f[25] = static_cast<std::uint8_t>(udp);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

std::vector<std::uint8_t> ipv6_udp(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> f(40 + 8);
  f[0] = 0x60;
  const std::size_t udp = 8 + payload.size();
  f[4] = static_cast<std::uint8_t>(udp >> 8);
  f[5] = static_cast<std::uint8_t>(udp);
  f[6] = 17;
  f[44] = static_cast<std::uint8_t>(udp >> 8);
  f[45] = static_cast<std::uint8_t>(udp);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

std::vector<std::uint8_t> ethernet(std::uint16_t type, std::vector<std::uint8_t> inner,
                                   bool vlan = false) {
  std::vector<std::uint8_t> f(12, 0);
  if (vlan) {
    f.push_back(0x81);
    f.push_back(0x00);
    f.push_back(0x00);
    f.push_back(0x05);
  }
  f.push_back(static_cast<std::uint8_t>(type >> 8));
  f.push_back(static_cast<std::uint8_t>(type));
  f.insert(f.end(), inner.begin(), inner.end());
  return f;
}

std::vector<std::uint8_t> as_vector(std::span<const std::uint8_t> s) {
  return {s.begin(), s.end()};
}

const std::vector<std::uint8_t> kPayload = {0x24, 1, 2, 3, 4, 5, 6, 7};

TEST(LoopedUdpPayloadTest, FindsThePayloadBehindEachHeaderKind) {
  EXPECT_EQ(as_vector(looped_udp_payload(ipv4_udp(kPayload))), kPayload);
  EXPECT_EQ(as_vector(looped_udp_payload(ipv6_udp(kPayload))), kPayload);
  EXPECT_EQ(as_vector(looped_udp_payload(ethernet(0x0800, ipv4_udp(kPayload)))), kPayload);
  EXPECT_EQ(as_vector(looped_udp_payload(ethernet(0x86dd, ipv6_udp(kPayload)))), kPayload);
  EXPECT_EQ(as_vector(looped_udp_payload(ethernet(0x0800, ipv4_udp(kPayload), true))), kPayload);
}

TEST(LoopedUdpPayloadTest, RejectsWhatDoesNotAddUp) {
  EXPECT_TRUE(looped_udp_payload({}).empty());
  EXPECT_TRUE(looped_udp_payload(kPayload).empty());  // no headers at all
  auto tcp = ipv4_udp(kPayload);
  tcp[9] = 6;
  EXPECT_TRUE(looped_udp_payload(tcp).empty());
  auto long_ip = ipv4_udp(kPayload);
  long_ip[3] = static_cast<std::uint8_t>(long_ip[3] + 4);  // IP length past the frame
  EXPECT_TRUE(looped_udp_payload(long_ip).empty());
  auto long_udp = ipv4_udp(kPayload);
  long_udp[25] = static_cast<std::uint8_t>(long_udp[25] + 4);  // UDP length past IP
  EXPECT_TRUE(looped_udp_payload(long_udp).empty());
  auto short_ihl = ipv4_udp(kPayload);
  short_ihl[0] = 0x44;
  EXPECT_TRUE(looped_udp_payload(short_ihl).empty());
  auto ext_header = ipv6_udp(kPayload);
  ext_header[6] = 0;  // hop-by-hop options: not parsed
  EXPECT_TRUE(looped_udp_payload(ext_header).empty());
  EXPECT_TRUE(looped_udp_payload(ethernet(0x0806, ipv4_udp(kPayload))).empty());  // ARP
  const auto whole = ethernet(0x0800, ipv4_udp(kPayload));
  for (std::size_t n = 0; n < whole.size(); ++n) {
    EXPECT_TRUE(looped_udp_payload(std::span(whole).first(n)).empty()) << n;
  }
}

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * common::kNsPerSecond + ts.tv_nsec;
}

// Polls `fd`'s error queue for up to ~100 ms; the payloads that came back.
std::vector<std::vector<std::uint8_t>> looped_back(int fd) {
  std::vector<std::vector<std::uint8_t>> seen;
  for (int i = 0; i < 100; ++i) {
    drain_tx_timestamps(fd, [&](std::span<const std::uint8_t> p, common::UnixNs) {
      seen.emplace_back(p.begin(), p.end());
    });
    timespec pause{0, 1'000'000};
    nanosleep(&pause, nullptr);
  }
  return seen;
}

// A sender socket connected to a receiver on loopback.
class TxTimestampsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver = common::UniqueFd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sender = common::UniqueFd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(receiver && sender);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(receiver.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t length = sizeof addr;
    ASSERT_EQ(getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&addr), &length), 0);
    ASSERT_EQ(connect(sender.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }

  common::UniqueFd receiver;
  common::UniqueFd sender;
};

// A server socket reports timestamps but generates one only for a datagram
// that asks (interleaved replies): a plain send loops nothing back.
TEST_F(TxTimestampsTest, ReportsOnlySocketStampsJustTheDatagramThatAsks) {
  if (!enable_tx_timestamp_reports(sender.get())) GTEST_SKIP() << "no SO_TIMESTAMPING here";

  std::array<std::uint8_t, 48> plain{};
  plain[0] = 0x24;
  ASSERT_EQ(send(sender.get(), plain.data(), plain.size(), 0), 48);
  EXPECT_TRUE(looped_back(sender.get()).empty());

  std::array<std::uint8_t, 48> asking{};
  asking[0] = 0x24;
  asking[47] = 0x77;
  alignas(cmsghdr) std::array<std::uint8_t, 32> control{};
  iovec iov{asking.data(), asking.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = append_tx_timestamp_request(control, 0);
  ASSERT_GT(msg.msg_controllen, 0u);
  ASSERT_EQ(sendmsg(sender.get(), &msg, 0), 48);
  const auto seen = looped_back(sender.get());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], std::vector<std::uint8_t>(asking.begin(), asking.end()));
  // No room: the control length stays as it was.
  std::array<std::uint8_t, 8> tiny{};
  EXPECT_EQ(append_tx_timestamp_request(tiny, 0), 0u);
}

TEST_F(TxTimestampsTest, LoopbackSendComesBackWithItsKernelTime) {
  if (!enable_tx_timestamps(sender.get())) GTEST_SKIP() << "no SO_TIMESTAMPING here";

  std::array<std::uint8_t, 48> packet{};
  packet[0] = 0x23;
  packet[47] = 0x5a;
  const std::int64_t before = now_ns();
  ASSERT_EQ(send(sender.get(), packet.data(), packet.size(), 0), 48);
  const std::int64_t after_send = now_ns();
  std::vector<std::uint8_t> seen;
  common::UnixNs stamp{};
  // Loopback stamps during send(); allow a few polls for slower paths.
  for (int i = 0; i < 100 && seen.empty(); ++i) {
    drain_tx_timestamps(sender.get(), [&](std::span<const std::uint8_t> p, common::UnixNs t) {
      seen.assign(p.begin(), p.end());
      stamp = t;
    });
    if (seen.empty()) {
      timespec pause{0, 1'000'000};
      nanosleep(&pause, nullptr);
    }
  }
  ASSERT_EQ(seen, std::vector<std::uint8_t>(packet.begin(), packet.end()));
  EXPECT_GE(stamp.ns, before);
  EXPECT_LE(stamp.ns, after_send + common::kNsPerSecond);
  // The queue is empty now; a second drain delivers nothing.
  EXPECT_EQ(drain_tx_timestamps(sender.get(), [](auto, auto) {}), 0);
}

}  // namespace
}  // namespace ntpd::net
