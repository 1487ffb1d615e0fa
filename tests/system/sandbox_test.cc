// The sandbox as the kernel sees it: /proc of a running pair (identity,
// capabilities, no_new_privs, seccomp, chroot), and a forbidden syscall in
// ntpd-net killed by the filter, named in the log, and restarted.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "tests/system/daemon_fixture.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::systest {
namespace {

constexpr std::uint64_t kCapSysTime = std::uint64_t{1} << 25;
// What the clock process may keep permitted (not effective): CAP_KILL(5)
// to stop ntpd-net, which runs under another uid, and CAP_SETGID(6),
// CAP_SETUID(7), CAP_SETPCAP(8), CAP_SYS_CHROOT(18) to respawn it.
constexpr std::uint64_t kClockPermittedAllowed =
    kCapSysTime | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 18);
constexpr std::uint32_t kRefidInit = 0x494e4954;  // "INIT"

std::string canonical(const std::string& path) {
  std::error_code ec;
  auto result = std::filesystem::canonical(path, ec);
  return ec ? path : result.string();
}

TEST(SandboxTest, ProcShowsBothProcessesConfined) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const passwd* nobody = getpwnam("nobody");
  const group* nogroup = getgrnam("nogroup");
  ASSERT_NE(nobody, nullptr);
  ASSERT_NE(nogroup, nullptr);
  const long expected_uid = static_cast<long>(nobody->pw_uid);
  const long expected_gid = static_cast<long>(nogroup->gr_gid);
  ASSERT_NE(expected_uid, 0);

  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({}, &error)) << error;
  // An answer means ntpd-net finished its sandbox steps (they precede its loop).
  ASSERT_TRUE(pair.wait_for_answer(milliseconds(5000))) << pair.log_text() << pair.output_text();
  const auto net = pair.wait_for_net(milliseconds(1000));
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(child_pids(pair.clock_pid()).size(), 1u) << "the clock process has one child";

  const auto net_status = read_proc_status(*net);
  ASSERT_TRUE(net_status.has_value());
  EXPECT_EQ(net_status->uids, std::vector<long>(4, expected_uid)) << "real/eff/saved/fs uid";
  EXPECT_EQ(net_status->gids, std::vector<long>(4, expected_gid)) << "real/eff/saved/fs gid";
  EXPECT_EQ(net_status->cap_eff, 0u);
  EXPECT_EQ(net_status->cap_prm, 0u);
  EXPECT_EQ(net_status->cap_bnd, 0u);
  EXPECT_EQ(net_status->cap_inh, 0u);
  EXPECT_EQ(net_status->cap_amb, 0u);
  EXPECT_EQ(net_status->no_new_privs, 1);
  EXPECT_EQ(net_status->seccomp, 2);
  // The clock's filter is inherited; a second one means ntpd-net loaded its own.
  EXPECT_GE(net_status->seccomp_filters, 2);
  EXPECT_EQ(proc_link(*net, "root"), canonical(pair.jail_path()));
  EXPECT_EQ(proc_link(*net, "cwd"), canonical(pair.jail_path()));

  const auto clock_status = read_proc_status(pair.clock_pid());
  ASSERT_TRUE(clock_status.has_value());
  EXPECT_EQ(clock_status->cap_eff, kCapSysTime) << std::hex << clock_status->cap_eff;
  EXPECT_EQ(clock_status->cap_prm & ~kClockPermittedAllowed, 0u)
      << std::hex << clock_status->cap_prm;
  EXPECT_EQ(clock_status->cap_bnd & ~kClockPermittedAllowed, 0u)
      << std::hex << clock_status->cap_bnd;
  EXPECT_EQ(clock_status->cap_amb, 0u);
  EXPECT_EQ(clock_status->seccomp, 2);
  EXPECT_EQ(clock_status->no_new_privs, 1);

  // Confined, it still serves: an unsynchronized server's reply (RFC 5905).
  const auto reply = testlib::query_ntp("127.0.0.1", 123, 1000, pair.clock_pid());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->mode, 4);
  EXPECT_EQ(reply->version, 4);
  EXPECT_EQ(reply->origin, reply->sent_transmit);
  if (reply->leap == 3) {
    // Unsynchronized (the state right after start): stratum 0 on the wire
    // and the kiss code INIT as refid.
    EXPECT_EQ(reply->stratum, 0);
    EXPECT_EQ(reply->refid, kRefidInit);
  } else {
    EXPECT_GE(reply->stratum, 1);
    EXPECT_LE(reply->stratum, 15);
  }
  EXPECT_TRUE(sanitizer_reports(pair.output_text()).empty()) << pair.output_text();
}

TEST(SandboxTest, ForbiddenSyscallKillsNetWhichIsNamedAndRestarted) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({bin_path("ntpd-net-testhooks"), std::nullopt, {}}, &error)) << error;
  ASSERT_TRUE(pair.wait_for_answer(milliseconds(5000))) << pair.log_text() << pair.output_text();
  const auto first = pair.wait_for_net(milliseconds(1000));
  ASSERT_TRUE(first.has_value());

  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(*first, SIGUSR2), 0);  // the hook calls openat: forbidden
  EXPECT_TRUE(wait_until(milliseconds(2000), [&] { return process_gone(*first); }))
      << "ntpd-net survived a forbidden syscall";
  EXPECT_TRUE(
      pair.wait_for_log("ntpd-net killed by seccomp: forbidden syscall openat", milliseconds(2000)))
      << pair.log_text();

  const auto second = pair.wait_for_net(milliseconds(5000), *first);
  ASSERT_TRUE(second.has_value()) << "no fresh ntpd-net\n" << pair.log_text();
  EXPECT_NE(*second, *first);
  const auto left = milliseconds(5000) - std::chrono::duration_cast<milliseconds>(
                                             std::chrono::steady_clock::now() - killed_at);
  EXPECT_TRUE(pair.wait_for_answer(std::max(left, milliseconds(0))))
      << "the fresh ntpd-net did not answer within 5 s of the kill\n"
      << pair.log_text();
  EXPECT_TRUE(pair.clock_alive());
  EXPECT_EQ(count_occurrences(pair.log_text(), "START: ntpd"), 1u) << pair.log_text();
  EXPECT_TRUE(sanitizer_reports(pair.output_text()).empty()) << pair.output_text();
}

}  // namespace
}  // namespace ntpd::systest
