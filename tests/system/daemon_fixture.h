// System-test support: runs the real ntpd (clock process) and its ntpd-net
// as root of a private user+network namespace, reads their state from /proc,
// and on teardown SIGKILLs and reaps every process the test started (only
// those: our own children and their descendants). Never touches the host's
// clock: the daemon runs with --no-clock-control inside the namespace.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/testlib/namespace_launch.h"
#include "tests/testlib/ntp_query.h"

namespace ntpd::systest {

using std::chrono::milliseconds;

// Skips the current test unless it runs as real root (namespaces, uid maps).
#define NTPD_SYSTEST_REQUIRE_ROOT()                                           \
  do {                                                                        \
    if (::geteuid() != 0) GTEST_SKIP() << "system tests need to run as root"; \
  } while (false)

// Absolute path of a program in the build's bin directory.
std::string bin_path(std::string_view program);

// Polls `done` every `step` until it returns true (true) or `timeout` passes
// (false). Always evaluates `done` at least once.
bool wait_until(milliseconds timeout, const std::function<bool()>& done,
                milliseconds step = milliseconds(20));

std::optional<std::string> read_file(const std::string& path);
bool write_file(const std::string& path, std::string_view text);
bool file_exists(const std::string& path);
std::vector<std::string> split_lines(std::string_view text);
std::size_t count_occurrences(std::string_view text, std::string_view needle);
// Lines in which ASan, LSan (a leak) or UBSan reports an error; empty in a
// plain build and in a clean sanitizer run.
std::vector<std::string> sanitizer_reports(std::string_view text);

// The fields of /proc/PID/status the sandbox tests check.
struct ProcStatus {
  std::string name;
  char state = '?';
  std::vector<long> uids;  // real, effective, saved, filesystem
  std::vector<long> gids;
  std::uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
  int no_new_privs = -1;
  int seccomp = -1;
  int seccomp_filters = -1;
};
std::optional<ProcStatus> read_proc_status(pid_t pid);

// Pids whose parent is `parent` (scan of /proc/*/stat), ascending.
std::vector<pid_t> child_pids(pid_t parent);
// True once `pid` no longer runs: reaped (our child is reaped here), absent
// from /proc, or a zombie of some other parent.
bool process_gone(pid_t pid);
// The target of /proc/PID/<link> ("root", "cwd", "fd/3"), or "".
std::string proc_link(pid_t pid, const std::string& link);

// A fresh directory under /tmp (mode 0700, owned by root), removed with
// everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Makes this process the reaper of orphaned descendants, so that a daemon
// whose parent was killed is still ours to reap and to kill.
void become_subreaper();
// SIGKILLs `root` (if still unreaped) and every live descendant, and every
// child of this process, then reaps them, within about three seconds.
void kill_process_tree(pid_t root);

// Launches argv as root of a fresh namespace with stdout+stderr appended to
// output_path; waits up to `timeout` for it to exit and returns its wait
// status, or nullopt (after killing it) if it did not exit in time.
std::optional<int> run_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, milliseconds timeout,
                                    std::string* error);
// Same, for `/bin/sh -c script` (for redirections and same-namespace pairs).
std::optional<int> run_shell_in_namespace(const std::string& script, const std::string& output_path,
                                          milliseconds timeout, std::string* error);
// "exit 3", "signal 9", for assertion messages.
std::string describe_wait_status(int status);

// The demo server configuration: the undisciplined local clock at stratum 10.
std::string demo_config_text();

struct DaemonConfig {
  std::string net_program;                // --net-program; empty: ntpd-net beside ntpd
  std::optional<std::string> drift_text;  // written to the drift file and passed as -f
  std::vector<std::string> extra_args;
};

// One ntpd (with -n, -l, -p, a jail and nobody:nogroup) in its own
// namespace. Files live in a private TempDir.
class DaemonPair {
 public:
  DaemonPair();
  ~DaemonPair();
  DaemonPair(const DaemonPair&) = delete;
  DaemonPair& operator=(const DaemonPair&) = delete;

  bool start(const DaemonConfig& config, std::string* error);

  pid_t clock_pid() const { return clock_pid_; }
  // The current ntpd-net: the clock process's only child, once it exists
  // and differs from `other_than`. Nullopt if none appeared in time.
  std::optional<pid_t> wait_for_net(milliseconds timeout, pid_t other_than = -1) const;
  // Sends NTP requests to 127.0.0.1:123 in the namespace until one is
  // answered or `timeout` passes.
  bool wait_for_answer(milliseconds timeout) const;
  // Waits for the clock process to exit; its wait status, or nullopt.
  std::optional<int> wait_for_clock_exit(milliseconds timeout);
  bool clock_alive() const;

  std::string log_text() const;     // -l file
  std::string output_text() const;  // stdout + stderr of ntpd (and of ntpd-net)
  bool wait_for_log(std::string_view needle, milliseconds timeout) const;
  bool wait_for_output(std::string_view needle, milliseconds timeout) const;

  const TempDir& dir() const { return dir_; }
  std::string jail_path() const { return dir_.file("jail"); }
  std::string log_path() const { return dir_.file("ntpd.log"); }
  std::string pid_path() const { return dir_.file("ntpd.pid"); }
  std::string drift_path() const { return dir_.file("ntp.drift"); }
  std::string output_path() const { return dir_.file("output.txt"); }

 private:
  TempDir dir_;
  pid_t clock_pid_ = -1;
  bool clock_reaped_ = false;
};

// Several of our daemons (and helpers) started by one /bin/sh script in a
// fresh namespace, sharing a TempDir and its "jail"; checked from outside
// with NTP queries. SetUp skips unless root; TearDown kills the script's
// process tree.
class NamespaceDaemonsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes `conf_text` to NAME.conf and returns the script fragment that
  // runs ntpd on it in the background ("... & "): --no-clock-control, -n,
  // nobody:nogroup, the shared jail, -I address, the log in NAME.log, and
  // -D 2 (SAMPLE lines) with `debug`.
  std::string daemon_command(const std::string& name, const std::string& conf_text,
                             const std::string& address, bool debug);
  // Runs `script` with /bin/sh -c in a fresh namespace, output in out.log.
  void launch_script(const std::string& script, const testlib::LaunchOptions& options = {});

  std::optional<testlib::NtpReply> query(const std::string& address) const;
  // Waits (querying every 500 ms) until `address` answers synchronized
  // (LI 0) at `stratum`.
  bool wait_synchronized(const std::string& address, int stratum, milliseconds timeout) const;

  TempDir dir_;
  pid_t shell_pid_ = -1;
};

}  // namespace ntpd::systest
