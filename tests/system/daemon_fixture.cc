// Implementation of daemon_fixture.h. Every wait is a poll with a deadline;
// every process started here is killed and reaped before the test ends.
#include "tests/system/daemon_fixture.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/testlib/namespace_launch.h"
#include "tests/testlib/ntp_query.h"

#ifndef NTPD_BIN_DIR
#error "NTPD_BIN_DIR must name the directory holding ntpd and ntpd-net"
#endif

namespace ntpd::systest {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t parse_hex(const std::string& text) {
  return static_cast<std::uint64_t>(std::strtoull(text.c_str(), nullptr, 16));
}

std::vector<long> parse_longs(const std::string& text) {
  std::istringstream in(text);
  std::vector<long> values;
  long value = 0;
  while (in >> value) values.push_back(value);
  return values;
}

// State letter and parent pid from /proc/PID/stat; the command name may
// contain spaces and parentheses, so parse after the last ')'.
bool read_stat(pid_t pid, char* state, pid_t* ppid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return false;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos || close + 4 > text->size()) return false;
  std::istringstream rest(text->substr(close + 2));
  long parent = 0;
  rest >> *state >> parent;
  *ppid = static_cast<pid_t>(parent);
  return static_cast<bool>(rest);
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  return pids;
}

void collect_descendants(pid_t root, std::set<pid_t>* out) {
  for (pid_t child : child_pids(root)) {
    if (out->insert(child).second) collect_descendants(child, out);
  }
}

}  // namespace

std::string bin_path(std::string_view program) {
  return std::string(NTPD_BIN_DIR) + "/" + std::string(program);
}

bool wait_until(milliseconds timeout, const std::function<bool()>& done, milliseconds step) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

std::vector<std::string> sanitizer_reports(std::string_view text) {
  std::vector<std::string> reports;
  for (const std::string& line : split_lines(text)) {
    if (line.find("ERROR: AddressSanitizer") != std::string::npos ||
        line.find("ERROR: LeakSanitizer") != std::string::npos ||
        line.find("runtime error:") != std::string::npos) {
      reports.push_back(line);
    }
  }
  return reports;
}

std::optional<ProcStatus> read_proc_status(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  ProcStatus status;
  for (const std::string& line : split_lines(*text)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (key == "Name") status.name = value;
    if (key == "State" && !value.empty()) status.state = value[0];
    if (key == "Uid") status.uids = parse_longs(value);
    if (key == "Gid") status.gids = parse_longs(value);
    if (key == "CapInh") status.cap_inh = parse_hex(value);
    if (key == "CapPrm") status.cap_prm = parse_hex(value);
    if (key == "CapEff") status.cap_eff = parse_hex(value);
    if (key == "CapBnd") status.cap_bnd = parse_hex(value);
    if (key == "CapAmb") status.cap_amb = parse_hex(value);
    if (key == "NoNewPrivs") status.no_new_privs = std::atoi(value.c_str());
    if (key == "Seccomp") status.seccomp = std::atoi(value.c_str());
    if (key == "Seccomp_filters") status.seccomp_filters = std::atoi(value.c_str());
  }
  return status;
}

std::vector<pid_t> child_pids(pid_t parent) {
  std::vector<pid_t> children;
  for (pid_t pid : all_pids()) {
    char state = '?';
    pid_t ppid = 0;
    if (read_stat(pid, &state, &ppid) && ppid == parent) children.push_back(pid);
  }
  std::sort(children.begin(), children.end());
  return children;
}

bool process_gone(pid_t pid) {
  int status = 0;
  const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
  if (reaped == pid) return true;
  char state = '?';
  pid_t ppid = 0;
  if (!read_stat(pid, &state, &ppid)) return true;
  return state == 'Z' || state == 'X';
}

std::string proc_link(pid_t pid, const std::string& link) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/" + link, ec);
  return ec ? std::string() : target.string();
}

TempDir::TempDir() {
  char pattern[] = "/tmp/ntpd-systest.XXXXXX";
  if (::mkdtemp(pattern) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

void kill_process_tree(pid_t root) {
  std::set<pid_t> victims;
  if (root > 0) {
    collect_descendants(root, &victims);
    victims.insert(root);
  }
  const auto deadline = Clock::now() + milliseconds(3000);
  for (;;) {
    // Orphans re-parented to us (we are a subreaper) are ours to end too.
    for (pid_t child : child_pids(::getpid())) victims.insert(child);
    bool any_left = false;
    for (pid_t pid : victims) {
      if (process_gone(pid)) continue;
      ::kill(pid, SIGKILL);
      any_left = true;
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (!any_left || Clock::now() >= deadline) return;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::optional<int> run_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, milliseconds timeout,
                                    std::string* error) {
  become_subreaper();
  const auto launched = testlib::launch_in_namespace(argv, output_path, error);
  if (launched.pid < 0) return std::nullopt;
  int status = 0;
  const bool exited = wait_until(
      timeout, [&] { return ::waitpid(launched.pid, &status, WNOHANG) == launched.pid; },
      milliseconds(5));
  if (!exited) {
    *error = argv.front() + " did not exit within " + std::to_string(timeout.count()) + " ms";
    kill_process_tree(launched.pid);
    return std::nullopt;
  }
  kill_process_tree(-1);  // whatever it left behind
  return status;
}

std::optional<int> run_shell_in_namespace(const std::string& script, const std::string& output_path,
                                          milliseconds timeout, std::string* error) {
  return run_in_namespace({"/bin/sh", "-c", script}, output_path, timeout, error);
}

std::string demo_config_text() {
  return "# system test: serve the undisciplined local clock, as packaging/demo\n"
         "server 127.127.1.0\n"
         "fudge 127.127.1.0 stratum 10\n"
         "restrict default nomodify notrap nopeer noquery\n"
         "restrict 127.0.0.1\n"
         "restrict ::1\n";
}

DaemonPair::DaemonPair() { become_subreaper(); }

DaemonPair::~DaemonPair() { kill_process_tree(clock_reaped_ ? -1 : clock_pid_); }

bool DaemonPair::start(const DaemonConfig& config, std::string* error) {
  if (dir_.path().empty()) {
    *error = "cannot create a temporary directory";
    return false;
  }
  if (::mkdir(jail_path().c_str(), 0755) != 0 || ::chmod(jail_path().c_str(), 0755) != 0) {
    *error = "cannot create the jail " + jail_path();
    return false;
  }
  const std::string conf = dir_.file("ntp.conf");
  if (!write_file(conf, demo_config_text())) {
    *error = "cannot write " + conf;
    return false;
  }
  std::vector<std::string> argv = {
      bin_path("ntpd"), "-n", "-c",        conf, "--no-clock-control", "-u",
      "nobody:nogroup", "-i", jail_path(), "-l", log_path(),           "-p",
      pid_path()};
  if (config.drift_text) {
    if (!write_file(drift_path(), *config.drift_text)) {
      *error = "cannot write " + drift_path();
      return false;
    }
    argv.insert(argv.end(), {"-f", drift_path()});
  }
  if (!config.net_program.empty()) argv.insert(argv.end(), {"--net-program", config.net_program});
  argv.insert(argv.end(), config.extra_args.begin(), config.extra_args.end());
  const auto launched = testlib::launch_in_namespace(argv, output_path(), error);
  clock_pid_ = launched.pid;
  return clock_pid_ > 0;
}

std::optional<pid_t> DaemonPair::wait_for_net(milliseconds timeout, pid_t other_than) const {
  std::optional<pid_t> found;
  wait_until(timeout, [&] {
    if (!clock_alive()) return true;
    for (pid_t child : child_pids(clock_pid_)) {
      if (child != other_than && !process_gone(child)) found = child;
    }
    return found.has_value();
  });
  return found;
}

bool DaemonPair::wait_for_answer(milliseconds timeout) const {
  return wait_until(
      timeout, [&] { return testlib::query_ntp("127.0.0.1", 123, 200, clock_pid_).has_value(); },
      milliseconds(10));
}

std::optional<int> DaemonPair::wait_for_clock_exit(milliseconds timeout) {
  if (clock_reaped_) return std::nullopt;
  int status = 0;
  const bool exited = wait_until(
      timeout, [&] { return ::waitpid(clock_pid_, &status, WNOHANG) == clock_pid_; },
      milliseconds(5));
  if (!exited) return std::nullopt;
  clock_reaped_ = true;
  return status;
}

bool DaemonPair::clock_alive() const {
  if (clock_reaped_ || clock_pid_ <= 0) return false;
  char state = '?';
  pid_t ppid = 0;
  // Not reaped here: the exit status belongs to wait_for_clock_exit().
  return read_stat(clock_pid_, &state, &ppid) && state != 'Z' && state != 'X';
}

std::string DaemonPair::log_text() const { return read_file(log_path()).value_or(""); }
std::string DaemonPair::output_text() const { return read_file(output_path()).value_or(""); }

bool DaemonPair::wait_for_log(std::string_view needle, milliseconds timeout) const {
  return wait_until(timeout, [&] { return log_text().find(needle) != std::string::npos; });
}

bool DaemonPair::wait_for_output(std::string_view needle, milliseconds timeout) const {
  return wait_until(timeout, [&] { return output_text().find(needle) != std::string::npos; });
}

void NamespaceDaemonsTest::SetUp() {
  NTPD_SYSTEST_REQUIRE_ROOT();
  become_subreaper();
  ::mkdir(dir_.file("jail").c_str(), 0755);
}

void NamespaceDaemonsTest::TearDown() {
  if (shell_pid_ > 0) kill_process_tree(shell_pid_);
}

std::string NamespaceDaemonsTest::daemon_command(const std::string& name,
                                                 const std::string& conf_text,
                                                 const std::string& address, bool debug) {
  EXPECT_TRUE(write_file(dir_.file(name + ".conf"), conf_text));
  return bin_path("ntpd") + " --no-clock-control -n -u nobody:nogroup -i " + dir_.file("jail") +
         " -c " + dir_.file(name + ".conf") + " -I " + address + (debug ? " -D 2" : "") + " -l " +
         dir_.file(name + ".log") + " & ";
}

void NamespaceDaemonsTest::launch_script(const std::string& script,
                                         const testlib::LaunchOptions& options) {
  std::string error;
  const auto launched = testlib::launch_in_namespace({"/bin/sh", "-c", script},
                                                     dir_.file("out.log"), options, &error);
  ASSERT_GT(launched.pid, 0) << error;
  shell_pid_ = launched.pid;
}

std::optional<testlib::NtpReply> NamespaceDaemonsTest::query(const std::string& address) const {
  return testlib::query_ntp(address, 123, 500, shell_pid_);
}

bool NamespaceDaemonsTest::wait_synchronized(const std::string& address, int stratum,
                                             milliseconds timeout) const {
  return wait_until(
      timeout,
      [&] {
        const auto reply = query(address);
        return reply && reply->leap == 0 && reply->stratum == stratum;
      },
      milliseconds(500));
}

}  // namespace ntpd::systest
