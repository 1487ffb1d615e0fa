// ntpd's command line: the option table, the parser and the usage text.
// Pure: no I/O, no environment, no global state, no exceptions thrown on bad
// input. Every rejection names the option as "-c/--configfile".
#include "ntpd-clock/cli_options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

#ifndef NTPD_VERSION
#define NTPD_VERSION "unknown"
#endif

namespace ntpd::clock {
namespace {

// What an option does beyond setting a flag or a path.
enum class Effect {
  kSetFlag,
  kSetPath,
  kAuthReq,
  kAuthNoReq,
  kDebugUp,
  kDebugSet,
  kHelp,
  kVersion,
  kInterface,
  kPriority,
  kDelay,
  kTrustedKey,
  kUser,
  kUpdateInterval,
  kVar,
  kDvar,
  kWaitSync,
  kServerThreads,
  kReject
};

enum class Visibility { kListed, kHidden };

struct OptionSpec {
  char short_name = '\0';  // '\0' when the option has only a long name
  std::string_view long_name;
  std::string_view arg_name;  // empty for flags
  std::string_view help;      // for kReject: the one-line reason
  Effect effect = Effect::kSetFlag;
  bool Options::*flag = nullptr;                        // kSetFlag: set to true
  std::optional<std::string> Options::*path = nullptr;  // kSetPath
  bool repeatable = false;  // only meaningful for options with an argument
  Visibility visibility = Visibility::kListed;
};

using E = Effect;
using O = Options;
constexpr Visibility kHidden = Visibility::kHidden;

// ntpd 4.2.8's option set (long names as in ntpd and NTPsec), in usage order.
constexpr std::array kOptions = {
    OptionSpec{'4', "ipv4", "", "use IPv4 only", E::kSetFlag, &O::ipv4_only},
    OptionSpec{'6', "ipv6", "", "use IPv6 only", E::kSetFlag, &O::ipv6_only},
    OptionSpec{'a', "authreq", "", "require auth for broadcast, multicast, sym passive (default)",
               E::kAuthReq},
    OptionSpec{'A', "authnoreq", "", "do not require auth for those associations", E::kAuthNoReq},
    OptionSpec{'b', "bcastsync", "", "synchronize to broadcast servers", E::kSetFlag,
               &O::broadcast_client},
    OptionSpec{'c', "configfile", "FILE", "configuration file (default /etc/ntp.conf)", E::kSetPath,
               nullptr, &O::config_path},
    OptionSpec{'d', "debug-level", "", "increase the debug level (repeatable); implies -n",
               E::kDebugUp},
    OptionSpec{'D', "set-debug-level", "LEVEL", "set the debug level, 0..255", E::kDebugSet,
               nullptr, nullptr, true},
    OptionSpec{'f', "driftfile", "FILE", "frequency drift file", E::kSetPath, nullptr,
               &O::drift_path},
    OptionSpec{'g', "panicgate", "", "allow the first correction to exceed the panic threshold",
               E::kSetFlag, &O::panic_gate},
    OptionSpec{'G', "force-step-once", "", "step any initial offset correction", E::kSetFlag,
               &O::force_step_once},
    OptionSpec{'h', "help", "", "print this help and exit", E::kHelp},
    OptionSpec{'i', "jaildir", "DIR", "network process chroot (default /var/lib/ntpd/jail)",
               E::kSetPath, nullptr, &O::jail_dir},
    OptionSpec{'I', "interface", "IFACE", "listen on interface name or address (repeatable)",
               E::kInterface, nullptr, nullptr, true},
    OptionSpec{'k', "keyfile", "FILE", "symmetric keys file", E::kSetPath, nullptr, &O::key_path},
    OptionSpec{'l', "logfile", "FILE", "log to FILE instead of syslog", E::kSetPath, nullptr,
               &O::log_path},
    OptionSpec{'L', "novirtualips", "", "do not listen on virtual interfaces (names with ':')",
               E::kSetFlag, &O::no_virtual_ips},
    OptionSpec{'m', "multicastclient", "", "synchronize to multicast servers on 224.0.1.1",
               E::kSetFlag, &O::multicast_client},
    OptionSpec{'M', "modifymmtimer", "", "option -M/--modifymmtimer exists only on Windows",
               E::kReject, nullptr, nullptr, false, kHidden},
    OptionSpec{'n', "nofork", "", "do not fork; stay in the foreground", E::kSetFlag,
               &O::foreground},
    OptionSpec{'N', "nice", "", "run at high priority", E::kSetFlag, &O::high_priority},
    OptionSpec{'p', "pidfile", "FILE", "write the process id to FILE", E::kSetPath, nullptr,
               &O::pid_path},
    OptionSpec{'P', "priority", "N", "run at SCHED_FIFO priority N, 1..99", E::kPriority},
    OptionSpec{'q', "quit", "", "exit after the clock is first set", E::kSetFlag,
               &O::quit_after_set},
    OptionSpec{'r', "propagationdelay", "SECONDS", "broadcast/multicast propagation delay",
               E::kDelay},
    OptionSpec{'\0', "saveconfigquit", "",
               "option --saveconfigquit is not supported: there is no runtime configuration to "
               "save; use --check-config to validate a file",
               E::kReject, nullptr, nullptr, false, kHidden},
    OptionSpec{'s', "statsdir", "DIR", "directory for statistics files", E::kSetPath, nullptr,
               &O::stats_dir},
    OptionSpec{'t', "trustedkey", "KEY", "trust key id KEY, 1..65535 (repeatable)", E::kTrustedKey,
               nullptr, nullptr, true},
    OptionSpec{'u', "user", "USER[:GROUP]", "network process user[:group] (default ntp)", E::kUser},
    OptionSpec{'U', "updateinterval", "SECONDS", "interface rescan interval, 0 disables, 0..86400",
               E::kUpdateInterval},
    OptionSpec{'v', "var", "NAME=VALUE", "set a system variable (repeatable)", E::kVar, nullptr,
               nullptr, true},
    OptionSpec{'V', "dvar", "NAME=VALUE", "set a system variable listed by default (repeatable)",
               E::kDvar, nullptr, nullptr, true},
    OptionSpec{'w', "wait-sync", "SECONDS", "on start, wait up to SECONDS for first sync",
               E::kWaitSync},
    OptionSpec{'x', "slew", "", "slew only: never step the clock", E::kSetFlag, &O::slew_only},
    OptionSpec{'\0', "mdns", "",
               "option --mdns (mDNS registration) is not supported; -m here means multicast "
               "client",
               E::kReject, nullptr, nullptr, false, kHidden},
    OptionSpec{'\0', "version", "", "print the version and exit", E::kVersion},
    OptionSpec{'\0', "no-clock-control", "", "compute corrections, never adjust the clock",
               E::kSetFlag, &O::no_clock_control},
    OptionSpec{'\0', "server-threads", "N",
               "threads answering client requests, 1..16 (default: online CPUs, at most 4)",
               E::kServerThreads},
    OptionSpec{'\0', "check-config", "", "check the configuration and exit", E::kSetFlag,
               &O::check_config},
    OptionSpec{'\0', "net-program", "PATH", "", E::kSetPath, nullptr, &O::net_program, false,
               kHidden},
};

constexpr int kMaxDebugLevel = 255;
constexpr int kMinFifoPriority = 1;
constexpr int kMaxFifoPriority = 99;
constexpr int kMaxIntervalS = 86400;
constexpr std::size_t kMaxSystemVariableLength = 255;

bool takes_argument(const OptionSpec& spec) { return !spec.arg_name.empty(); }

std::string display_name(const OptionSpec& spec) {
  std::string name;
  if (spec.short_name != '\0') {
    name += '-';
    name += spec.short_name;
    name += '/';
  }
  name += "--";
  name += spec.long_name;
  return name;
}

const OptionSpec* find_short(char c) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.short_name == c) return &spec;
  }
  return nullptr;
}

enum class IntegerParse { kOk, kNotInteger, kTooLarge };

IntegerParse parse_integer(std::string_view text, long long* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  if (text.empty() || ptr != end) return IntegerParse::kNotInteger;
  if (ec == std::errc::result_out_of_range) return IntegerParse::kTooLarge;
  return ec == std::errc() ? IntegerParse::kOk : IntegerParse::kNotInteger;
}

bool is_variable_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool is_variable_value_char(char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != ','; }

class Parser {
 public:
  explicit Parser(std::span<const std::string_view> args) : args_(args) {}

  CliParseResult run() {
    while (next_ < args_.size() && !done()) {
      std::string_view arg = args_[next_++];
      if (arg == "--") {
        if (next_ < args_.size()) fail_operand(args_[next_]);
        break;
      }
      if (arg.starts_with("--")) {
        parse_long(arg.substr(2));
      } else if (arg.size() > 1 && arg[0] == '-') {
        parse_short_group(arg);
      } else {
        fail_operand(arg);
      }
    }
    if (!done()) check_combinations();
    CliParseResult result;
    result.action = action_;
    result.error = std::move(error_);
    if (action_ == CliAction::kRun) result.options = std::move(options_);
    return result;
  }

 private:
  bool done() const { return action_ != CliAction::kRun; }

  void fail(std::string message) {
    action_ = CliAction::kUsageError;
    error_ = std::move(message);
  }

  // Options of ntpd that this ntpd refuses, with the reason, before any
  // argument handling.
  bool rejected(const OptionSpec& spec) {
    if (spec.effect != Effect::kReject) return false;
    fail(std::string(spec.help));
    return true;
  }

  void fail_operand(std::string_view arg) {
    fail("unexpected argument '" + std::string(arg) + "' (ntpd takes only options)");
  }

  void fail_value(const OptionSpec& spec, std::string_view value, std::string_view why) {
    fail("option " + display_name(spec) + ": '" + std::string(value) + "' " + std::string(why));
  }

  // Exact long name first, then an unambiguous prefix of a listed name.
  const OptionSpec* find_long(std::string_view name) {
    for (const OptionSpec& spec : kOptions) {
      if (spec.long_name == name) return &spec;
    }
    std::vector<const OptionSpec*> matches;
    for (const OptionSpec& spec : kOptions) {
      if (spec.visibility == Visibility::kListed && spec.long_name.starts_with(name)) {
        matches.push_back(&spec);
      }
    }
    if (matches.size() == 1) return matches.front();
    if (matches.empty()) {
      fail("unknown option --" + std::string(name));
      return nullptr;
    }
    std::string candidates;
    for (const OptionSpec* spec : matches) {
      candidates += (candidates.empty() ? "--" : ", --") + std::string(spec->long_name);
    }
    fail("option --" + std::string(name) + " is ambiguous: " + candidates);
    return nullptr;
  }

  void parse_long(std::string_view body) {
    std::size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    if (name.empty()) {
      fail("unknown option --" + std::string(body));
      return;
    }
    const OptionSpec* spec = find_long(name);
    if (spec == nullptr || rejected(*spec)) return;
    if (!takes_argument(*spec)) {
      if (eq != std::string_view::npos) {
        fail("option --" + std::string(spec->long_name) + " does not take an argument");
        return;
      }
      apply(*spec, {});
      return;
    }
    if (eq != std::string_view::npos) {
      apply(*spec, body.substr(eq + 1));
    } else if (next_ < args_.size()) {
      apply(*spec, args_[next_++]);
    } else {
      fail_missing(*spec);
    }
  }

  void parse_short_group(std::string_view arg) {
    for (std::size_t i = 1; i < arg.size() && !done(); ++i) {
      const char c = arg[i];
      const OptionSpec* spec = find_short(c == '?' ? 'h' : c);
      if (spec == nullptr) {
        fail(std::string("unknown option -") + c);
        return;
      }
      if (rejected(*spec)) return;
      if (!takes_argument(*spec)) {
        apply(*spec, {});
        continue;
      }
      if (i + 1 < arg.size()) {
        apply(*spec, arg.substr(i + 1));
      } else if (next_ < args_.size()) {
        apply(*spec, args_[next_++]);
      } else {
        fail_missing(*spec);
      }
      return;
    }
  }

  void fail_missing(const OptionSpec& spec) {
    fail("option " + display_name(spec) + " requires an argument (" + std::string(spec.arg_name) +
         ")");
  }

  // Returns false (after failing) unless `value` is an integer in [min, max].
  bool integer_in(const OptionSpec& spec, std::string_view value, long long min, long long max,
                  int* out) {
    long long number = 0;
    const IntegerParse parsed = parse_integer(value, &number);
    if (parsed == IntegerParse::kNotInteger) {
      fail_value(spec, value, "is not an integer");
      return false;
    }
    if (parsed == IntegerParse::kTooLarge || number < min || number > max) {
      fail_value(spec, value,
                 "is out of range " + std::to_string(min) + ".." + std::to_string(max));
      return false;
    }
    *out = static_cast<int>(number);
    return true;
  }

  // Single-valued options may be given once; a second, possibly different,
  // value would leave the operator guessing which one ntpd used.
  bool once(const OptionSpec& spec) {
    if (spec.repeatable || ++seen_[static_cast<std::size_t>(&spec - kOptions.data())] == 1) {
      return true;
    }
    fail("option " + display_name(spec) + " given more than once");
    return false;
  }

  void apply(const OptionSpec& spec, std::string_view value);
  void apply_user(const OptionSpec& spec, std::string_view value);
  void apply_variable(const OptionSpec& spec, std::string_view value, bool listed_by_default);
  void apply_delay(const OptionSpec& spec, std::string_view value);
  void check_combinations();

  std::span<const std::string_view> args_;
  std::size_t next_ = 0;
  bool authreq_given_ = false;
  std::array<int, kOptions.size()> seen_{};  // by table position
  CliAction action_ = CliAction::kRun;
  std::string error_;
  Options options_;
};

void Parser::apply(const OptionSpec& spec, std::string_view value) {
  if (takes_argument(spec)) {
    if (!once(spec)) return;
    if (value.empty()) {
      fail("option " + display_name(spec) + " requires a non-empty argument");
      return;
    }
  }
  Options& o = options_;
  int number = 0;
  switch (spec.effect) {
    case E::kSetFlag:
      o.*spec.flag = true;
      break;
    case E::kSetPath:
      o.*spec.path = std::string(value);
      break;
    case E::kAuthReq:
      authreq_given_ = true;
      break;
    case E::kAuthNoReq:
      o.auth_required = false;
      break;
    case E::kDebugUp:
      if (o.debug_level < kMaxDebugLevel) {
        ++o.debug_level;
      } else {
        fail("option " + display_name(spec) + " given more than 255 times");
      }
      break;
    case E::kDebugSet:
      if (integer_in(spec, value, 0, kMaxDebugLevel, &number)) o.debug_level = number;
      break;
    case E::kHelp:
      action_ = CliAction::kPrintHelp;
      break;
    case E::kVersion:
      action_ = CliAction::kPrintVersion;
      break;
    case E::kInterface:
      o.listen_interfaces.emplace_back(value);
      break;
    case E::kPriority:
      if (integer_in(spec, value, kMinFifoPriority, kMaxFifoPriority, &number)) o.priority = number;
      break;
    case E::kDelay:
      apply_delay(spec, value);
      break;
    case E::kTrustedKey:
      if (integer_in(spec, value, 1, std::numeric_limits<std::uint16_t>::max(), &number)) {
        o.trusted_keys.push_back(static_cast<std::uint16_t>(number));
      }
      break;
    case E::kUser:
      apply_user(spec, value);
      break;
    case E::kUpdateInterval:
      if (integer_in(spec, value, 0, kMaxIntervalS, &number)) {
        o.interface_update_interval_s = number;
      }
      break;
    case E::kVar:
      apply_variable(spec, value, false);
      break;
    case E::kDvar:
      apply_variable(spec, value, true);
      break;
    case E::kWaitSync:
      if (integer_in(spec, value, 0, kMaxIntervalS, &number)) o.wait_sync_s = number;
      break;
    case E::kServerThreads:
      if (integer_in(spec, value, 1, kMaxServerThreads, &number)) o.server_threads = number;
      break;
    case E::kReject:
      fail(std::string(spec.help));
      break;
  }
}

void Parser::apply_user(const OptionSpec& spec, std::string_view value) {
  std::size_t colon = value.find(':');
  std::string_view user = value.substr(0, colon);
  if (user.empty()) {
    fail_value(spec, value, "has an empty user name");
    return;
  }
  if (colon != std::string_view::npos) {
    std::string_view group = value.substr(colon + 1);
    if (group.empty() || group.find(':') != std::string_view::npos) {
      fail_value(spec, value, "is not USER or USER:GROUP");
      return;
    }
    options_.group = std::string(group);
  }
  options_.user = std::string(user);
}

void Parser::apply_variable(const OptionSpec& spec, std::string_view value,
                            bool listed_by_default) {
  std::size_t eq = value.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    fail_value(spec, value, "is not NAME=VALUE");
    return;
  }
  if (value.size() > kMaxSystemVariableLength) {
    fail_value(spec, value,
               "is longer than " + std::to_string(kMaxSystemVariableLength) + " characters");
    return;
  }
  std::string_view name = value.substr(0, eq);
  std::string_view content = value.substr(eq + 1);
  for (char c : name) {
    if (!is_variable_name_char(c)) {
      fail_value(spec, value, "has a name that is not [A-Za-z0-9_.-]");
      return;
    }
  }
  for (char c : content) {
    if (!is_variable_value_char(c)) {
      fail_value(spec, value, "has a value with a control character, '\"' or ','");
      return;
    }
  }
  options_.system_variables.push_back(
      SystemVariable{std::string(name), std::string(content), listed_by_default});
}

void Parser::apply_delay(const OptionSpec& spec, std::string_view value) {
  double delay_s = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, delay_s);
  if (ec != std::errc() || ptr != end || !std::isfinite(delay_s)) {
    fail_value(spec, value, "is not a finite number of seconds");
    return;
  }
  if (delay_s < 0) {
    fail_value(spec, value, "is negative");
    return;
  }
  options_.broadcast_delay_s = delay_s;
}

void Parser::check_combinations() {
  Options& o = options_;
  if (o.ipv4_only && o.ipv6_only) {
    fail("options -4/--ipv4 and -6/--ipv6 cannot be used together");
  } else if (authreq_given_ && !o.auth_required) {
    fail("options -a/--authreq and -A/--authnoreq cannot be used together");
  } else if (o.wait_sync_s > 0 && (o.foreground || o.quit_after_set)) {
    fail("option -w/--wait-sync cannot be used with -n/--nofork or -q/--quit");
  }
  // So far `foreground` means -n. As in ntpd, -q and any debug level imply it.
  o.foreground = o.foreground || o.quit_after_set || o.debug_level > 0;
}

}  // namespace

std::string Options::config_path_or_default() const {
  return config_path.value_or(std::string(kDefaultConfigPath));
}

std::string Options::jail_dir_or_default() const {
  return jail_dir.value_or(std::string(kDefaultJailDir));
}

CliParseResult parse_cli(std::span<const std::string_view> args) { return Parser(args).run(); }

std::string usage_text(std::string_view program) {
  const std::string indent(program.size() + 8, ' ');
  std::string text = "usage: " + std::string(program) +
                     " [-46aAbdgGhLmnNqx] [-c conffile] [-D level] [-f driftfile]\n" + indent +
                     "[-i jaildir] [-I iface] [-k keyfile] [-l logfile] [-p pidfile]\n" + indent +
                     "[-P priority] [-r delay] [-s statsdir] [-t key] [-u user[:group]]\n" +
                     indent + "[-U interval] [-v name=value] [-V name=value] [-w seconds]\n" +
                     "Options:\n";
  constexpr std::size_t kHelpColumn = 34;
  for (const OptionSpec& spec : kOptions) {
    if (spec.visibility == Visibility::kHidden) continue;
    std::string line = "  ";
    line += spec.short_name != '\0' ? std::string{'-', spec.short_name, ','} : "   ";
    line += " --" + std::string(spec.long_name);
    if (takes_argument(spec)) line += "=" + std::string(spec.arg_name);
    line.resize(std::max(line.size() + 2, kHelpColumn), ' ');
    text += line + std::string(spec.help) + "\n";
  }
  return text;
}

std::string version_text() { return std::string("ntpd ") + NTPD_VERSION + "\n"; }

}  // namespace ntpd::clock
