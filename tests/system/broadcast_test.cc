// Broadcast, multicast and orphan mode with the real daemons in a private
// namespace. A server of ours on its local clock broadcasts (mode 5) on a
// bridge with no ports (a broadcast-capable interface of the namespace
// alone) or multicasts on loopback; a broadcastclient / multicastclient of
// ours must follow it, checked from outside with an independent client.
// Orphan mode: a daemon with only `tos orphan 10` answers as the orphan
// parent, synchronized at stratum 10, within 30 s of start.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <string>

#include "tests/system/daemon_fixture.h"
#include "tests/testlib/namespace_launch.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::systest {
namespace {

constexpr std::uint32_t kRefidLoopback = 0x7f000001;  // the orphan parent's refid
constexpr char kKeys[] = "1 MD5 bcast-test-key\n";

class BroadcastTest : public NamespaceDaemonsTest {
 protected:
  void SetUp() override {
    NamespaceDaemonsTest::SetUp();
    if (IsSkipped()) return;
    if (!file_exists("/usr/sbin/ip") && !file_exists("/sbin/ip") && !file_exists("/bin/ip")) {
      GTEST_SKIP() << "iproute2 (ip) is needed to set up the test network";
    }
    ASSERT_TRUE(write_file(dir_.file("ntp.keys"), kKeys));
    ASSERT_EQ(chmod(dir_.file("ntp.keys").c_str(), 0600), 0);
  }

  std::string daemon(const std::string& name, const std::string& conf, const std::string& address) {
    return daemon_command(name, conf, address, true);
  }

  // Runs `setup` (network), then the daemons, in one fresh namespace.
  void launch(const std::string& setup, const std::string& daemons) {
    launch_script("set -e; " + setup + "; set +e; " + daemons + "wait");
  }

  std::string logs() const {
    return read_file(dir_.file("out.log")).value_or("") + "\n--- server\n" +
           read_file(dir_.file("server.log")).value_or("") + "\n--- client\n" +
           read_file(dir_.file("client.log")).value_or("");
  }

  std::string keys_lines() const { return "keys " + dir_.file("ntp.keys") + "\ntrustedkey 1\n"; }
};

TEST_F(BroadcastTest, BroadcastClientFollowsOurBroadcastServer) {
  const std::string net =
      "ip link add br0 type bridge; ip addr add 10.99.0.1/24 brd + dev br0; "
      "ip addr add 10.99.0.2/24 brd + dev br0; ip link set br0 up";
  const std::string server = daemon("server",
                                    "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n"
                                    "broadcast 10.99.0.255 key 1 minpoll 3\n" +
                                        keys_lines(),
                                    "10.99.0.1");
  const std::string client = daemon("client", "broadcastclient\n" + keys_lines(), "10.99.0.2");
  launch(net, server + client);
  ASSERT_TRUE(wait_synchronized("10.99.0.1", 11, milliseconds(40'000))) << logs();
  ASSERT_TRUE(wait_synchronized("10.99.0.2", 12, milliseconds(90'000))) << logs();
  const auto follower = query("10.99.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, 0x0a630001u);  // 10.99.0.1
  EXPECT_LT(std::abs(follower->offset_s), 0.01);
  const std::string client_log = read_file(dir_.file("client.log")).value_or("");
  EXPECT_NE(client_log.find("broadcast server 10.99.0.1 mobilized, key 1"), std::string::npos)
      << client_log;
  EXPECT_NE(client_log.find("broadcast delay"), std::string::npos) << client_log;
}

TEST_F(BroadcastTest, MulticastClientFollowsOurMulticastServerWithoutAuth) {
  const std::string server = daemon("server",
                                    "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n"
                                    "broadcast 224.0.1.1 ttl 1 minpoll 3\n",
                                    "127.0.0.1");
  // `disable auth`: unauthenticated multicasts may mobilize (ntpd -A); no
  // volley, so the configured delay is used.
  const std::string client = daemon(
      "client", "multicastclient 224.0.1.1\nbroadcastclient novolley\ndisable auth\n", "127.0.0.2");
  launch("ip link set lo multicast on", server + client);
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 11, milliseconds(40'000))) << logs();
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(90'000))) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, 0x7f000001u);  // 127.0.0.1
  EXPECT_LT(std::abs(follower->offset_s), 0.01);
  EXPECT_NE(read_file(dir_.file("client.log")).value_or("").find("mobilized, unauthenticated"),
            std::string::npos);
}

TEST_F(BroadcastTest, UnauthenticatedBroadcastIsIgnoredWhenAuthIsRequired) {
  const std::string server = daemon("server",
                                    "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n"
                                    "broadcast 224.0.1.1 minpoll 3\n",
                                    "127.0.0.1");
  const std::string client = daemon("client", "multicastclient\n", "127.0.0.2");
  launch("ip link set lo multicast on", server + client);
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 11, milliseconds(40'000))) << logs();
  // Broadcasts (every 8 s) arrive and are dropped; none may mobilize anything.
  ASSERT_TRUE(wait_until(milliseconds(40'000), [&] {
    return count_occurrences(read_file(dir_.file("client.log")).value_or(""),
                             "unauthenticated broadcast from 127.0.0.1 dropped") >= 2;
  })) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->leap, 3) << logs();
  EXPECT_EQ(read_file(dir_.file("client.log")).value_or("").find("mobilized"), std::string::npos);
}

TEST_F(BroadcastTest, OrphanModeAloneAnswersAtTheOrphanStratumWithin30s) {
  const std::string server = daemon("server", "tos orphan 10\n", "127.0.0.1");
  launch("true", server);
  ASSERT_TRUE(wait_synchronized("127.0.0.1", 10, milliseconds(30'000))) << logs();
  const auto reply = query("127.0.0.1");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->refid, kRefidLoopback);
  EXPECT_EQ(reply->leap, 0);
}

}  // namespace
}  // namespace ntpd::systest
