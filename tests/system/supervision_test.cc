// Supervision between the two processes: a killed ntpd-net is replaced, a
// killed clock process takes ntpd-net with it, and SIGTERM/SIGINT stop both
// cleanly (pid file removed, drift file rewritten atomically).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>

#include "tests/system/daemon_fixture.h"

namespace ntpd::systest {
namespace {

using std::chrono::steady_clock;

milliseconds since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

TEST(SupervisionTest, KilledNetIsReplacedAndAnswersWithinFiveSeconds) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({}, &error)) << error;
  ASSERT_TRUE(pair.wait_for_answer(milliseconds(5000))) << pair.log_text() << pair.output_text();
  const auto first = pair.wait_for_net(milliseconds(1000));
  ASSERT_TRUE(first.has_value());

  const auto killed_at = steady_clock::now();
  ASSERT_EQ(::kill(*first, SIGKILL), 0);
  ASSERT_TRUE(wait_until(milliseconds(1000), [&] { return process_gone(*first); }));
  const auto second = pair.wait_for_net(milliseconds(5000), *first);
  ASSERT_TRUE(second.has_value()) << pair.log_text();
  EXPECT_NE(*second, *first);
  EXPECT_TRUE(
      pair.wait_for_answer(std::max(milliseconds(5000) - since(killed_at), milliseconds(0))))
      << "no answer within 5 s of kill -9\n"
      << pair.log_text();
  EXPECT_TRUE(pair.wait_for_log("ntpd-net killed by SIGKILL", milliseconds(1000)))
      << pair.log_text();
  EXPECT_TRUE(pair.clock_alive());
  EXPECT_TRUE(sanitizer_reports(pair.output_text()).empty()) << pair.output_text();
}

TEST(SupervisionTest, KilledClockTakesNetWithItWithinOneSecond) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({}, &error)) << error;
  ASSERT_TRUE(pair.wait_for_answer(milliseconds(5000))) << pair.log_text() << pair.output_text();
  const auto net = pair.wait_for_net(milliseconds(1000));
  ASSERT_TRUE(net.has_value());

  const auto killed_at = steady_clock::now();
  ASSERT_EQ(::kill(pair.clock_pid(), SIGKILL), 0);
  const auto status = pair.wait_for_clock_exit(milliseconds(1000));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
      << describe_wait_status(*status);
  EXPECT_TRUE(wait_until(
      std::max(milliseconds(1000) - since(killed_at), milliseconds(0)),
      [&] { return process_gone(*net); }, milliseconds(5)))
      << "ntpd-net still runs " << since(killed_at).count() << " ms after its parent died";
}

struct StopCase {
  int signal;
  const char* name;
};

void PrintTo(const StopCase& stop, std::ostream* out) { *out << "SIG" << stop.name; }

std::string stop_case_name(const ::testing::TestParamInfo<StopCase>& param_info) {
  return param_info.param.name;
}

class StopSignalTest : public ::testing::TestWithParam<StopCase> {};

TEST_P(StopSignalTest, StopsBothAndKeepsPidAndDriftFilesRight) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({"", std::string("12.500\n"), {}}, &error)) << error;
  ASSERT_TRUE(pair.wait_for_answer(milliseconds(5000))) << pair.log_text() << pair.output_text();
  const auto net = pair.wait_for_net(milliseconds(1000));
  ASSERT_TRUE(net.has_value());
  const auto pid_text = read_file(pair.pid_path());
  ASSERT_TRUE(pid_text.has_value()) << "no pid file while running";
  EXPECT_EQ(std::atol(pid_text->c_str()), static_cast<long>(pair.clock_pid()));
  struct stat before {};
  ASSERT_EQ(::stat(pair.drift_path().c_str(), &before), 0);

  const auto signalled_at = steady_clock::now();
  ASSERT_EQ(::kill(pair.clock_pid(), GetParam().signal), 0);
  const auto status = pair.wait_for_clock_exit(milliseconds(3000));
  ASSERT_TRUE(status.has_value()) << "the clock process still runs 3 s after SIG" << GetParam().name
                                  << "\n"
                                  << pair.log_text();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
  EXPECT_TRUE(wait_until(std::max(milliseconds(3000) - since(signalled_at), milliseconds(0)),
                         [&] { return process_gone(*net); }))
      << "ntpd-net still runs 3 s after SIG" << GetParam().name;

  EXPECT_FALSE(file_exists(pair.pid_path())) << "pid file left behind";
  const auto drift = read_file(pair.drift_path());
  ASSERT_TRUE(drift.has_value()) << "drift file gone";
  char* end = nullptr;
  const double ppm = std::strtod(drift->c_str(), &end);
  EXPECT_EQ(ppm, 12.5) << *drift;
  EXPECT_EQ(std::string(end), "\n") << "trailing text in drift file: " << *drift;
  struct stat after {};
  ASSERT_EQ(::stat(pair.drift_path().c_str(), &after), 0);
  // Rewritten by rename(2) of a temporary: a new inode, and no temporary left.
  EXPECT_NE(after.st_ino, before.st_ino) << "drift file not rewritten (or rewritten in place)";
  EXPECT_FALSE(file_exists(pair.drift_path() + ".TEMP"));
  EXPECT_NE(pair.log_text().find("EXIT: ntpd stopped"), std::string::npos) << pair.log_text();
  // The clock process's exit path (and, under ASan, its leak check) is clean.
  EXPECT_TRUE(sanitizer_reports(pair.output_text()).empty()) << pair.output_text();
}

INSTANTIATE_TEST_SUITE_P(Signals, StopSignalTest,
                         ::testing::Values(StopCase{SIGTERM, "TERM"}, StopCase{SIGINT, "INT"}),
                         stop_case_name);

}  // namespace
}  // namespace ntpd::systest
