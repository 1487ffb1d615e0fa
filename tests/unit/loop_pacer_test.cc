// LoopPacer on a real libevent loop and loopback socket: under load it
// switches the socket's read event off and serves from its timer, and an
// empty window switches the read event back on.
#include "ntpd-net/loop_pacer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::net {
namespace {

using common::UniqueFd;

struct BaseFree {
  void operator()(event_base* base) const { event_base_free(base); }
};

class LoopPacerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_.reset(event_base_new());
    ASSERT_NE(base_, nullptr);
    server_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(server_.valid());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ASSERT_EQ(::bind(server_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(getsockname(server_.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    client_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(client_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    pacer_ = std::make_unique<LoopPacer>(
        base_.get(), LoopPacer::Hooks{[this](bool watch) { watch_calls_.push_back(watch); },
                                      [this] { return read_all(); }});
  }

  std::size_t read_all() {
    ++serve_calls_;
    std::size_t n = 0;
    char buffer[64];
    while (::recv(server_.get(), buffer, sizeof buffer, 0) > 0) ++n;
    read_ += n;
    return n;
  }

  void send_requests(int n) {
    const char request[48] = {0x23};
    for (int i = 0; i < n; ++i) ASSERT_EQ(::send(client_.get(), request, sizeof request, 0), 48);
  }

  // Two read events served moments apart, as under load. Retried: a test
  // machine may preempt us for longer than the minimum window.
  void start_pacing() {
    for (int attempt = 0; attempt < 20 && !pacer_->pacing(); ++attempt) {
      pacer_->after_socket_event(1);
      pacer_->after_socket_event(1);
    }
    ASSERT_TRUE(pacer_->pacing());
  }

  std::unique_ptr<event_base, BaseFree> base_;
  UniqueFd server_;
  UniqueFd client_;
  std::unique_ptr<LoopPacer> pacer_;
  std::vector<bool> watch_calls_;
  int serve_calls_ = 0;
  std::size_t read_ = 0;
};

TEST_F(LoopPacerTest, UnderLoadTheTimerServesAndAnEmptyWindowEndsIt) {
  start_pacing();
  EXPECT_EQ(watch_calls_, std::vector<bool>{false});  // read events off
  send_requests(5);
  // The window's end: the timer serves what queued meanwhile.
  ASSERT_EQ(event_base_loop(base_.get(), EVLOOP_ONCE), 0);
  EXPECT_EQ(serve_calls_, 1);
  EXPECT_EQ(read_, 5u);
  EXPECT_EQ(pacer_->paced_windows(), 1u);
  EXPECT_TRUE(pacer_->pacing());
  // Nothing in the next window: back to read events.
  ASSERT_EQ(event_base_loop(base_.get(), EVLOOP_ONCE), 0);
  EXPECT_EQ(serve_calls_, 2);
  EXPECT_FALSE(pacer_->pacing());
  EXPECT_EQ((watch_calls_), (std::vector<bool>{false, true}));
  // With the timer disarmed and nothing else, the loop has no events left.
  EXPECT_EQ(event_base_loop(base_.get(), EVLOOP_NONBLOCK), 1);
}

TEST_F(LoopPacerTest, SingleWakeupsDoNotPace) {
  pacer_->after_socket_event(1);
  EXPECT_FALSE(pacer_->pacing());
  pacer_->after_socket_event(0);  // an error-queue wakeup
  pacer_->after_socket_event(0);
  EXPECT_FALSE(pacer_->pacing());
  EXPECT_TRUE(watch_calls_.empty());
}

}  // namespace
}  // namespace ntpd::net
