// Interop, our server side (issue 4): our ntpd on 127.0.0.1 serving its
// local clock at `fudge 127.127.1.0 stratum 10`, once synchronized, answers
// ntpsec's ntpdig (Debian 12's `sntp` and `ntpdate` are transitional
// packages for it) and `chronyd -Q` with LI 0, stratum 11, |offset| < 1 ms.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "tests/interop/interop_fixture.h"

namespace ntpd::interop {
namespace {

constexpr int kOurStratum = 11;  // fudge stratum 10, plus one
constexpr double kMaxOffsetS = 0.001;

constexpr char kOurServerConfig[] =
    "# interop: serve the undisciplined local clock\n"
    "server 127.127.1.0\n"
    "fudge 127.127.1.0 stratum 10\n"
    "restrict default nomodify notrap nopeer noquery\n"
    "restrict 127.0.0.1\n";

class ServerInteropTest : public InteropTest {
 protected:
  // Starts our server on 127.0.0.1 and waits (bounded, 30 s as issue 4
  // requires of the local clock) until it answers as synchronized.
  void start_our_server() {
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    ours_ = start_our_ntpd(ns_, "ours", "127.0.0.1", kOurServerConfig, &error);
    ASSERT_GT(ours_.pid, 0) << error;
    bool synced = false;
    const auto reply = poll_until(
        ns_.pid(), "127.0.0.1", milliseconds(30000),
        [](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == kOurStratum; },
        &synced);
    ASSERT_TRUE(synced) << "our server did not synchronize to its local clock within 30 s; "
                        << "last reply: " << (reply ? testlib::describe(*reply) : "none") << "\n"
                        << systest::read_file(ours_.log_path).value_or("");
    std::printf("our server synchronized in %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  OurDaemon ours_;
};

// ntpdig without -S/-s only reports; -j prints one line of JSON.
TEST_F(ServerInteropTest, NtpdigQueriesOurServer) {
  ASSERT_NO_FATAL_FAILURE(start_our_server());
  const std::string output = ns_.dir().file("ntpdig.out");
  std::string error;
  const auto status =
      ns_.run({"/usr/bin/python3", peers_.ntpdig(), "-j", "-t", "2", "127.0.0.1"}, output,
              milliseconds(15000), &error, {"PYTHONPATH=" + peers_.python_path()});
  const std::string text = systest::read_file(output).value_or("");
  ASSERT_TRUE(status.has_value()) << error << "\n" << text;
  ASSERT_EQ(*status, 0) << systest::describe_wait_status(*status) << "\n" << text;
  std::string json;
  for (const std::string& line : systest::split_lines(text)) {
    if (line.find("\"stratum\"") != std::string::npos) json = line;
  }
  ASSERT_FALSE(json.empty()) << "no JSON reply line from ntpdig:\n" << text;
  std::printf("ntpdig: %s\n", json.c_str());
  EXPECT_EQ(json_number(json, "stratum"), kOurStratum) << json;
  EXPECT_EQ(json_string(json, "leap"), "no-leap") << json;
  EXPECT_EQ(json_string(json, "ip"), "127.0.0.1") << json;
  EXPECT_EQ(json.find("\"adjusted\":true"), std::string::npos) << json;
  const auto offset = json_number(json, "offset");
  ASSERT_TRUE(offset.has_value()) << json;
  EXPECT_LT(std::fabs(*offset), kMaxOffsetS) << json;
}

// chronyd -Q ("print the offset, make no correction"): chrony sets its
// clock_control off for -Q, and in the user namespace it could not adjust
// the clock anyway. Stratum and leap come from its measurements log.
TEST_F(ServerInteropTest, ChronydQueryModeQueriesOurServer) {
  ASSERT_NO_FATAL_FAILURE(start_our_server());
  const std::string output = ns_.dir().file("chronyd-q.out");
  std::string error;
  const auto status =
      ns_.run({peers_.chronyd(), "-Q", "-u", "root", "-t", "10", "server 127.0.0.1 iburst",
               "pidfile " + ns_.dir().file("chronyd-q.pid"), "log measurements",
               "logdir " + ns_.dir().path()},
              output, milliseconds(20000), &error);
  const std::string text = systest::read_file(output).value_or("");
  ASSERT_TRUE(status.has_value()) << error << "\n" << text;
  ASSERT_EQ(*status, 0) << systest::describe_wait_status(*status) << "\n" << text;
  EXPECT_NE(text.find("Disabled control of system clock"), std::string::npos) << text;
  double wrong_by = 1e9;
  const std::size_t at = text.find("System clock wrong by ");
  ASSERT_NE(at, std::string::npos) << text;
  ASSERT_EQ(std::sscanf(text.c_str() + at, "System clock wrong by %lf seconds", &wrong_by), 1)
      << text;
  EXPECT_LT(std::fabs(wrong_by), kMaxOffsetS) << text;

  const std::string measurements =
      systest::read_file(ns_.dir().file("measurements.log")).value_or("");
  const auto m = last_chrony_measurement(measurements);
  ASSERT_TRUE(m.has_value()) << "no row in measurements.log:\n" << measurements;
  std::printf("chronyd -Q: wrong by %.9f s; last measurement %s leap %c stratum %d offset %.3e s\n",
              wrong_by, m->address.c_str(), m->leap, m->stratum, m->offset_s);
  EXPECT_EQ(m->address, "127.0.0.1");
  EXPECT_EQ(m->leap, 'N') << measurements;  // normal: LI 0
  EXPECT_EQ(m->stratum, kOurStratum) << measurements;
  EXPECT_LT(std::fabs(m->offset_s), kMaxOffsetS) << measurements;
}

}  // namespace
}  // namespace ntpd::interop
