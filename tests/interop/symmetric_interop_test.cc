// Interop, symmetric mode (issue 4): two instances of ours peer in modes
// 1/2 (a `peer` line on one side, a passive answer on the other), and ours
// peers with chronyd with `peer` lines on both sides (modes 1/1). Symmetric
// associations take no iburst, so these run at minpoll 3 and need about four
// exchanges before the peer is fit; bounds are 90 s. ntpsec cannot take
// part: Debian 12's ntpsec treats `peer` as `server` ("peer deprecated").
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tests/interop/interop_fixture.h"

namespace ntpd::interop {
namespace {

using std::chrono::steady_clock;

constexpr std::uint32_t kRefid127001 = 0x7f000001;
constexpr std::uint32_t kRefidLocalClock = 0x7f7f0100;  // 127.127.1.0
constexpr std::int64_t kMaxOffsetNs = 1'000'000;

// Peering allowed from loopback (no nopeer), as a symmetric pair needs.
constexpr char kRestrict[] =
    "restrict default nomodify notrap noquery\n"
    "restrict 127.0.0.0 mask 255.0.0.0\n";

class SymmetricInteropTest : public InteropTest {
 protected:
  // Waits until our daemon at `address` answers synchronized at `stratum`
  // with `refid`, then checks its SAMPLE lines.
  void expect_synchronized(const OurDaemon& ours, const std::string& address, int stratum,
                           std::uint32_t refid, milliseconds timeout,
                           steady_clock::time_point start, const std::string& what) {
    bool synced = false;
    const auto reply = poll_until(
        ns_.pid(), address, timeout,
        [&](const testlib::NtpReply& r) {
          return r.leap == 0 && r.stratum == stratum && r.refid == refid;
        },
        &synced);
    const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
    const std::string log = systest::read_file(ours.log_path).value_or("");
    ASSERT_TRUE(synced) << what << ": no synchronized reply at stratum " << stratum << " refid "
                        << ipv4_refid_text(refid) << " within " << timeout.count()
                        << " ms; last reply: " << (reply ? testlib::describe(*reply) : "none")
                        << "\nlog:\n"
                        << log;
    std::printf("%s: synchronized in %.1f s: %s\n", what.c_str(), seconds,
                testlib::describe(*reply).c_str());
    std::vector<SampleLine> samples;
    systest::wait_until(milliseconds(2000), [&] {
      samples = parse_samples(systest::read_file(ours.log_path).value_or(""));
      return !samples.empty();
    });
    ASSERT_FALSE(samples.empty()) << "no SAMPLE line in the log of " << what << ":\n" << log;
    for (const SampleLine& s : samples) {
      EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << what << ": offset " << s.offset_ns;
      EXPECT_EQ(s.stratum, static_cast<unsigned>(stratum - 1)) << what;
    }
  }
};

// A (127.0.0.1) serves its local clock and has no association for B; B
// (127.0.0.2) has `peer 127.0.0.1`. B sends mode 1, A answers mode 2, and
// B follows A at stratum 12 while A stays on its local clock.
TEST_F(SymmetricInteropTest, TwoOfOursPeerInModesOneAndTwo) {
  const auto start = steady_clock::now();
  std::string error;
  const OurDaemon a = start_our_ntpd(
      ns_, "a", "127.0.0.1",
      std::string("server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n") + kRestrict, &error);
  ASSERT_GT(a.pid, 0) << error;
  const OurDaemon b =
      start_our_ntpd(ns_, "b", "127.0.0.2",
                     std::string("peer 127.0.0.1 minpoll 3 maxpoll 4\n") + kRestrict, &error);
  ASSERT_GT(b.pid, 0) << error;
  ASSERT_NO_FATAL_FAILURE(expect_synchronized(a, "127.0.0.1", 11, kRefidLocalClock,
                                              milliseconds(30000), start, "A (local clock)"));

  // A symmetric-active packet to A gets a symmetric-passive answer.
  const auto passive = query_symmetric(ns_.pid(), "127.0.0.1", 1000);
  ASSERT_TRUE(passive.has_value()) << "A did not answer a mode 1 packet";
  EXPECT_EQ(passive->mode, 2) << testlib::describe(*passive);
  EXPECT_EQ(passive->leap, 0) << testlib::describe(*passive);
  EXPECT_EQ(passive->stratum, 11) << testlib::describe(*passive);
  EXPECT_LT(std::abs(passive->offset_s), 0.001) << testlib::describe(*passive);

  ASSERT_NO_FATAL_FAILURE(expect_synchronized(b, "127.0.0.2", 12, kRefid127001, milliseconds(90000),
                                              start, "B (peer of A)"));
  // A did not start following B (no timing loop).
  const auto a_reply = testlib::query_ntp("127.0.0.1", 123, 500, ns_.pid());
  ASSERT_TRUE(a_reply.has_value());
  EXPECT_EQ(a_reply->stratum, 11) << testlib::describe(*a_reply);
  EXPECT_EQ(a_reply->refid, kRefidLocalClock) << testlib::describe(*a_reply);
  EXPECT_TRUE(ns_.alive(a.pid));
  EXPECT_TRUE(ns_.alive(b.pid));
}

// chronyd (127.0.0.1, local stratum 8) and ours (127.0.0.2) name each other
// with `peer`: both send mode 1. Ours follows chronyd at stratum 9; chronyd,
// which logs the mode of each packet it measures, saw mode 1 from us.
TEST_F(SymmetricInteropTest, OursAndChronydPeerSymmetrically) {
  const std::string conf = ns_.dir().file("chrony.conf");
  ASSERT_TRUE(systest::write_file(conf,
                                  "local stratum 8\n"
                                  "allow 127.0.0.0/8\n"
                                  "bindaddress 127.0.0.1\n"
                                  "cmdport 0\n"
                                  "bindcmdaddress /\n"
                                  "peer 127.0.0.2 minpoll 3 maxpoll 4\n"
                                  "log measurements\n"
                                  "logdir " +
                                      ns_.dir().path() +
                                      "\n"
                                      "pidfile " +
                                      ns_.dir().file("chronyd.pid") +
                                      "\n"
                                      "driftfile " +
                                      ns_.dir().file("chrony.drift") + "\n"));
  const std::string output = ns_.dir().file("chronyd.out");
  std::string error;
  const auto start = steady_clock::now();
  const pid_t chronyd =
      ns_.spawn({peers_.chronyd(), "-x", "-d", "-u", "root", "-f", conf}, output, &error);
  ASSERT_GT(chronyd, 0) << error;
  const OurDaemon ours =
      start_our_ntpd(ns_, "ours", "127.0.0.2",
                     std::string("peer 127.0.0.1 minpoll 3 maxpoll 4\n") + kRestrict, &error);
  ASSERT_GT(ours.pid, 0) << error;
  ASSERT_NO_FATAL_FAILURE(expect_synchronized(
      ours, "127.0.0.2", 9, kRefid127001, milliseconds(90000), start, "ours (peer of chronyd)"));

  // chronyd stays at its own stratum (it did not follow us back) ...
  const auto chrony_reply = testlib::query_ntp("127.0.0.1", 123, 500, ns_.pid());
  ASSERT_TRUE(chrony_reply.has_value());
  EXPECT_EQ(chrony_reply->stratum, 8) << testlib::describe(*chrony_reply);
  // ... and measured our packets as mode 1 once we were synchronized: the
  // last column group of measurements.log is "MTxRx", M the packet mode.
  std::string row;
  systest::wait_until(milliseconds(20000), [&] {
    for (const std::string& line : systest::split_lines(
             systest::read_file(ns_.dir().file("measurements.log")).value_or(""))) {
      if (line.find(" 127.0.0.2 ") != std::string::npos) row = line;
    }
    return !row.empty();
  });
  ASSERT_FALSE(row.empty()) << "chronyd logged no measurement of us:\n"
                            << systest::read_file(output).value_or("");
  std::printf("chronyd measured us: %s\n", row.c_str());
  std::istringstream fields(row);
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(token);
  ASSERT_GE(tokens.size(), 3u) << row;
  const std::string& mode_tx = tokens[tokens.size() - 3];  // "1B": mode 1, basic
  EXPECT_EQ(mode_tx.substr(0, 1), "1") << "MTxRx of: " << row;
  EXPECT_TRUE(ns_.alive(chronyd)) << systest::read_file(output).value_or("");
  EXPECT_TRUE(ns_.alive(ours.pid));
}

}  // namespace
}  // namespace ntpd::interop
