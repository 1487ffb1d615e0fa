// Host names in the sandboxed daemon. Each test runs in a private user,
// network and mount namespace whose /etc/hosts and /etc/resolv.conf are the
// test's own (bind mounts), with a tiny DNS responder (ntp-test-dns) on
// 127.0.0.53. A server on 127.0.0.1 runs on its local clock; a follower on
// 127.0.0.2 finds it by name: through DNS queries sent from ntpd-net's
// jail under its seccomp filter, or through the hosts table.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tests/system/daemon_fixture.h"
#include "tests/testlib/namespace_launch.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::systest {
namespace {

constexpr std::uint32_t kRefidServer = 0x7f000001;  // 127.0.0.1

class DnsTest : public NamespaceDaemonsTest {
 protected:
  void start(const std::string& hosts, const std::string& dns_names,
             const std::string& follower_conf) {
    ASSERT_TRUE(write_file(dir_.file("hosts"), hosts));
    ASSERT_TRUE(write_file(dir_.file("resolv.conf"),
                           "nameserver 127.0.0.53\noptions timeout:1 attempts:2\n"));
    const std::string script =
        bin_path("ntp-test-dns") + " --listen 127.0.0.53 --seconds 140" + dns_names + " & " +
        daemon_command("server", "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n", "127.0.0.1",
                       false) +
        daemon_command("follower", follower_conf, "127.0.0.2", true) + "wait";
    testlib::LaunchOptions options;
    options.bind_mounts = {{dir_.file("hosts"), "/etc/hosts"},
                           {dir_.file("resolv.conf"), "/etc/resolv.conf"}};
    launch_script(script, options);
  }

  std::string follower_log() const { return read_file(dir_.file("follower.log")).value_or(""); }
  std::string logs() const {
    return follower_log() + "\n--- server\n" + read_file(dir_.file("server.log")).value_or("") +
           "\n--- output\n" + read_file(dir_.file("out.log")).value_or("");
  }
  bool wait_for_follower_log(std::string_view needle, milliseconds timeout) const {
    return wait_until(
        timeout, [&] { return follower_log().find(needle) != std::string::npos; },
        milliseconds(100));
  }
};

TEST_F(DnsTest, ServerNameResolvedByDnsReachesOurServer) {
  start("127.0.0.1 localhost\n", " --name ntp-a.test=127.0.0.1",
        "server ntp-a.test iburst minpoll 3 maxpoll 4\n");
  ASSERT_TRUE(wait_for_follower_log("DNS: ntp-a.test is 127.0.0.1;", milliseconds(30'000)))
      << logs();
  EXPECT_NE(follower_log().find("PEER: server ntp-a.test (127.0.0.1) iburst"), std::string::npos)
      << logs();
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(90'000))) << logs();
  const auto follower = query("127.0.0.2");
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->refid, kRefidServer);
  EXPECT_NE(read_file(dir_.file("out.log")).value_or("").find("ntp-a.test type 1: NOERROR"),
            std::string::npos)
      << "the answer came from the DNS responder";
}

TEST_F(DnsTest, PoolNameWithThreeAddressesMobilizesThreeAssociations) {
  start("127.0.0.1 localhost\n127.0.0.1 ntp-h.test\n",
        " --name pool.test=127.0.0.3,127.0.0.4,127.0.0.5",
        "pool pool.test iburst\nserver ntp-h.test iburst minpoll 3 maxpoll 4\n"
        "server nx.test iburst\n");
  ASSERT_TRUE(
      wait_for_follower_log("DNS: pool.test is 127.0.0.3 127.0.0.4 127.0.0.5; "
                            "3 associations (3 new)",
                            milliseconds(30'000)))
      << logs();
  const std::string log = follower_log();
  for (const char* address : {"127.0.0.3", "127.0.0.4", "127.0.0.5"}) {
    EXPECT_NE(log.find("PEER: server pool.test (" + std::string(address) + ") iburst"),
              std::string::npos)
        << address << "\n"
        << logs();
  }
  EXPECT_EQ(count_occurrences(log, "PEER: server pool.test ("), 3u) << logs();
  // The hosts table answers without a query, and the follower syncs by it.
  EXPECT_NE(log.find("DNS: ntp-h.test is 127.0.0.1 (hosts)"), std::string::npos) << logs();
  // A name that does not exist is logged and retried; nothing else suffers.
  EXPECT_TRUE(wait_for_follower_log(
      "DNS: cannot resolve nx.test: name not found (NXDOMAIN); retrying in 5 s",
      milliseconds(10'000)))
      << logs();
  ASSERT_TRUE(wait_synchronized("127.0.0.2", 12, milliseconds(90'000))) << logs();
  EXPECT_TRUE(wait_for_follower_log(
      "DNS: cannot resolve nx.test: name not found (NXDOMAIN); retrying in 10 s",
      milliseconds(10'000)))
      << "backoff\n"
      << logs();
}

}  // namespace
}  // namespace ntpd::systest
