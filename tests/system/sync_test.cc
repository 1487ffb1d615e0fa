// Two instances of ours in one private namespace: a server on its local
// clock (127.0.0.1) and a second daemon (127.0.0.2) that synchronizes to
// it, as a client (mode 3/4) and as a symmetric peer (mode 1/2). Checked
// from outside with an independent NTP client: the server answers at
// stratum 11, the follower at stratum 12 with the server as its refid.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <string>

#include "tests/system/daemon_fixture.h"
#include "tests/testlib/namespace_launch.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::systest {
namespace {

constexpr std::uint32_t kRefidLocalClock = 0x7f7f0100;  // 127.127.1.0
constexpr std::uint32_t kRefidServer = 0x7f000001;      // 127.0.0.1

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NTPD_SYSTEST_REQUIRE_ROOT();
    become_subreaper();
    mkdir(dir_.file("jail").c_str(), 0755);
  }
  void TearDown() override {
    if (shell_pid_ > 0) kill_process_tree(shell_pid_);
  }

  // Starts the server and the follower (with `follower_conf`) in one namespace.
  void start(const std::string& server_extra, const std::string& follower_conf) {
    ASSERT_TRUE(write_file(dir_.file("server.conf"),
                           "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n" + server_extra));
    ASSERT_TRUE(write_file(dir_.file("follower.conf"), follower_conf));
    const std::string common = " --no-clock-control -n -u nobody:nogroup -i " + dir_.file("jail");
    const std::string script = bin_path("ntpd") + common + " -c " + dir_.file("server.conf") +
                               " -I 127.0.0.1 -l " + dir_.file("server.log") + " & " +
                               bin_path("ntpd") + common + " -c " + dir_.file("follower.conf") +
                               " -I 127.0.0.2 -D 2 -l " + dir_.file("follower.log") + " & wait";
    std::string error;
    const auto launched =
        testlib::launch_in_namespace({"/bin/sh", "-c", script}, dir_.file("out.log"), &error);
    ASSERT_GT(launched.pid, 0) << error;
    shell_pid_ = launched.pid;
  }

  std::optional<testlib::NtpReply> query(const std::string& address) const {
    return testlib::query_ntp(address, 123, 500, shell_pid_);
  }

  // Waits until `address` answers synchronized at `stratum`.
  bool wait_synchronized(const std::string& address, int stratum, milliseconds timeout) const {
    return wait_until(
        timeout,
        [&] {
          const auto reply = query(address);
          return reply && reply->leap == 0 && reply->stratum == stratum;
        },
        milliseconds(500));
  }

  std::string logs() const {
    return read_file(dir_.file("server.log")).value_or("") + "\n--- follower\n" +
           read_file(dir_.file("follower.log")).value_or("");
  }

  TempDir dir_;
  pid_t shell_pid_ = -1;
};

TEST_F(SyncTest, ClientFollowsOurLocalClockServer) {
  start("", "server 127.0.0.1 iburst minpoll 3 maxpoll 4\n");
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 11, milliseconds(40'000))) << logs();
  const auto server = query("127.0.0.1");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->refid, kRefidLocalClock);
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(60'000))) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, kRefidServer);
  EXPECT_LT(std::abs(follower->offset_s), 0.001);
  EXPECT_NE(read_file(dir_.file("follower.log")).value_or("").find("SAMPLE: offset"),
            std::string::npos);
}

TEST_F(SyncTest, SymmetricPeersSynchronize) {
  start("peer 127.0.0.2 minpoll 3 maxpoll 4\n", "peer 127.0.0.1 minpoll 3 maxpoll 4\n");
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 11, milliseconds(40'000))) << logs();
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(60'000))) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, kRefidServer);
  // The server keeps its local clock: a peer at stratum 12 is no better.
  const auto server = query("127.0.0.1");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->refid, kRefidLocalClock);
}

// The same with `key 2` (SHA1) on both peer lines: every mode 1/2 packet
// carries the MAC (RFC 5905 section 7.3), and neither side drops one.
TEST_F(SyncTest, SymmetricPeersWithKeySynchronize) {
  const std::string keys = dir_.file("ntp.keys");
  ASSERT_TRUE(write_file(keys, "2 SHA1 0123456789abcdef0123456789abcdef01234567\n"));
  ASSERT_EQ(::chmod(keys.c_str(), 0600), 0);
  const std::string auth = "keys " + keys + "\ntrustedkey 2\n";
  start(auth + "peer 127.0.0.2 key 2 minpoll 3 maxpoll 4\n",
        auth + "peer 127.0.0.1 key 2 minpoll 3 maxpoll 4\n");
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 11, milliseconds(40'000))) << logs();
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(60'000))) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, kRefidServer);
  EXPECT_NE(logs().find("PEER: peer 127.0.0.1 key 2 SHA1"), std::string::npos) << logs();
  EXPECT_EQ(logs().find("TEST5"), std::string::npos) << logs();
}

}  // namespace
}  // namespace ntpd::systest
