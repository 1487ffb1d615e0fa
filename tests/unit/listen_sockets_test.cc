// --server-threads and its default (listen_sockets.h): the count of
// sockets per listen address the clock process opens.
#include "ntpd-clock/listen_sockets.h"

#include <gtest/gtest.h>

#include "ntpd-clock/cli_options.h"

namespace ntpd::clock {
namespace {

TEST(ServerThreadCountTest, GivenCountIsKeptWithinRange) {
  EXPECT_EQ(server_thread_count(1), 1);
  EXPECT_EQ(server_thread_count(3), 3);
  EXPECT_EQ(server_thread_count(kMaxServerThreads), kMaxServerThreads);
  EXPECT_EQ(server_thread_count(kMaxServerThreads + 1), kMaxServerThreads);
  EXPECT_EQ(server_thread_count(0), 1);
}

TEST(ServerThreadCountTest, DefaultIsOnlineCpusCapped) {
  const int count = server_thread_count(std::nullopt);
  EXPECT_GE(count, 1);
  EXPECT_LE(count, kDefaultMaxServerThreads);
}

}  // namespace
}  // namespace ntpd::clock
