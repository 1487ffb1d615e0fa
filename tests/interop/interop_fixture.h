// Interop-test support: finds the real peers that scripts/fetch-peers.sh
// extracted (chronyd, ntpsec's ntpd, ntpdig), runs them and our ntpd side by
// side in one private user+network namespace (loopback only, no power over
// the host's clock), and parses what they print. Every wait has a deadline;
// every process started here is SIGKILLed and reaped on teardown.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/system/daemon_fixture.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::interop {

using std::chrono::milliseconds;

// The extracted Debian packages: CACHE_DIR/root of scripts/fetch-peers.sh.
struct Peers {
  std::string root;
  std::string chronyd() const { return root + "/usr/sbin/chronyd"; }
  std::string ntpsec_ntpd() const { return root + "/usr/sbin/ntpd"; }
  std::string ntpdig() const { return root + "/usr/bin/ntpdig"; }
  std::string python_path() const { return root + "/usr/lib/python3/dist-packages"; }
};

// $NTPD_INTEROP_PEERS if set, else the build's default; nullopt (and why)
// unless every program is there.
std::optional<Peers> find_peers(std::string* why);

// One private user+network namespace, held open by an idle anchor process
// (launched with testlib::launch_in_namespace); programs are started in it
// by entering the anchor's user and network namespaces.
class Namespace {
 public:
  Namespace();
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  bool start(std::string* error);
  pid_t pid() const { return anchor_; }  // for query_ntp's netns_pid
  const systest::TempDir& dir() const { return dir_; }

  // Starts argv as root of the namespace with stdout+stderr appended to
  // output_path and `env` ("NAME=value") added to the environment; its pid,
  // or -1 with *error set.
  pid_t spawn(const std::vector<std::string>& argv, const std::string& output_path,
              std::string* error, const std::vector<std::string>& env = {});
  // spawn() and wait up to `timeout`: the wait status, or nullopt after
  // killing it (and *error says so).
  std::optional<int> run(const std::vector<std::string>& argv, const std::string& output_path,
                         milliseconds timeout, std::string* error,
                         const std::vector<std::string>& env = {});
  // True while `pid` (one of ours, not yet reaped) runs.
  bool alive(pid_t pid) const;

 private:
  systest::TempDir dir_;
  pid_t anchor_ = -1;
};

// Sends a request to address:123 in the namespace every 250 ms until a reply
// satisfies `good` or `timeout` passes. Returns the last reply seen (good or
// not; nullopt if none came at all); *ok tells whether it was good.
std::optional<testlib::NtpReply> poll_until(
    pid_t netns_pid, const std::string& address, milliseconds timeout,
    const std::function<bool(const testlib::NtpReply&)>& good, bool* ok);

// Sends one symmetric-active (mode 1) packet, LI 3 and stratum 16 as an
// unsynchronized peer sends, from an ephemeral port to address:123 in the
// namespace and waits up to timeout_ms for the packet that echoes its
// transmit timestamp as origin. Decoded like query_ntp (mode is the
// reply's: 2 for a symmetric-passive answer).
std::optional<testlib::NtpReply> query_symmetric(pid_t netns_pid, const std::string& address,
                                                 int timeout_ms);

// Our ntpd in the namespace: -n, --no-clock-control, nobody:nogroup, a
// jail, -I address, -D 2 (for SAMPLE lines), its log in the namespace dir.
struct OurDaemon {
  pid_t pid = -1;
  std::string log_path;
  std::string output_path;
};
OurDaemon start_our_ntpd(Namespace& ns, const std::string& name, const std::string& address,
                         const std::string& config_text, std::string* error);

// The discipline's input as our clock process logs it at -D 2:
// "SAMPLE: offset N ns, delay N ns, jitter N ns, stratum N".
struct SampleLine {
  std::int64_t offset_ns = 0;
  std::int64_t delay_ns = 0;
  unsigned stratum = 0;
};
std::vector<SampleLine> parse_samples(std::string_view log);

// A number or a string value of "key" in one line of flat JSON (ntpdig -j).
std::optional<double> json_number(std::string_view json, std::string_view key);
std::optional<std::string> json_string(std::string_view json, std::string_view key);

// The last row of chronyd's measurements.log.
struct ChronyMeasurement {
  std::string address;
  char leap = '?';  // N normal, +/- leap second pending, ? unsynchronised
  int stratum = -1;
  double offset_s = 0;
};
std::optional<ChronyMeasurement> last_chrony_measurement(std::string_view log);

// ntpsec's ntpd serving on 127.0.0.1 only (our ntpd binds 127.0.0.2:123
// without SO_REUSEADDR, so ntpsec must not take the wildcard address). Its
// LOCAL refclock takes minutes to synchronize, so it serves in orphan mode,
// synchronized at stratum 8 within a second (orphanwait 1).
inline constexpr char kNtpsecOrphanConfig[] =
    "tos orphan 8 orphanwait 1\n"
    "interface ignore wildcard\n"
    "interface listen 127.0.0.1\n"
    "restrict default kod limited nomodify noquery\n"
    "restrict 127.0.0.0 mask 255.0.0.0\n";

// A test that skips unless it runs as root and the peers are fetched, with
// a started Namespace. TearDown fails the test if any program's output in
// the namespace directory (*.out) holds an ASan/UBSan report.
class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A real peer daemon started in the namespace.
  struct PeerDaemon {
    pid_t pid = -1;
    std::string output_path;  // its stdout+stderr
    std::string log_path;     // ntpsec's -l log (empty for chronyd)
  };
  // chronyd -x -d -u root (root of the namespace: Debian's default user
  // _chrony is absent) on `config_text` plus a pidfile line, written to
  // chrony.conf in the namespace dir; output in chronyd.out. Fails the test
  // (fatally) if it cannot be started.
  void start_chronyd(const std::string& config_text, PeerDaemon* out);
  // ntpsec's ntpd -n on `config_text` (ntpsec.conf), logging to ntpsec.log,
  // output in ntpsec.out. Fails the test (fatally) if it cannot be started.
  void start_ntpsec(const std::string& config_text, PeerDaemon* out);
  // Waits up to `timeout` until address:123 answers synchronized (LI 0) at
  // `stratum`; otherwise fails the test (fatally) with the last reply and
  // the contents of `show_files`.
  void expect_serving(const std::string& address, int stratum, milliseconds timeout,
                      const std::vector<std::string>& show_files);
  // Our ntpd on `address` serving its local clock (127.127.1.0 fudged to
  // stratum 10) with `more_config` appended; waits up to 30 s until it
  // answers synchronized at stratum 11. Fails the test (fatally) otherwise.
  void start_our_local_clock_server(const std::string& name, const std::string& address,
                                    const std::string& more_config, OurDaemon* out);

  Peers peers_;
  Namespace ns_;
};

std::string ipv4_refid_text(std::uint32_t refid);  // "127.0.0.1"

}  // namespace ntpd::interop
