// No heap allocation per packet on the server's hot path (issue 4): this
// binary replaces the global operator new with a counting one, then drives
// UdpEndpoint::drain (recvmmsg, ServerPath with restrict and rate limiting,
// sendmmsg) over real loopback sockets. After a warm-up round, answering
// more batches must not allocate at all. Its own executable so the
// replacement operator new touches no other test.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "common/unique_fd.h"
#include "ntpd-net/datagram_batch.h"
#include "ntpd-net/server_path.h"
#include "ntpd-net/udp_io.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// These replacements are the matching pair for each other; GCC cannot see
// that through the replaced declarations.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace ntpd::net {
namespace {

using common::UniqueFd;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  return sin;
}

TEST(HotPathAllocTest, AnsweringBatchesAllocatesNothing) {
  UniqueFd server_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(server_fd.valid());
  const int one = 1;
  ASSERT_EQ(setsockopt(server_fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one), 0);
  ASSERT_EQ(setsockopt(server_fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one), 0);
  sockaddr_in at = loopback(0);
  ASSERT_EQ(::bind(server_fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  socklen_t length = sizeof at;
  ASSERT_EQ(getsockname(server_fd.get(), reinterpret_cast<sockaddr*>(&at), &length), 0);
  UdpEndpoint endpoint(std::move(server_fd), "test", AF_INET);

  // The MRU list records every request even without "limited".
  AccessConfig access;
  access.mru = mru_limits_from_config(std::nullopt);
  ServerPath path(access, 42);
  DatagramBatch batch;
  SystemVars sys;
  sys.synchronized = true;
  sys.stratum = 2;
  sys.leap = 0;
  std::size_t served = 0;
  const Responder respond = [&](std::span<const std::uint8_t> request, const sockaddr_storage& from,
                                common::UnixNs received, std::span<std::uint8_t> reply,
                                ReplyNote* note) {
    const std::size_t n = path.handle(request, from, received, sys, reply, note);
    if (n > 0) ++served;
    return n;
  };
  const ReplyFinalizer finalize = [&path](std::span<std::uint8_t> reply, std::size_t n,
                                          const ReplyNote& note) {
    return path.finalize(reply, n, note, realtime_now());
  };

  // 16 clients (ports), 4 requests each per round.
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_EQ(::connect(clients.back().get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  }
  std::uint8_t request[48] = {(4 << 3) | 3};
  const auto send_round = [&] {
    for (auto& c : clients) {
      for (int k = 0; k < 4; ++k) {
        request[47] = static_cast<std::uint8_t>(k);
        ASSERT_EQ(::send(c.get(), request, sizeof request, 0), 48);
      }
    }
  };
  const auto answer_round = [&] {
    pollfd p{endpoint.fd(), POLLIN, 0};
    for (int i = 0; i < 20 && served % 64 != 0; ++i) ::poll(&p, 1, 100);
    ::poll(&p, 1, 1000);
    endpoint.drain(batch, respond, finalize);
  };

  send_round();
  answer_round();  // warm-up: first packets may touch lazily built state
  ASSERT_GT(served, 0u);
  const std::size_t served_before = served;
  g_allocations.store(0);
  g_counting.store(true);
  for (int round = 0; round < 5; ++round) {
    send_round();
    for (int i = 0; i < 4 && served < served_before + 64 * (round + 1); ++i) answer_round();
  }
  g_counting.store(false);
  EXPECT_EQ(served, served_before + 5 * 64) << "every request answered";
  EXPECT_EQ(endpoint.sent(), served);
  EXPECT_EQ(g_allocations.load(), 0u) << "heap allocations on the hot path";
  std::uint8_t reply[64];
  EXPECT_EQ(::recv(clients[0].get(), reply, sizeof reply, 0), 48);
}

}  // namespace
}  // namespace ntpd::net
