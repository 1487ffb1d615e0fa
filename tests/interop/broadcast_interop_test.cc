// Interop, broadcast (issue 4): a real chronyd broadcasting mode 5 packets
// (`broadcast 8 ADDRESS`) on a port-less bridge of the namespace is
// followed by our ntpd as `broadcastclient` (unauthenticated: chrony cannot
// sign broadcasts, so our client runs with `disable auth`), after its
// client/server calibration volley to chronyd.
#include <string>

#include "tests/interop/interop_fixture.h"

namespace ntpd::interop {
namespace {

constexpr int kPeerStratum = 8;
constexpr std::uint32_t kChronyRefid = 0x0a630001;  // 10.99.0.1

class BroadcastInteropTest : public InteropTest {
 protected:
  // A broadcast-capable interface with our two addresses, as in the system test.
  void set_up_bridge() {
    std::string error;
    const auto status = ns_.run({"/bin/sh", "-c",
                                 "ip link add br0 type bridge && "
                                 "ip addr add 10.99.0.1/24 brd + dev br0 && "
                                 "ip addr add 10.99.0.2/24 brd + dev br0 && ip link set br0 up"},
                                ns_.dir().file("ip.out"), milliseconds(5000), &error);
    if (!status || *status != 0) {
      GTEST_SKIP() << "cannot create a bridge in the namespace: " << error
                   << systest::read_file(ns_.dir().file("ip.out")).value_or("");
    }
  }
};

TEST_F(BroadcastInteropTest, OurBroadcastClientFollowsChronyd) {
  ASSERT_NO_FATAL_FAILURE(set_up_bridge());
  if (IsSkipped()) return;
  PeerDaemon chronyd;
  ASSERT_NO_FATAL_FAILURE(
      start_chronyd("local stratum 8\n"
                    "allow 10.99.0.0/24\n"
                    "bindaddress 10.99.0.1\n"
                    "port 123\n"
                    "broadcast 8 10.99.0.255\n"
                    "cmdport 0\n"
                    "bindcmdaddress /\n",
                    &chronyd));
  ASSERT_NO_FATAL_FAILURE(
      expect_serving("10.99.0.1", kPeerStratum, milliseconds(10000), {chronyd.output_path}));

  std::string error;
  const OurDaemon ours =
      start_our_ntpd(ns_, "ours", "10.99.0.2", "broadcastclient\ndisable auth\n", &error);
  ASSERT_GT(ours.pid, 0) << error;
  bool synced = false;
  const auto reply = poll_until(
      ns_.pid(), "10.99.0.2", milliseconds(60000),
      [](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == kPeerStratum + 1; },
      &synced);
  const std::string log = systest::read_file(ours.log_path).value_or("");
  ASSERT_TRUE(synced) << "last reply: " << (reply ? testlib::describe(*reply) : "none")
                      << "\nour log:\n"
                      << log << "\nchronyd:\n"
                      << systest::read_file(chronyd.output_path).value_or("");
  EXPECT_EQ(reply->refid, kChronyRefid) << ipv4_refid_text(reply->refid);
  EXPECT_NE(log.find("broadcast server 10.99.0.1 mobilized, unauthenticated"), std::string::npos)
      << log;
  EXPECT_NE(log.find("broadcast delay"), std::string::npos) << log;
  for (const SampleLine& s : parse_samples(log)) {
    EXPECT_LT(s.offset_ns < 0 ? -s.offset_ns : s.offset_ns, 1'000'000) << s.offset_ns;
  }
  EXPECT_TRUE(ns_.alive(chronyd.pid));
  EXPECT_TRUE(ns_.alive(ours.pid));
}

}  // namespace
}  // namespace ntpd::interop
