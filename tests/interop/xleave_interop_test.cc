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

}  // namespace
}  // namespace ntpd::interop
