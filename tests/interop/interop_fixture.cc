// Implementation of interop_fixture.h: the namespace anchor, entering it
// with setns(2) to start peers and our daemon, and the output parsers.
#include "tests/interop/interop_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/unique_fd.h"
#include "tests/testlib/namespace_launch.h"

#ifndef NTPD_INTEROP_PEERS_DIR
#error "NTPD_INTEROP_PEERS_DIR must name the cache directory of scripts/fetch-peers.sh"
#endif

extern char** environ;

namespace ntpd::interop {
namespace {

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

constexpr std::uint64_t kUnixToNtpSeconds = 2208988800ULL;

std::uint64_t ntp_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const std::uint64_t seconds = static_cast<std::uint64_t>(ts.tv_sec) + kUnixToNtpSeconds;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(ts.tv_nsec) << 32) / 1000000000ULL;
  return (seconds << 32) | fraction;
}

double ntp_seconds(std::uint64_t t) {
  return static_cast<double>(t >> 32) + static_cast<double>(t & 0xffffffffULL) / 4294967296.0;
}

std::uint64_t read64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::optional<Peers> find_peers(std::string* why) {
  const char* from_env = std::getenv("NTPD_INTEROP_PEERS");
  const std::string cache =
      from_env != nullptr && *from_env != '\0' ? from_env : NTPD_INTEROP_PEERS_DIR;
  Peers peers{cache + "/root"};
  for (const std::string& program : {peers.chronyd(), peers.ntpsec_ntpd(), peers.ntpdig()}) {
    if (!executable(program)) {
      *why = "peers not fetched (" + program + " missing): run scripts/fetch-peers.sh " + cache +
             " or set NTPD_INTEROP_PEERS to its directory";
      return std::nullopt;
    }
  }
  if (!executable("/usr/bin/python3")) {
    *why = "ntpdig needs /usr/bin/python3";
    return std::nullopt;
  }
  return peers;
}

Namespace::Namespace() { systest::become_subreaper(); }

// SIGKILLs the anchor, everything below it and every child of this test
// (the programs spawn() started), then reaps them.
Namespace::~Namespace() { systest::kill_process_tree(anchor_); }

bool Namespace::start(std::string* error) {
  if (dir_.path().empty()) {
    *error = "cannot create a temporary directory";
    return false;
  }
  // Outlives any test (teardown kills it long before); idle, so it never
  // touches the network or the clock.
  const auto launched = testlib::launch_in_namespace({"/bin/sleep", "600"}, "", error);
  anchor_ = launched.pid;
  if (anchor_ <= 0) return false;
  // The namespace is ready (uid map written, lo up) once the child exec'd.
  const std::string comm = "/proc/" + std::to_string(anchor_) + "/comm";
  if (!systest::wait_until(milliseconds(5000),
                           [&] { return systest::read_file(comm).value_or("") == "sleep\n"; })) {
    *error = "the namespace anchor did not start";
    return false;
  }
  return true;
}

pid_t Namespace::spawn(const std::vector<std::string>& argv, const std::string& output_path,
                       std::string* error, const std::vector<std::string>& env) {
  if (anchor_ <= 0 || argv.empty()) {
    *error = "namespace not started";
    return -1;
  }
  // Everything the child needs is prepared here: after fork() it only makes
  // async-signal-safe calls.
  const std::string user_ns = "/proc/" + std::to_string(anchor_) + "/ns/user";
  const std::string net_ns = "/proc/" + std::to_string(anchor_) + "/ns/net";
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (const std::string& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    const int user_fd = ::open(user_ns.c_str(), O_RDONLY | O_CLOEXEC);
    const int net_fd = ::open(net_ns.c_str(), O_RDONLY | O_CLOEXEC);
    // The user namespace first: it owns the network namespace, and inside
    // it the clock-setting syscalls fail with EPERM.
    if (user_fd < 0 || net_fd < 0 || ::setns(user_fd, CLONE_NEWUSER) != 0) ::_exit(124);
    if (::setns(net_fd, CLONE_NEWNET) != 0) ::_exit(125);
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) ::_exit(126);
    const int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    if (!output_path.empty()) {
      const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (out >= 0) {
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
      }
    }
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

std::optional<int> Namespace::run(const std::vector<std::string>& argv,
                                  const std::string& output_path, milliseconds timeout,
                                  std::string* error, const std::vector<std::string>& env) {
  const pid_t pid = spawn(argv, output_path, error, env);
  if (pid < 0) return std::nullopt;
  int status = 0;
  const bool exited = systest::wait_until(
      timeout, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, milliseconds(10));
  if (exited) return status;
  *error = argv.front() + " did not exit within " + std::to_string(timeout.count()) + " ms";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

bool Namespace::alive(pid_t pid) const { return pid > 0 && !systest::process_gone(pid); }

std::optional<testlib::NtpReply> poll_until(
    pid_t netns_pid, const std::string& address, milliseconds timeout,
    const std::function<bool(const testlib::NtpReply&)>& good, bool* ok) {
  std::optional<testlib::NtpReply> last;
  *ok = systest::wait_until(
      timeout,
      [&] {
        auto reply = testlib::query_ntp(address, 123, 200, netns_pid);
        if (!reply) return false;
        last = reply;
        return good(*reply);
      },
      milliseconds(250));
  return last;
}

std::optional<testlib::NtpReply> query_symmetric(pid_t netns_pid, const std::string& address,
                                                 int timeout_ms) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(123);
  if (::inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1) return std::nullopt;
  common::UniqueFd fd;
  if (!testlib::with_network_namespace_of(
          netns_pid,
          [&] { fd = common::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }) ||
      !fd) {
    return std::nullopt;
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    return std::nullopt;
  }
  std::uint8_t request[48] = {};
  request[0] = (3 << 6) | (4 << 3) | 1;  // LI 3 (unsynchronized), version 4, mode 1
  request[1] = 16;                       // stratum: unsynchronized
  request[2] = 6;                        // poll 2^6 s
  request[3] = static_cast<std::uint8_t>(-20);
  const std::uint64_t t1 = ntp_now();
  for (int i = 0; i < 8; ++i) request[40 + i] = static_cast<std::uint8_t>(t1 >> (56 - 8 * i));
  if (::send(fd.get(), request, sizeof request, 0) != sizeof request) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    std::uint8_t reply[1024];
    const ssize_t n = ::recv(fd.get(), reply, sizeof reply, 0);
    const std::uint64_t t4 = ntp_now();
    if (n < 48 || read64(reply + 24) != t1) continue;
    testlib::NtpReply r;
    r.length = static_cast<std::size_t>(n);
    r.leap = reply[0] >> 6;
    r.version = (reply[0] >> 3) & 7;
    r.mode = reply[0] & 7;
    r.stratum = reply[1];
    r.poll = static_cast<std::int8_t>(reply[2]);
    r.precision = static_cast<std::int8_t>(reply[3]);
    r.refid = (std::uint32_t{reply[12]} << 24) | (std::uint32_t{reply[13]} << 16) |
              (std::uint32_t{reply[14]} << 8) | reply[15];
    r.origin = t1;
    r.sent_transmit = t1;
    r.receive = read64(reply + 32);
    r.transmit = read64(reply + 40);
    const double d1 = ntp_seconds(t1), d2 = ntp_seconds(r.receive), d3 = ntp_seconds(r.transmit),
                 d4 = ntp_seconds(t4);
    r.offset_s = ((d2 - d1) + (d3 - d4)) / 2;
    r.delay_s = (d4 - d1) - (d3 - d2);
    return r;
  }
}

OurDaemon start_our_ntpd(Namespace& ns, const std::string& name, const std::string& address,
                         const std::string& config_text, std::string* error) {
  OurDaemon daemon;
  const std::string jail = ns.dir().file(name + ".jail");
  const std::string conf = ns.dir().file(name + ".conf");
  if (::mkdir(jail.c_str(), 0755) != 0 || ::chmod(jail.c_str(), 0755) != 0) {
    *error = "cannot create the jail " + jail;
    return daemon;
  }
  if (!systest::write_file(conf, config_text)) {
    *error = "cannot write " + conf;
    return daemon;
  }
  daemon.log_path = ns.dir().file(name + ".log");
  daemon.output_path = ns.dir().file(name + ".out");
  daemon.pid = ns.spawn({systest::bin_path("ntpd"), "-n", "--no-clock-control", "-c", conf, "-u",
                         "nobody:nogroup", "-i", jail, "-I", address, "-D", "2", "-l",
                         daemon.log_path, "-p", ns.dir().file(name + ".pid")},
                        daemon.output_path, error);
  return daemon;
}

std::vector<SampleLine> parse_samples(std::string_view log) {
  std::vector<SampleLine> samples;
  for (const std::string& line : systest::split_lines(log)) {
    const std::size_t at = line.find("SAMPLE: offset ");
    if (at == std::string::npos) continue;
    long long offset = 0, delay = 0, jitter = 0;
    unsigned stratum = 0;
    if (std::sscanf(line.c_str() + at,
                    "SAMPLE: offset %lld ns, delay %lld ns, jitter %lld ns, stratum %u", &offset,
                    &delay, &jitter, &stratum) == 4) {
      samples.push_back({offset, delay, stratum});
    }
  }
  return samples;
}

namespace {

// The text right after "key": in flat JSON, or npos.
std::size_t json_value_at(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const std::size_t at = json.find(needle);
  return at == std::string_view::npos ? at : at + needle.size();
}

}  // namespace

std::optional<double> json_number(std::string_view json, std::string_view key) {
  const std::size_t at = json_value_at(json, key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string rest(json.substr(at));
  char* end = nullptr;
  const double value = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str()) return std::nullopt;
  return value;
}

std::optional<std::string> json_string(std::string_view json, std::string_view key) {
  const std::size_t at = json_value_at(json, key);
  if (at == std::string_view::npos || at >= json.size() || json[at] != '"') return std::nullopt;
  const std::size_t end = json.find('"', at + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(json.substr(at + 1, end - at - 1));
}

std::optional<ChronyMeasurement> last_chrony_measurement(std::string_view log) {
  // Columns: Date Time IP L St 123 567 ABCD LP RP Score Offset ...
  std::optional<ChronyMeasurement> last;
  for (const std::string& line : systest::split_lines(log)) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    if (fields.size() < 12 || fields[3].size() != 1 || fields[0].find('-') != 4) continue;
    ChronyMeasurement m;
    m.address = fields[2];
    m.leap = fields[3][0];
    char* end = nullptr;
    m.stratum = static_cast<int>(std::strtol(fields[4].c_str(), &end, 10));
    if (*end != '\0') continue;
    m.offset_s = std::strtod(fields[11].c_str(), &end);
    if (*end != '\0') continue;
    last = m;
  }
  return last;
}

void InteropTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "interop tests need to run as root (namespaces)";
  std::string why;
  const auto peers = find_peers(&why);
  if (!peers) GTEST_SKIP() << why;
  peers_ = *peers;
  std::string error;
  ASSERT_TRUE(ns_.start(&error)) << error;
}

void InteropTest::TearDown() {
  if (ns_.dir().path().empty()) return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ns_.dir().path(), ec)) {
    if (entry.path().extension() != ".out") continue;
    const std::string text = systest::read_file(entry.path().string()).value_or("");
    for (const std::string& line : systest::sanitizer_reports(text)) {
      ADD_FAILURE() << entry.path().filename().string() << ": " << line;
    }
  }
}

void InteropTest::start_chronyd(const std::string& config_text, PeerDaemon* out) {
  const std::string conf = ns_.dir().file("chrony.conf");
  ASSERT_TRUE(
      systest::write_file(conf, config_text + "pidfile " + ns_.dir().file("chronyd.pid") + "\n"));
  out->output_path = ns_.dir().file("chronyd.out");
  std::string error;
  out->pid =
      ns_.spawn({peers_.chronyd(), "-x", "-d", "-u", "root", "-f", conf}, out->output_path, &error);
  ASSERT_GT(out->pid, 0) << error;
}

void InteropTest::start_ntpsec(const std::string& config_text, PeerDaemon* out) {
  const std::string conf = ns_.dir().file("ntpsec.conf");
  ASSERT_TRUE(systest::write_file(conf, config_text));
  out->log_path = ns_.dir().file("ntpsec.log");
  out->output_path = ns_.dir().file("ntpsec.out");
  std::string error;
  out->pid = ns_.spawn({peers_.ntpsec_ntpd(), "-n", "-c", conf, "-l", out->log_path, "-p",
                        ns_.dir().file("ntpsec.pid")},
                       out->output_path, &error);
  ASSERT_GT(out->pid, 0) << error;
}

void InteropTest::expect_serving(const std::string& address, int stratum, milliseconds timeout,
                                 const std::vector<std::string>& show_files) {
  bool serving = false;
  const auto reply = poll_until(
      ns_.pid(), address, timeout,
      [stratum](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == stratum; },
      &serving);
  if (serving) return;
  std::string shown;
  for (const std::string& path : show_files) {
    shown += "\n" + path + ":\n" + systest::read_file(path).value_or("");
  }
  FAIL() << address << " did not serve synchronized at stratum " << stratum
         << "; last reply: " << (reply ? testlib::describe(*reply) : "none") << shown;
}

void InteropTest::start_our_local_clock_server(const std::string& name, const std::string& address,
                                               const std::string& more_config, OurDaemon* out) {
  std::string error;
  *out = start_our_ntpd(ns_, name, address,
                        "server 127.127.1.0\n"
                        "fudge 127.127.1.0 stratum 10\n" +
                            more_config,
                        &error);
  ASSERT_GT(out->pid, 0) << error;
  ASSERT_NO_FATAL_FAILURE(expect_serving(address, 11, milliseconds(30000), {out->log_path}));
}

std::string ipv4_refid_text(std::uint32_t refid) {
  return std::to_string(refid >> 24) + "." + std::to_string((refid >> 16) & 0xff) + "." +
         std::to_string((refid >> 8) & 0xff) + "." + std::to_string(refid & 0xff);
}

}  // namespace ntpd::interop
