// The reuseport steering program on real loopback sockets: a group of three
// sockets on one port; client requests from one source address always land
// on the same socket whatever the source port, different addresses spread
// over the group, and non-client modes always reach socket 0.
#include "ntpd-clock/reuseport_steering.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <set>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::clock {
namespace {

using common::UniqueFd;

sockaddr_in loopback(const std::string& address, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
  return sin;
}

class SteeringTest : public ::testing::Test {
 protected:
  static constexpr int kGroup = 3;

  void SetUp() override {
    for (int i = 0; i < kGroup; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      ASSERT_TRUE(fd.valid());
      const int one = 1;
      ASSERT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
      sockaddr_in at = loopback("127.0.0.1", port_);
      ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
      if (port_ == 0) {
        socklen_t length = sizeof at;
        ASSERT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&at), &length), 0);
        port_ = ntohs(at.sin_port);
      }
      group_.push_back(std::move(fd));
    }
    std::string error;
    ASSERT_TRUE(attach_client_steering(group_[0].get(), kGroup, &error)) << error;
  }

  // Sends one datagram with first byte `first` from source:0 (a fresh
  // port) and returns the index of the group socket that got it, or -1.
  int deliver(const std::string& source, std::uint8_t first) {
    UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in from = loopback(source, 0);
    if (!client || ::bind(client.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      return -1;
    }
    std::uint8_t packet[48] = {first};
    sockaddr_in to = loopback("127.0.0.1", port_);
    if (::sendto(client.get(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) != sizeof packet) {
      return -1;
    }
    std::vector<pollfd> polls;
    for (auto& fd : group_) polls.push_back({fd.get(), POLLIN, 0});
    if (::poll(polls.data(), polls.size(), 2000) <= 0) return -1;
    for (int i = 0; i < kGroup; ++i) {
      std::uint8_t buffer[64];
      if (::recv(group_[i].get(), buffer, sizeof buffer, MSG_DONTWAIT) > 0) return i;
    }
    return -1;
  }

  std::vector<UniqueFd> group_;
  std::uint16_t port_ = 0;
};

constexpr std::uint8_t kClientV4 = (4 << 3) | 3;
constexpr std::uint8_t kSymmetricActiveV4 = (4 << 3) | 1;
constexpr std::uint8_t kControl = (2 << 3) | 6;

TEST_F(SteeringTest, OneSourceAddressAlwaysReachesTheSameSocket) {
  for (int a = 2; a < 8; ++a) {
    const std::string source = "127.0.0." + std::to_string(a);
    const int first = deliver(source, kClientV4);
    ASSERT_GE(first, 0) << source;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(deliver(source, kClientV4), first) << source;
  }
}

TEST_F(SteeringTest, ManySourceAddressesSpreadOverTheGroup) {
  std::set<int> used;
  for (int a = 2; a < 42; ++a) used.insert(deliver("127.0.0." + std::to_string(a), kClientV4));
  EXPECT_EQ(used.count(-1), 0u);
  EXPECT_EQ(used.size(), static_cast<std::size_t>(kGroup));
}

TEST_F(SteeringTest, NonClientModesGoToSocketZero) {
  for (int a = 2; a < 22; ++a) {
    const std::string source = "127.0.0." + std::to_string(a);
    EXPECT_EQ(deliver(source, kSymmetricActiveV4), 0) << source;
    EXPECT_EQ(deliver(source, kControl), 0) << source;
  }
}

TEST(SteeringProgramTest, HasOneReturnForOtherModesAndEndsInAReturn) {
  const auto program = client_steering_program(4);
  ASSERT_FALSE(program.empty());
  EXPECT_EQ(program.back().code, BPF_RET | BPF_A);
  EXPECT_EQ(program[3].code, BPF_RET | BPF_K);
  EXPECT_EQ(program[3].k, 0u);
  // The modulo is the group size (a zero group is treated as one socket).
  EXPECT_EQ(program[program.size() - 2].k, 4u);
  EXPECT_EQ(client_steering_program(0)[program.size() - 2].k, 1u);
}

}  // namespace
}  // namespace ntpd::clock
