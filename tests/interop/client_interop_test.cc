// Interop, our client side (issue 4): our ntpd on 127.0.0.2 with
// --no-clock-control and `server 127.0.0.1 iburst minpoll 4` selects a real
// chronyd, or ntpsec's ntpd, serving on 127.0.0.1 in the same namespace as
// its system peer within 30 s, with |offset| < 1 ms.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/interop/interop_fixture.h"

namespace ntpd::interop {
namespace {

using std::chrono::steady_clock;

constexpr int kPeerStratum = 8;
constexpr std::uint32_t kLoopbackRefid = 0x7f000001;  // 127.0.0.1, the server's address
constexpr std::int64_t kMaxOffsetNs = 1'000'000;

constexpr char kOurClientConfig[] =
    "# interop: follow the peer on 127.0.0.1\n"
    "server 127.0.0.1 iburst minpoll 4\n"
    "restrict default nomodify notrap nopeer noquery\n"
    "restrict 127.0.0.1\n";

class ClientInteropTest : public InteropTest {
 protected:
  // Waits (bounded) until the peer on 127.0.0.1 answers synchronized at
  // kPeerStratum.
  void expect_peer_serving(const PeerDaemon& peer) {
    ASSERT_NO_FATAL_FAILURE(
        expect_serving("127.0.0.1", kPeerStratum, milliseconds(10000), {peer.output_path}));
  }

  // Starts our client and checks that it takes the peer as system peer.
  void expect_our_client_follows(const std::string& peer_name) {
    std::string error;
    const auto start = steady_clock::now();
    const OurDaemon ours = start_our_ntpd(ns_, "ours", "127.0.0.2", kOurClientConfig, &error);
    ASSERT_GT(ours.pid, 0) << error;
    bool synced = false;
    const auto reply = poll_until(
        ns_.pid(), "127.0.0.2", milliseconds(30000),
        [](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == kPeerStratum + 1; },
        &synced);
    const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
    const std::string log = systest::read_file(ours.log_path).value_or("");
    ASSERT_TRUE(synced) << "our client did not synchronize to " << peer_name
                        << " within 30 s; last reply: "
                        << (reply ? testlib::describe(*reply) : "none") << "\nlog:\n"
                        << log << systest::read_file(ours.output_path).value_or("");
    std::printf("our client synchronized to %s in %.1f s: %s\n", peer_name.c_str(), seconds,
                testlib::describe(*reply).c_str());
    RecordProperty("seconds_to_sync", std::to_string(seconds));
    EXPECT_EQ(reply->leap, 0);
    EXPECT_EQ(reply->stratum, kPeerStratum + 1);
    EXPECT_EQ(reply->refid, kLoopbackRefid) << "refid " << ipv4_refid_text(reply->refid);

    // The samples the clock process disciplined to (at least one, since the
    // daemon declared itself synchronized), all within 1 ms.
    std::vector<SampleLine> samples;
    systest::wait_until(milliseconds(2000), [&] {
      samples = parse_samples(systest::read_file(ours.log_path).value_or(""));
      return !samples.empty();
    });
    ASSERT_FALSE(samples.empty()) << "no SAMPLE line in our log:\n" << log;
    for (const SampleLine& s : samples) {
      EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << "offset " << s.offset_ns << " ns";
      EXPECT_EQ(s.stratum, static_cast<unsigned>(kPeerStratum));
    }
    std::printf("  %zu samples, first offset %lld ns, delay %lld ns\n", samples.size(),
                static_cast<long long>(samples.front().offset_ns),
                static_cast<long long>(samples.front().delay_ns));
    EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
  }
};

// chronyd -x never adjusts the clock (and could not in the user namespace);
// `local stratum 8` makes it serve at once.
TEST_F(ClientInteropTest, OurClientFollowsChronyd) {
  PeerDaemon chronyd;
  ASSERT_NO_FATAL_FAILURE(
      start_chronyd("local stratum 8\n"
                    "allow 127.0.0.0/8\n"
                    "bindaddress 127.0.0.1\n"
                    "port 123\n"
                    "cmdport 0\n"
                    "bindcmdaddress /\n"
                    "driftfile " +
                        ns_.dir().file("chrony.drift") + "\n",
                    &chronyd));
  ASSERT_NO_FATAL_FAILURE(expect_peer_serving(chronyd));
  EXPECT_NE(
      systest::read_file(chronyd.output_path).value_or("").find("Disabled control of system clock"),
      std::string::npos);
  ASSERT_NO_FATAL_FAILURE(expect_our_client_follows("chronyd"));
  EXPECT_TRUE(ns_.alive(chronyd.pid)) << systest::read_file(chronyd.output_path).value_or("");
}

// ntpsec's ntpd has no "don't touch the clock" option: in the user
// namespace its ntp_adjtime calls fail with EPERM, which it logs and
// survives. Its LOCAL refclock (127.127.1.0) is compiled in but takes
// minutes to synchronize (still unsynchronized after 90 s at minpoll 3), so
// it serves in orphan mode, synchronized within a second with orphanwait 1.
// It must not take the wildcard address: our ntpd binds 127.0.0.2:123
// without SO_REUSEADDR.
TEST_F(ClientInteropTest, OurClientFollowsNtpsec) {
  PeerDaemon ntpsec;
  ASSERT_NO_FATAL_FAILURE(start_ntpsec(kNtpsecOrphanConfig, &ntpsec));
  ASSERT_NO_FATAL_FAILURE(expect_peer_serving(ntpsec));
  ASSERT_NO_FATAL_FAILURE(expect_our_client_follows("ntpsec"));
  const std::string ntpsec_log = systest::read_file(ntpsec.log_path).value_or("");
  EXPECT_NE(ntpsec_log.find("ntp_adjtime: Operation not permitted"), std::string::npos)
      << "ntpsec should have been refused the clock:\n"
      << ntpsec_log;
  EXPECT_TRUE(ns_.alive(ntpsec.pid)) << ntpsec_log;
}

}  // namespace
}  // namespace ntpd::interop
