// DatagramBatch on a real loopback socket: replies go back to each
// request's source, and they are finalized kSendChunk at a time right
// before the sendmmsg that carries them, so no transmit timestamp is read
// long before its reply leaves.
#include "ntpd-net/datagram_batch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::net {
namespace {

using common::UniqueFd;

UniqueFd bound_socket(sockaddr_in* address) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return fd;
  address->sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &address->sin_addr);
  socklen_t length = sizeof *address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(address), sizeof *address) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(address), &length) != 0) {
    return UniqueFd();
  }
  return fd;
}

TEST(DatagramBatchTest, RepliesLeaveChunkByChunkAsTheyAreFinalized) {
  sockaddr_in server_address{};
  UniqueFd server = bound_socket(&server_address);
  ASSERT_TRUE(server.valid());
  const int one = 1;
  ASSERT_EQ(setsockopt(server.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one), 0);
  sockaddr_in client_address{};
  UniqueFd client = bound_socket(&client_address);
  ASSERT_TRUE(client.valid());
  ASSERT_EQ(
      ::connect(client.get(), reinterpret_cast<sockaddr*>(&server_address), sizeof server_address),
      0);

  constexpr int kRequests = 20;  // two full chunks and a partial one
  for (int i = 0; i < kRequests; ++i) {
    std::uint8_t request[48] = {0x23, static_cast<std::uint8_t>(i)};
    ASSERT_EQ(::send(client.get(), request, sizeof request, 0), 48);
  }
  DatagramBatch batch;
  ASSERT_EQ(batch.receive(server.get()), kRequests);
  for (int i = 0; i < kRequests; ++i) {
    const auto request = batch.request(i);
    ASSERT_EQ(request.size(), 48u);
    EXPECT_EQ(request[1], i);
    EXPECT_GT(batch.received_at(i).ns, 0);
    std::memcpy(batch.reply_buffer(i).data(), request.data(), request.size());
    batch.reply_buffer(i)[0] = 0x24;
    // Request 5 gets no reply: the chunks are counted in replies.
    batch.set_reply(i, i == 5 ? 0 : 48);
  }

  // At each finalize: how many replies had already reached the client.
  std::vector<int> arrived_before;
  std::vector<int> order;
  int arrived = 0;
  const auto count_arrivals = [&] {
    std::uint8_t reply[64];
    while (::recv(client.get(), reply, sizeof reply, MSG_DONTWAIT) == 48) {
      EXPECT_EQ(reply[0], 0x24);
      order.push_back(reply[1]);
      ++arrived;
    }
  };
  const int sent =
      batch.send(server.get(), [&](std::span<std::uint8_t>, std::size_t length, const ReplyNote&) {
        count_arrivals();
        arrived_before.push_back(arrived);
        return length;
      });
  count_arrivals();
  EXPECT_EQ(sent, kRequests - 1);
  EXPECT_EQ(arrived, kRequests - 1);
  ASSERT_EQ(arrived_before.size(), static_cast<std::size_t>(kRequests - 1));
  for (std::size_t k = 0; k < arrived_before.size(); ++k) {
    // Loopback delivers within sendmmsg: the k-th finalize sees every
    // earlier chunk delivered and none of its own.
    EXPECT_EQ(arrived_before[k], static_cast<int>(k / kSendChunk * kSendChunk)) << k;
  }
  std::vector<int> expected;
  for (int i = 0; i < kRequests; ++i) {
    if (i != 5) expected.push_back(i);
  }
  EXPECT_EQ(order, expected);
}

TEST(DatagramBatchTest, NothingQueuedReadsNothing) {
  sockaddr_in address{};
  UniqueFd server = bound_socket(&address);
  ASSERT_TRUE(server.valid());
  DatagramBatch batch;
  EXPECT_EQ(batch.receive(server.get()), 0);
  EXPECT_EQ(batch.send(server.get(), [](std::span<std::uint8_t>, std::size_t length,
                                        const ReplyNote&) { return length; }),
            0);
}

}  // namespace
}  // namespace ntpd::net
