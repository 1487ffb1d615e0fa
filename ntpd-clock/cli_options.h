// ntpd's command line: a pure, deterministic parser from argv to typed Options.
// Owns the option table, the usage/help text and every range check on option
// values. It never touches a file, the environment, stdout/stderr or any
// global state (no getopt); printing and exiting are the caller's job.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ntpd::clock {

inline constexpr std::string_view kDefaultConfigPath = "/etc/ntp.conf";
inline constexpr std::string_view kDefaultJailDir = "/var/lib/ntpd/jail";
inline constexpr std::string_view kDefaultUser = "ntp";
// --server-threads: the most serving threads (and SO_REUSEPORT sockets per
// address) the clock process opens, and the default's cap.
inline constexpr int kMaxServerThreads = 16;
inline constexpr int kDefaultMaxServerThreads = 4;

// One -v/-V assignment "name=value" (ntpd's `setvar`). `listed_by_default`
// is true for -V/--dvar: the variable appears in the default mode 6 readvar
// answer. Names are [A-Za-z0-9_.-]; values are printable ASCII without '"'
// or ',' so that they cannot break a mode 6 variable list.
struct SystemVariable {
  std::string name;
  std::string value;
  bool listed_by_default = false;
  bool operator==(const SystemVariable&) const = default;
};

// Everything ntpd's command line can say. Paths are optional so that "not
// given" (ntp.conf or the built-in default applies) differs from "given".
struct Options {
  std::optional<std::string> config_path;  // -c, --configfile; default kDefaultConfigPath
  std::optional<std::string> drift_path;   // -f, --driftfile
  std::optional<std::string> key_path;     // -k, --keyfile
  std::optional<std::string> log_path;     // -l, --logfile
  std::optional<std::string> pid_path;     // -p, --pidfile
  std::optional<std::string> stats_dir;    // -s, --statsdir
  std::optional<std::string> jail_dir;     // -i, --jaildir; chroot of ntpd-net, kDefaultJailDir
  std::optional<std::string> net_program;  // --net-program (hidden; tests run another ntpd-net)
  std::string user{kDefaultUser};          // -u user[:group]; ntpd-net runs as this user
  std::optional<std::string> group;        // -u user:group; nullopt = the user's login group

  int debug_level = 0;            // -d (+1 each) and -D N (set), in command-line order; 0..255
  bool foreground = false;        // -n; also implied by -q and by a debug level > 0
  bool quit_after_set = false;    // -q: exit after the clock is first set
  bool panic_gate = false;        // -g: allow one step beyond the panic threshold
  bool force_step_once = false;   // -G: step (not slew) the first correction
  bool slew_only = false;         // -x: never step
  bool ipv4_only = false;         // -4
  bool ipv6_only = false;         // -6
  bool auth_required = true;      // -a (default) / -A: auth for broadcast, multicast, sym passive
  bool broadcast_client = false;  // -b: synchronize to broadcast servers
  bool multicast_client = false;  // -m: synchronize to multicast servers on 224.0.1.1
  std::vector<std::string> listen_interfaces;    // -I, repeatable: names or addresses
  bool no_virtual_ips = false;                   // -L: skip interfaces whose name has a ':'
  bool high_priority = false;                    // -N: run at high priority
  std::optional<int> priority;                   // -P: SCHED_FIFO priority, 1..99
  std::optional<double> broadcast_delay_s;       // -r: propagation delay, seconds, finite, >= 0
  std::vector<std::uint16_t> trusted_keys;       // -t, repeatable: key ids 1..65535
  std::vector<SystemVariable> system_variables;  // -v / -V, repeatable, in order
  int wait_sync_s = 0;  // -w: the starting process waits up to this long for the first sync
  std::optional<int> interface_update_interval_s;  // -U: 0 disables rescans; 0..86400
  bool no_clock_control = false;  // --no-clock-control: compute, never adjust the clock
  bool check_config = false;      // --check-config: validate the configuration and exit
  // --server-threads: sockets (and ntpd-net threads) per listen address
  // answering client requests; nullopt = online CPUs, at most 4.
  std::optional<int> server_threads;

  std::string config_path_or_default() const;
  std::string jail_dir_or_default() const;
  bool operator==(const Options&) const = default;
};

enum class CliAction {
  kRun,           // `options` is valid
  kUsageError,    // print `error` and usage_text() to stderr, exit 2
  kPrintHelp,     // print usage_text() to stdout, exit 0
  kPrintVersion,  // print version_text() to stdout, exit 0
};

struct CliParseResult {
  CliAction action = CliAction::kRun;
  Options options;    // meaningful only for kRun
  std::string error;  // for kUsageError: one line naming the offending option or argument
};

// Parses `args` (argv without argv[0]). Accepts ntpd's forms: "-c file",
// "-cfile", grouped flags "-gnq", "-gcfile", "--long", "--long=value",
// "--long value" and unambiguous prefixes of long names. Single-valued
// options may appear once; -d, -D, -g, -I, -t, -v, -V may repeat. Any
// operand (non-option argument) is an error. Never throws.
CliParseResult parse_cli(std::span<const std::string_view> args);

// The help text: synopsis and one line per option. Ends with a newline.
std::string usage_text(std::string_view program);

// "ntpd <version>\n".
std::string version_text();

}  // namespace ntpd::clock
