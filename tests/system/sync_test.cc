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

class SyncTest : public NamespaceDaemonsTest {
 protected:
  // Starts the server and the follower (with `follower_conf`) in one namespace.
  void start(const std::string& server_extra, const std::string& follower_conf) {
    launch_script(daemon_command(
                      "server", "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n" + server_extra,
                      "127.0.0.1", false) +
                  daemon_command("follower", follower_conf, "127.0.0.2", true) + "wait");
  }

  std::string logs() const {
    return read_file(dir_.file("server.log")).value_or("") + "\n--- follower\n" +
           read_file(dir_.file("follower.log")).value_or("");
  }
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
