// ServerWorkers on a real loopback socket: a serving thread answers client
// requests with the system variables the owning thread last published,
// drops (and counts) anything that is not a client request, and hands its
// sockets back after stopping.
#include "ntpd-net/server_workers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <thread>

#include "common/unique_fd.h"

namespace ntpd::net {
namespace {

using common::UniqueFd;

class ServerWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UniqueFd server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(server.valid());
    const int one = 1;
    ASSERT_EQ(setsockopt(server.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one), 0);
    ASSERT_EQ(setsockopt(server.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one), 0);
    address_.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &address_.sin_addr);
    ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
    socklen_t length = sizeof address_;
    ASSERT_EQ(getsockname(server.get(), reinterpret_cast<sockaddr*>(&address_), &length), 0);
    access_.mru = mru_limits_from_config(std::nullopt);
    workers_.emplace(access_, 7, snapshot_);
    workers_->add_socket(1, std::move(server), "127.0.0.1", "test", AF_INET);
    client_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(client_.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
  }

  // Sends a request with first byte `first`; the reply's stratum, or
  // nullopt when none came within `timeout_ms`.
  std::optional<int> ask(std::uint8_t first, int timeout_ms = 2000) {
    std::uint8_t request[48] = {first};
    request[47] = 1;
    if (::send(client_.get(), request, sizeof request, 0) != 48) return std::nullopt;
    pollfd p{client_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    std::uint8_t reply[128];
    if (::recv(client_.get(), reply, sizeof reply, 0) < 48) return std::nullopt;
    return reply[1];
  }

  SystemVars vars(std::uint8_t stratum) {
    SystemVars sys;
    sys.synchronized = true;
    sys.leap = 0;
    sys.stratum = stratum;
    sys.refid = 0x7f000001;
    return sys;
  }

  sockaddr_in address_{};
  AccessConfig access_;
  SystemSnapshot snapshot_;
  std::optional<ServerWorkers> workers_;
  UniqueFd client_;
};

constexpr std::uint8_t kClient = (4 << 3) | 3;
constexpr std::uint8_t kSymmetricActive = (4 << 3) | 1;

TEST_F(ServerWorkersTest, AnswersWithWhatTheOwnerPublished) {
  ASSERT_TRUE(snapshot_.publish(vars(5)));
  std::string error;
  ASSERT_TRUE(workers_->start(&error)) << error;
  ASSERT_EQ(workers_->threads(), 1u);
  EXPECT_EQ(workers_->thread_number(0), 1u);
  EXPECT_EQ(ask(kClient), 5);
  ASSERT_TRUE(snapshot_.publish(vars(7)));
  EXPECT_EQ(ask(kClient), 7);
  workers_->stop();
  EXPECT_EQ(workers_->replies(0), 2u);
}

TEST_F(ServerWorkersTest, NonClientModesAreDroppedAndCounted) {
  ASSERT_TRUE(snapshot_.publish(vars(5)));
  std::string error;
  ASSERT_TRUE(workers_->start(&error)) << error;
  EXPECT_EQ(ask(kSymmetricActive, 300), std::nullopt);
  EXPECT_EQ(ask(kClient), 5);  // and it still serves clients
  workers_->stop();
  EXPECT_EQ(workers_->misrouted(0), 1u);
}

TEST_F(ServerWorkersTest, PacesUnderLoadAndStillAnswersEveryRequest) {
  ASSERT_TRUE(snapshot_.publish(vars(4)));
  std::string error;
  ASSERT_TRUE(workers_->start(&error)) << error;
  // Bursts of 8 requests 100 us apart (80000/s) for 100 ms: wakeups come
  // closer than the minimum window, so the thread paces itself.
  constexpr int kBursts = 1000;
  std::uint8_t request[48] = {kClient};
  std::size_t answered = 0;
  std::uint8_t reply[128];
  const auto drain = [&] {
    while (::recv(client_.get(), reply, sizeof reply, MSG_DONTWAIT) >= 48) {
      EXPECT_EQ(reply[1], 4);
      // Held for about a window: transmit minus receive time (NTP
      // timestamps, 2^-32 s units) between 0 and 100 ms.
      const auto stamp = [&](int at) {
        std::uint64_t v = 0;
        for (int b = 0; b < 8; ++b) v = (v << 8) | reply[at + b];
        return v;
      };
      const std::uint64_t held = stamp(40) - stamp(32);
      EXPECT_LT(held, (std::uint64_t{1} << 32) / 10);
      ++answered;
    }
  };
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = 0; i < 8; ++i) {
      request[47] = static_cast<std::uint8_t>(i);
      ASSERT_EQ(::send(client_.get(), request, sizeof request, 0), 48);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    drain();
  }
  for (int i = 0; i < 50 && answered < 8u * kBursts; ++i) {
    pollfd p{client_.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    drain();
  }
  workers_->stop();
  EXPECT_EQ(answered, 8u * kBursts);
  EXPECT_EQ(workers_->replies(0), 8u * kBursts);
  EXPECT_GT(workers_->paced_windows(0), 0u);
  // Paced windows hold several requests each: far fewer than one per request.
  EXPECT_LT(workers_->paced_windows(0), 8u * kBursts / 2);
}

TEST_F(ServerWorkersTest, HandsItsSocketsBack) {
  std::string error;
  ASSERT_TRUE(workers_->start(&error)) << error;
  auto sockets = workers_->take_sockets();
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_EQ(sockets[0].first, "127.0.0.1");
  EXPECT_EQ(sockets[0].second->label(), "test");
  EXPECT_EQ(workers_->threads(), 0u);
}

}  // namespace
}  // namespace ntpd::net
