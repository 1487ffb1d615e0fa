// Interop, interleaved mode (RFC 9769; issue 4): chronyd's `xleave` is
// negotiated and used in both directions on loopback in one namespace.
// (a) our client (`server 127.0.0.1 iburst xleave`) against chronyd
//     serving: our log reports samples computed from interleaved replies;
// (b) chronyd as client (`server 127.0.0.1 iburst xleave`) against our
//     server: chronyd's measurements log marks its samples interleaved
//     ("4I" in the mode column) rather than basic ("4B").
// Both with |offset| < 1 ms, kernel transmit timestamps seen on our side;
// and against ntpsec (no interleaved client/server) our client falls back. Without kernel transmit
// timestamps either side would still interleave (with user-space times), so a failure here means
// the on-wire negotiation itself is wrong.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tests/interop/interop_fixture.h"

namespace ntpd::interop {
namespace {

constexpr std::int64_t kMaxOffsetNs = 1'000'000;
constexpr int kWantedInterleaved = 3;

// "PEER: 127.0.0.1: interleaved sample N (RFC 9769): offset N ns, delay N ns"
struct InterleavedLine {
  std::int64_t offset_ns = 0;
  std::int64_t delay_ns = 0;
};
std::vector<InterleavedLine> parse_interleaved(std::string_view log, const std::string& server) {
  std::vector<InterleavedLine> out;
  const std::string prefix = "PEER: " + server + ": interleaved sample ";
  for (const std::string& line : systest::split_lines(log)) {
    const std::size_t at = line.find(prefix);
    if (at == std::string::npos) continue;
    unsigned long long n = 0;
    long long offset = 0, delay = 0;
    if (std::sscanf(line.c_str() + at + prefix.size(),
                    "%llu (RFC 9769): offset %lld ns, delay %lld ns", &n, &offset, &delay) == 3) {
      out.push_back({offset, delay});
    }
  }
  return out;
}

// Rows of chronyd's measurements.log for `address`: the mode column is the
// third field from the end ("4I" interleaved, "4B" basic), offset the 12th.
struct ChronyRow {
  bool interleaved = false;
  double offset_s = 0;
};
std::vector<ChronyRow> chrony_rows(std::string_view log, const std::string& address) {
  std::vector<ChronyRow> rows;
  for (const std::string& line : systest::split_lines(log)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string field; in >> field;) f.push_back(field);
    if (f.size() < 16 || f[2] != address) continue;
    const std::string& mode = f[f.size() - 3];
    if (mode.size() != 2 || (mode[1] != 'I' && mode[1] != 'B')) continue;
    rows.push_back({mode[1] == 'I', std::strtod(f[11].c_str(), nullptr)});
  }
  return rows;
}

// Our client on 127.0.0.2 asking 127.0.0.1 for interleaved mode.
constexpr char kOurXleaveClientConfig[] =
    "server 127.0.0.1 iburst minpoll 4 xleave\n"
    "restrict default nomodify notrap nopeer noquery\n"
    "restrict 127.0.0.1\n";
constexpr char kLoopbackRestrict[] =
    "restrict default nomodify notrap nopeer noquery\n"
    "restrict 127.0.0.0 mask 255.0.0.0\n";

class XleaveInteropTest : public InteropTest {
 protected:
  // Starts our xleave client and waits (30 s at most) until its log holds
  // kWantedInterleaved interleaved samples from 127.0.0.1; each must be
  // within kMaxOffsetNs. `also_show`: another log for a failure message.
  void expect_interleaved_client(const std::string& name, const std::string& also_show,
                                 OurDaemon* ours, std::vector<InterleavedLine>* samples) {
    std::string error;
    *ours = start_our_ntpd(ns_, name, "127.0.0.2", kOurXleaveClientConfig, &error);
    ASSERT_GT(ours->pid, 0) << error;
    systest::wait_until(milliseconds(30000), [&] {
      *samples = parse_interleaved(systest::read_file(ours->log_path).value_or(""), "127.0.0.1");
      return samples->size() >= kWantedInterleaved;
    });
    ASSERT_GE(samples->size(), static_cast<std::size_t>(kWantedInterleaved))
        << "our client did not get interleaved replies:\n"
        << systest::read_file(ours->log_path).value_or("")
        << systest::read_file(ours->output_path).value_or("") << "\n"
        << also_show << ":\n"
        << systest::read_file(also_show).value_or("");
    for (const InterleavedLine& s : *samples) {
      EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << "offset " << s.offset_ns << " ns";
      EXPECT_GT(s.delay_ns, 0);
      EXPECT_LT(s.delay_ns, kMaxOffsetNs) << "delay " << s.delay_ns << " ns";
    }
  }
};

// (a) chronyd serves on 127.0.0.1; our client on 127.0.0.2 asks for
// interleaved mode. chronyd 4.3 answers interleaved once it has saved the
// receive timestamp our previous request got.
TEST_F(XleaveInteropTest, OurClientUsesInterleavedModeWithChronyd) {
  PeerDaemon chronyd;
  ASSERT_NO_FATAL_FAILURE(
      start_chronyd("local stratum 8\n"
                    "allow 127.0.0.0/8\n"
                    "bindaddress 127.0.0.1\n"
                    "port 123\n"
                    "cmdport 0\n"
                    "bindcmdaddress /\n",
                    &chronyd));
  ASSERT_NO_FATAL_FAILURE(
      expect_serving("127.0.0.1", 8, milliseconds(10000), {chronyd.output_path}));

  OurDaemon ours;
  std::vector<InterleavedLine> samples;
  ASSERT_NO_FATAL_FAILURE(expect_interleaved_client("ours", chronyd.output_path, &ours, &samples));
  const std::string log = systest::read_file(ours.log_path).value_or("");
  EXPECT_NE(log.find("PEER: server 127.0.0.1 iburst xleave"), std::string::npos) << log;
  // T1 came from the kernel's transmit timestamp, inside the sandbox.
  EXPECT_NE(log.find("PEER: 127.0.0.1: kernel transmit timestamps in use"), std::string::npos)
      << log;
  std::printf(
      "our client: %zu interleaved samples from chronyd, first offset %lld ns, delay %lld "
      "ns\n",
      samples.size(), static_cast<long long>(samples.front().offset_ns),
      static_cast<long long>(samples.front().delay_ns));
  // The samples reach the discipline: the client synchronizes as usual.
  bool synced = false;
  poll_until(
      ns_.pid(), "127.0.0.2", milliseconds(30000),
      [](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == 9; }, &synced);
  EXPECT_TRUE(synced) << systest::read_file(ours.log_path).value_or("");
  EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
  EXPECT_TRUE(ns_.alive(chronyd.pid)) << systest::read_file(chronyd.output_path).value_or("");
}

// Fallback: ntpsec's ntpd answers client requests in basic mode only (its
// interleaved modes are symmetric and broadcast). Our client with xleave
// asks for interleaved mode, gets basic replies, and uses them as such.
TEST_F(XleaveInteropTest, OurXleaveClientFallsBackToBasicWithNtpsec) {
  PeerDaemon ntpsec;
  ASSERT_NO_FATAL_FAILURE(start_ntpsec(kNtpsecOrphanConfig, &ntpsec));
  ASSERT_NO_FATAL_FAILURE(
      expect_serving("127.0.0.1", 8, milliseconds(10000), {ntpsec.output_path}));

  std::string error;
  const OurDaemon ours = start_our_ntpd(ns_, "ours", "127.0.0.2", kOurXleaveClientConfig, &error);
  ASSERT_GT(ours.pid, 0) << error;
  bool synced = false;
  poll_until(
      ns_.pid(), "127.0.0.2", milliseconds(30000),
      [](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == 9; }, &synced);
  const std::string log = systest::read_file(ours.log_path).value_or("");
  ASSERT_TRUE(synced) << "our xleave client did not synchronize to ntpsec:\n" << log;
  const auto samples = parse_samples(log);
  ASSERT_FALSE(samples.empty()) << log;
  for (const SampleLine& s : samples) EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs);
  EXPECT_TRUE(parse_interleaved(log, "127.0.0.1").empty()) << log;
  std::printf("our xleave client: %zu basic samples from ntpsec, none interleaved\n",
              samples.size());
  EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
  EXPECT_TRUE(ns_.alive(ntpsec.pid)) << systest::read_file(ntpsec.output_path).value_or("");
}

// (b) our server on 127.0.0.1 (local clock, stratum 11); chronyd -x as a
// client with xleave on 127.0.0.2, polling every second.
TEST_F(XleaveInteropTest, ChronydClientUsesInterleavedModeWithOurServer) {
  OurDaemon ours;
  ASSERT_NO_FATAL_FAILURE(
      start_our_local_clock_server("ours", "127.0.0.1", kLoopbackRestrict, &ours));

  PeerDaemon chronyd;
  ASSERT_NO_FATAL_FAILURE(
      start_chronyd("server 127.0.0.1 iburst xleave minpoll 0 maxpoll 0\n"
                    "bindacqaddress 127.0.0.2\n"
                    "port 0\n"
                    "cmdport 0\n"
                    "bindcmdaddress /\n"
                    "log measurements rawmeasurements\n"
                    "logdir " +
                        ns_.dir().path() + "\n",
                    &chronyd));
  const std::string measurements_path = ns_.dir().file("measurements.log");
  std::vector<ChronyRow> rows;
  auto interleaved = [&] {
    int n = 0;
    for (const ChronyRow& r : rows) n += r.interleaved ? 1 : 0;
    return n;
  };
  systest::wait_until(milliseconds(30000), [&] {
    rows = chrony_rows(systest::read_file(measurements_path).value_or(""), "127.0.0.1");
    return interleaved() >= kWantedInterleaved;
  });
  const std::string measurements = systest::read_file(measurements_path).value_or("");
  ASSERT_GE(interleaved(), kWantedInterleaved)
      << "chronyd did not use interleaved mode with our server:\n"
      << measurements << systest::read_file(chronyd.output_path).value_or("") << "\nour log:\n"
      << systest::read_file(ours.log_path).value_or("");
  int checked = 0;
  for (const ChronyRow& r : rows) {
    if (!r.interleaved) continue;
    EXPECT_LT(std::fabs(r.offset_s), kMaxOffsetNs * 1e-9) << measurements;
    ++checked;
  }
  std::printf("chronyd: %zu measurements of our server, %d interleaved\n", rows.size(), checked);
  // The transmit times our interleaved replies carried came from the kernel.
  const std::string our_log = systest::read_file(ours.log_path).value_or("");
  EXPECT_NE(our_log.find("IO: kernel transmit timestamps refine server replies"), std::string::npos)
      << our_log;
  EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
  EXPECT_TRUE(ns_.alive(chronyd.pid)) << systest::read_file(chronyd.output_path).value_or("");
}

// Both halves of ours: our client with xleave against our server.
TEST_F(XleaveInteropTest, OurClientUsesInterleavedModeWithOurServer) {
  OurDaemon server;
  ASSERT_NO_FATAL_FAILURE(
      start_our_local_clock_server("server", "127.0.0.1", kLoopbackRestrict, &server));

  OurDaemon client;
  std::vector<InterleavedLine> samples;
  ASSERT_NO_FATAL_FAILURE(expect_interleaved_client("client", server.log_path, &client, &samples));
  std::printf(
      "our client: %zu interleaved samples from our server, first offset %lld ns, "
      "delay %lld ns\n",
      samples.size(), static_cast<long long>(samples.front().offset_ns),
      static_cast<long long>(samples.front().delay_ns));
  const std::string server_log = systest::read_file(server.log_path).value_or("");
  EXPECT_NE(server_log.find("IO: kernel transmit timestamps refine server replies"),
            std::string::npos)
      << server_log;
  EXPECT_TRUE(ns_.alive(server.pid));
  EXPECT_TRUE(ns_.alive(client.pid));
}

// Interleaved symmetric mode (RFC 9769 section 3): two of ours name each
// other with `peer ... xleave`. A (127.0.0.1) also has its local clock at
// stratum 10; B (127.0.0.2) follows A at stratum 12. Both logs report
// interleaved samples (each completes an exchange with the kernel transmit
// time of the peer's previous packet, sent from its listening socket).
TEST_F(XleaveInteropTest, TwoOfOursPeerInInterleavedSymmetricMode) {
  constexpr char kRestrict[] =
      "restrict default nomodify notrap noquery\n"
      "restrict 127.0.0.0 mask 255.0.0.0\n";
  std::string error;
  const OurDaemon a = start_our_ntpd(ns_, "a", "127.0.0.1",
                                     std::string("server 127.127.1.0\n"
                                                 "fudge 127.127.1.0 stratum 10\n"
                                                 "peer 127.0.0.2 minpoll 3 maxpoll 4 xleave\n") +
                                         kRestrict,
                                     &error);
  ASSERT_GT(a.pid, 0) << error;
  const OurDaemon b = start_our_ntpd(
      ns_, "b", "127.0.0.2", std::string("peer 127.0.0.1 minpoll 3 maxpoll 4 xleave\n") + kRestrict,
      &error);
  ASSERT_GT(b.pid, 0) << error;

  // B synchronizes to A (stratum 12, refid 127.0.0.1); A stays on its clock.
  bool synced = false;
  const auto reply = poll_until(
      ns_.pid(), "127.0.0.2", milliseconds(90000),
      [](const testlib::NtpReply& r) {
        return r.leap == 0 && r.stratum == 12 && r.refid == 0x7f000001;
      },
      &synced);
  ASSERT_TRUE(synced) << "B not synchronized to A; last reply: "
                      << (reply ? testlib::describe(*reply) : "none") << "\nA log:\n"
                      << systest::read_file(a.log_path).value_or("") << "\nB log:\n"
                      << systest::read_file(b.log_path).value_or("");
  const auto a_reply = testlib::query_ntp("127.0.0.1", 123, 500, ns_.pid());
  ASSERT_TRUE(a_reply.has_value());
  EXPECT_EQ(a_reply->stratum, 11) << testlib::describe(*a_reply);

  std::vector<InterleavedLine> a_samples;
  std::vector<InterleavedLine> b_samples;
  systest::wait_until(milliseconds(40000), [&] {
    a_samples = parse_interleaved(systest::read_file(a.log_path).value_or(""), "127.0.0.2");
    b_samples = parse_interleaved(systest::read_file(b.log_path).value_or(""), "127.0.0.1");
    return a_samples.size() >= kWantedInterleaved && b_samples.size() >= kWantedInterleaved;
  });
  const std::string a_log = systest::read_file(a.log_path).value_or("");
  const std::string b_log = systest::read_file(b.log_path).value_or("");
  ASSERT_GE(a_samples.size(), static_cast<std::size_t>(kWantedInterleaved)) << "A log:\n" << a_log;
  ASSERT_GE(b_samples.size(), static_cast<std::size_t>(kWantedInterleaved)) << "B log:\n" << b_log;
  for (const auto* samples : {&a_samples, &b_samples}) {
    for (const InterleavedLine& s : *samples) {
      EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << "offset " << s.offset_ns << " ns";
      EXPECT_GT(s.delay_ns, 0);
      EXPECT_LT(s.delay_ns, kMaxOffsetNs) << "delay " << s.delay_ns << " ns";
    }
  }
  std::printf(
      "A: %zu interleaved samples (first offset %lld ns, delay %lld ns); B: %zu (%lld ns, "
      "%lld ns)\n",
      a_samples.size(), static_cast<long long>(a_samples.front().offset_ns),
      static_cast<long long>(a_samples.front().delay_ns), b_samples.size(),
      static_cast<long long>(b_samples.front().offset_ns),
      static_cast<long long>(b_samples.front().delay_ns));
  // The peers' own packets left through the listening socket, and their
  // kernel transmit timestamps came back there.
  EXPECT_NE(a_log.find("PEER: 127.0.0.2: kernel transmit timestamps in use"), std::string::npos)
      << a_log;
  EXPECT_NE(b_log.find("PEER: 127.0.0.1: kernel transmit timestamps in use"), std::string::npos)
      << b_log;
  EXPECT_TRUE(ns_.alive(a.pid));
  EXPECT_TRUE(ns_.alive(b.pid));
}

// Interleaved symmetric mode with chronyd: chronyd (127.0.0.1, local
// stratum 8) and ours (127.0.0.2) name each other with `peer ... xleave`.
// Our log reports interleaved samples of chronyd and chronyd's
// measurements log marks its samples of us interleaved ("1I").
TEST_F(XleaveInteropTest, OursAndChronydPeerInInterleavedSymmetricMode) {
  const std::string conf = ns_.dir().file("chrony.conf");
  ASSERT_TRUE(systest::write_file(conf,
                                  "local stratum 8\n"
                                  "allow 127.0.0.0/8\n"
                                  "bindaddress 127.0.0.1\n"
                                  "cmdport 0\n"
                                  "bindcmdaddress /\n"
                                  "peer 127.0.0.2 minpoll 3 maxpoll 4 xleave\n"
                                  "log measurements\n"
                                  "logdir " +
                                      ns_.dir().path() + "\npidfile " +
                                      ns_.dir().file("chronyd.pid") + "\ndriftfile " +
                                      ns_.dir().file("chrony.drift") + "\n"));
  const std::string output = ns_.dir().file("chronyd.out");
  std::string error;
  const pid_t chronyd =
      ns_.spawn({peers_.chronyd(), "-x", "-d", "-u", "root", "-f", conf}, output, &error);
  ASSERT_GT(chronyd, 0) << error;
  const OurDaemon ours = start_our_ntpd(ns_, "ours", "127.0.0.2",
                                        "peer 127.0.0.1 minpoll 3 maxpoll 4 xleave\n"
                                        "restrict default nomodify notrap noquery\n"
                                        "restrict 127.0.0.0 mask 255.0.0.0\n",
                                        &error);
  ASSERT_GT(ours.pid, 0) << error;
  std::vector<InterleavedLine> samples;
  std::vector<ChronyRow> rows;
  const auto interleaved_rows = [&] {
    std::size_t n = 0;
    for (const ChronyRow& r : rows) n += r.interleaved ? 1 : 0;
    return n;
  };
  systest::wait_until(milliseconds(90000), [&] {
    samples = parse_interleaved(systest::read_file(ours.log_path).value_or(""), "127.0.0.1");
    rows = chrony_rows(systest::read_file(ns_.dir().file("measurements.log")).value_or(""),
                       "127.0.0.2");
    return samples.size() >= kWantedInterleaved && interleaved_rows() >= 2;
  });
  const std::string log = systest::read_file(ours.log_path).value_or("");
  ASSERT_GE(samples.size(), static_cast<std::size_t>(kWantedInterleaved))
      << "our log:\n"
      << log << "\nchronyd:\n"
      << systest::read_file(output).value_or("");
  for (const InterleavedLine& s : samples) {
    EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << "offset " << s.offset_ns << " ns";
    EXPECT_GT(s.delay_ns, 0);
  }
  EXPECT_GE(interleaved_rows(), 2u)
      << systest::read_file(ns_.dir().file("measurements.log")).value_or("(no measurements.log)");
  std::printf("ours: %zu interleaved samples of chronyd; chronyd: %zu of %zu rows interleaved\n",
              samples.size(), interleaved_rows(), rows.size());
  EXPECT_TRUE(ns_.alive(chronyd)) << systest::read_file(output).value_or("");
  EXPECT_TRUE(ns_.alive(ours.pid));
}

}  // namespace
}  // namespace ntpd::interop
