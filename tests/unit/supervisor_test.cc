// Supervision policy: the backoff schedule and the words logged when
// ntpd-net dies.
#include "ntpd-clock/supervisor.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;

int signaled(int sig) { return sig & 0x7f; }  // the wait status of a death by `sig`
int exited(int code) { return (code & 0xff) << 8; }

TEST(RestartDelay, DoublesFromOneSecondAndCapsAt64) {
  EXPECT_EQ(restart_delay_ns(1), 1 * kSecond);
  EXPECT_EQ(restart_delay_ns(2), 2 * kSecond);
  EXPECT_EQ(restart_delay_ns(3), 4 * kSecond);
  EXPECT_EQ(restart_delay_ns(7), 64 * kSecond);
  EXPECT_EQ(restart_delay_ns(50), 64 * kSecond);
}

TEST(DescribeNetExit, NamesTheForbiddenSyscall) {
  ASSERT_TRUE(WIFSIGNALED(signaled(SIGSYS)));
  EXPECT_EQ(describe_net_exit(signaled(SIGSYS), SeccompReport{SYS_openat, 0}),
            "ntpd-net killed by seccomp: forbidden syscall openat (257)");
  EXPECT_NE(describe_net_exit(signaled(SIGSYS), std::nullopt).find("not reported"),
            std::string::npos);
}

TEST(DescribeNetExit, NamesOtherCauses) {
  EXPECT_EQ(describe_net_exit(signaled(SIGKILL), std::nullopt),
            "ntpd-net killed by SIGKILL (out of memory, or kill -9)");
  EXPECT_EQ(describe_net_exit(signaled(SIGSEGV), std::nullopt),
            "ntpd-net killed by signal SIGSEGV (11)");
  EXPECT_EQ(describe_net_exit(exited(1), std::nullopt), "ntpd-net exited with status 1");
  EXPECT_EQ(describe_net_exit(exited(127), std::nullopt),
            "ntpd-net could not be executed (status 127)");
}

}  // namespace
}  // namespace ntpd::clock
