// Tests for ntpd's command-line parser: every option in each spelling
// (short, grouped, attached, long, long=), defaults, repeats, conflicts,
// errors naming the option, help and version. Pure: no process state.
#include "ntpd-clock/cli_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace ntpd::clock {

// Readable failure output for Options comparisons.
void PrintTo(const Options& o, std::ostream* os) {
  const auto opt = [](const std::optional<std::string>& s) { return s ? "\"" + *s + "\"" : "-"; };
  *os << "{config=" << opt(o.config_path) << " drift=" << opt(o.drift_path)
      << " keys=" << opt(o.key_path) << " log=" << opt(o.log_path) << " pid=" << opt(o.pid_path)
      << " stats=" << opt(o.stats_dir) << " jail=" << opt(o.jail_dir)
      << " net=" << opt(o.net_program) << " user=" << o.user << " group=" << opt(o.group)
      << " debug=" << o.debug_level << " fg=" << o.foreground << " q=" << o.quit_after_set
      << " g=" << o.panic_gate << " G=" << o.force_step_once << " x=" << o.slew_only
      << " 4=" << o.ipv4_only << " 6=" << o.ipv6_only << " auth=" << o.auth_required
      << " b=" << o.broadcast_client << " m=" << o.multicast_client
      << " I#=" << o.listen_interfaces.size() << " L=" << o.no_virtual_ips
      << " N=" << o.high_priority << " P=" << o.priority.value_or(-1)
      << " r=" << o.broadcast_delay_s.value_or(-1) << " t#=" << o.trusted_keys.size()
      << " vars#=" << o.system_variables.size() << " w=" << o.wait_sync_s
      << " U=" << o.interface_update_interval_s.value_or(-1) << " nocc=" << o.no_clock_control
      << " check=" << o.check_config << "}";
}

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

CliParseResult parse(const std::vector<std::string_view>& args) { return parse_cli(args); }

struct RunCase {
  std::vector<std::string_view> args;
  std::function<void(Options&)> expect;  // applied to default Options
};

std::string join(const std::vector<std::string_view>& args) {
  std::string text;
  for (std::string_view a : args) text += (text.empty() ? "" : " ") + std::string(a);
  return "[" + text + "]";
}

TEST(CliOptionsTest, DefaultsWhenNoArguments) {
  CliParseResult r = parse({});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  const Options& o = r.options;
  EXPECT_EQ(o, Options{});
  EXPECT_FALSE(o.config_path.has_value());
  EXPECT_EQ(o.config_path_or_default(), "/etc/ntp.conf");
  EXPECT_FALSE(o.jail_dir.has_value());
  EXPECT_EQ(o.jail_dir_or_default(), "/var/lib/ntpd/jail");
  EXPECT_EQ(o.user, "ntp");
  EXPECT_FALSE(o.group.has_value());
  EXPECT_TRUE(o.auth_required);
  EXPECT_FALSE(o.foreground);
  EXPECT_EQ(o.debug_level, 0);
  EXPECT_EQ(o.wait_sync_s, 0);
  EXPECT_TRUE(r.error.empty());
}

TEST(CliOptionsTest, EveryOptionInEverySpelling) {
  const std::vector<RunCase> cases = {
      {{"-4"}, [](Options& o) { o.ipv4_only = true; }},
      {{"--ipv4"}, [](Options& o) { o.ipv4_only = true; }},
      {{"-6"}, [](Options& o) { o.ipv6_only = true; }},
      {{"--ipv6"}, [](Options& o) { o.ipv6_only = true; }},
      {{"-a"}, [](Options&) {}},
      {{"--authreq"}, [](Options&) {}},
      {{"-A"}, [](Options& o) { o.auth_required = false; }},
      {{"--authnoreq"}, [](Options& o) { o.auth_required = false; }},
      {{"-b"}, [](Options& o) { o.broadcast_client = true; }},
      {{"--bcastsync"}, [](Options& o) { o.broadcast_client = true; }},
      {{"-c", "/x/ntp.conf"}, [](Options& o) { o.config_path = "/x/ntp.conf"; }},
      {{"-c/x/ntp.conf"}, [](Options& o) { o.config_path = "/x/ntp.conf"; }},
      {{"--configfile=/x/ntp.conf"}, [](Options& o) { o.config_path = "/x/ntp.conf"; }},
      {{"--configfile", "/x/ntp.conf"}, [](Options& o) { o.config_path = "/x/ntp.conf"; }},
      {{"--configfile=a=b"}, [](Options& o) { o.config_path = "a=b"; }},
      {{"-d"},
       [](Options& o) {
         o.debug_level = 1;
         o.foreground = true;
       }},
      {{"-ddd"},
       [](Options& o) {
         o.debug_level = 3;
         o.foreground = true;
       }},
      {{"--debug-level", "--debug-level"},
       [](Options& o) {
         o.debug_level = 2;
         o.foreground = true;
       }},
      {{"-D", "3"},
       [](Options& o) {
         o.debug_level = 3;
         o.foreground = true;
       }},
      {{"-D3"},
       [](Options& o) {
         o.debug_level = 3;
         o.foreground = true;
       }},
      {{"--set-debug-level=3"},
       [](Options& o) {
         o.debug_level = 3;
         o.foreground = true;
       }},
      {{"--set-debug-level", "255"},
       [](Options& o) {
         o.debug_level = 255;
         o.foreground = true;
       }},
      {{"-D", "0"}, [](Options&) {}},
      {{"-D", "3", "-d"},
       [](Options& o) {
         o.debug_level = 4;
         o.foreground = true;
       }},
      {{"-dd", "-D", "1"},
       [](Options& o) {
         o.debug_level = 1;
         o.foreground = true;
       }},
      {{"-D", "2", "-D", "5"},
       [](Options& o) {
         o.debug_level = 5;
         o.foreground = true;
       }},
      {{"-f", "/var/lib/ntp/drift"}, [](Options& o) { o.drift_path = "/var/lib/ntp/drift"; }},
      {{"-f/d"}, [](Options& o) { o.drift_path = "/d"; }},
      {{"--driftfile=/d"}, [](Options& o) { o.drift_path = "/d"; }},
      {{"--driftfile", "/d"}, [](Options& o) { o.drift_path = "/d"; }},
      {{"-g"}, [](Options& o) { o.panic_gate = true; }},
      {{"-g", "-g"}, [](Options& o) { o.panic_gate = true; }},
      {{"--panicgate"}, [](Options& o) { o.panic_gate = true; }},
      {{"-G"}, [](Options& o) { o.force_step_once = true; }},
      {{"--force-step-once"}, [](Options& o) { o.force_step_once = true; }},
      {{"-i", "/jail"}, [](Options& o) { o.jail_dir = "/jail"; }},
      {{"-i/jail"}, [](Options& o) { o.jail_dir = "/jail"; }},
      {{"--jaildir=/jail"}, [](Options& o) { o.jail_dir = "/jail"; }},
      {{"--jaildir", "/jail"}, [](Options& o) { o.jail_dir = "/jail"; }},
      {{"-I", "eth0"}, [](Options& o) { o.listen_interfaces = {"eth0"}; }},
      {{"-Ieth0", "-I", "192.0.2.1", "--interface=lo", "--interface", "::1"},
       [](Options& o) {
         o.listen_interfaces = {"eth0", "192.0.2.1", "lo", "::1"};
       }},
      {{"-k", "/etc/ntp.keys"}, [](Options& o) { o.key_path = "/etc/ntp.keys"; }},
      {{"-k/k"}, [](Options& o) { o.key_path = "/k"; }},
      {{"--keyfile=/k"}, [](Options& o) { o.key_path = "/k"; }},
      {{"--keyfile", "/k"}, [](Options& o) { o.key_path = "/k"; }},
      {{"-l", "/var/log/ntp.log"}, [](Options& o) { o.log_path = "/var/log/ntp.log"; }},
      {{"-l/l"}, [](Options& o) { o.log_path = "/l"; }},
      {{"--logfile=/l"}, [](Options& o) { o.log_path = "/l"; }},
      {{"--logfile", "/l"}, [](Options& o) { o.log_path = "/l"; }},
      {{"-L"}, [](Options& o) { o.no_virtual_ips = true; }},
      {{"--novirtualips"}, [](Options& o) { o.no_virtual_ips = true; }},
      {{"-m"}, [](Options& o) { o.multicast_client = true; }},
      {{"--multicastclient"}, [](Options& o) { o.multicast_client = true; }},
      {{"-n"}, [](Options& o) { o.foreground = true; }},
      {{"-n", "-n"}, [](Options& o) { o.foreground = true; }},
      {{"--nofork"}, [](Options& o) { o.foreground = true; }},
      {{"-N"}, [](Options& o) { o.high_priority = true; }},
      {{"--nice"}, [](Options& o) { o.high_priority = true; }},
      {{"-p", "/run/ntpd.pid"}, [](Options& o) { o.pid_path = "/run/ntpd.pid"; }},
      {{"-p/p"}, [](Options& o) { o.pid_path = "/p"; }},
      {{"--pidfile=/p"}, [](Options& o) { o.pid_path = "/p"; }},
      {{"--pidfile", "/p"}, [](Options& o) { o.pid_path = "/p"; }},
      {{"-P", "1"}, [](Options& o) { o.priority = 1; }},
      {{"-P99"}, [](Options& o) { o.priority = 99; }},
      {{"--priority=50"}, [](Options& o) { o.priority = 50; }},
      {{"--priority", "50"}, [](Options& o) { o.priority = 50; }},
      {{"-q"},
       [](Options& o) {
         o.quit_after_set = true;
         o.foreground = true;
       }},
      {{"--quit"},
       [](Options& o) {
         o.quit_after_set = true;
         o.foreground = true;
       }},
      {{"-r", "0.004"}, [](Options& o) { o.broadcast_delay_s = 0.004; }},
      {{"-r0"}, [](Options& o) { o.broadcast_delay_s = 0.0; }},
      {{"--propagationdelay=1.5"}, [](Options& o) { o.broadcast_delay_s = 1.5; }},
      {{"--propagationdelay", "2e-3"}, [](Options& o) { o.broadcast_delay_s = 0.002; }},
      {{"-s", "/var/log/ntpstats"}, [](Options& o) { o.stats_dir = "/var/log/ntpstats"; }},
      {{"-s/s"}, [](Options& o) { o.stats_dir = "/s"; }},
      {{"--statsdir=/s"}, [](Options& o) { o.stats_dir = "/s"; }},
      {{"--statsdir", "/s"}, [](Options& o) { o.stats_dir = "/s"; }},
      {{"-t", "1"}, [](Options& o) { o.trusted_keys = {1}; }},
      {{"-t1", "-t", "65535", "--trustedkey=7", "--trustedkey", "7"},
       [](Options& o) {
         o.trusted_keys = {1, 65535, 7, 7};
       }},
      {{"-u", "ntpd"}, [](Options& o) { o.user = "ntpd"; }},
      {{"-untpd:nogroup"},
       [](Options& o) {
         o.user = "ntpd";
         o.group = "nogroup";
       }},
      {{"--user=123:456"},
       [](Options& o) {
         o.user = "123";
         o.group = "456";
       }},
      {{"--user", "ntp"}, [](Options& o) { o.user = "ntp"; }},
      {{"-U", "0"}, [](Options& o) { o.interface_update_interval_s = 0; }},
      {{"-U300"}, [](Options& o) { o.interface_update_interval_s = 300; }},
      {{"--updateinterval=86400"}, [](Options& o) { o.interface_update_interval_s = 86400; }},
      {{"-v", "a=b"},
       [](Options& o) {
         o.system_variables = {{"a", "b", false}};
       }},
      {{"-Va=b"},
       [](Options& o) {
         o.system_variables = {{"a", "b", true}};
       }},
      {{"--var=site=lab 1", "--dvar", "x.y-z_0=", "-v", "k=v=w"},
       [](Options& o) {
         o.system_variables = {
             {"site", "lab 1", false}, {"x.y-z_0", "", true}, {"k", "v=w", false}};
       }},
      {{"-w", "30"}, [](Options& o) { o.wait_sync_s = 30; }},
      {{"--wait-sync=0"}, [](Options&) {}},
      {{"-x"}, [](Options& o) { o.slew_only = true; }},
      {{"--slew"}, [](Options& o) { o.slew_only = true; }},
      {{"--no-clock-control"}, [](Options& o) { o.no_clock_control = true; }},
      {{"--check-config"}, [](Options& o) { o.check_config = true; }},
      {{"--server-threads", "2"}, [](Options& o) { o.server_threads = 2; }},
      {{"--server-threads=16"}, [](Options& o) { o.server_threads = 16; }},
      {{"--net-program", "/build/ntpd-net"}, [](Options& o) { o.net_program = "/build/ntpd-net"; }},
      {{"--net-program=/n"}, [](Options& o) { o.net_program = "/n"; }},
      // Grouped flags, and a value-taking option ending a group.
      {{"-gnq"},
       [](Options& o) {
         o.panic_gate = true;
         o.quit_after_set = true;
         o.foreground = true;
       }},
      {{"-4Lx"},
       [](Options& o) {
         o.ipv4_only = true;
         o.no_virtual_ips = true;
         o.slew_only = true;
       }},
      {{"-gc", "/c"},
       [](Options& o) {
         o.panic_gate = true;
         o.config_path = "/c";
       }},
      {{"-gc/c"},
       [](Options& o) {
         o.panic_gate = true;
         o.config_path = "/c";
       }},
      {{"-gD3"},
       [](Options& o) {
         o.panic_gate = true;
         o.debug_level = 3;
         o.foreground = true;
       }},
      // Like getopt: the word after a value-taking option is its value.
      {{"-c", "-n"}, [](Options& o) { o.config_path = "-n"; }},
      // Unambiguous prefixes of long names.
      {{"--config=/c"}, [](Options& o) { o.config_path = "/c"; }},
      {{"--pid", "/p"}, [](Options& o) { o.pid_path = "/p"; }},
      {{"--novirt"}, [](Options& o) { o.no_virtual_ips = true; }},
      // A typical service line.
      {{"-g", "-u", "ntp:ntp", "-p", "/run/ntpd.pid", "-c", "/etc/ntp.conf", "-f",
        "/var/lib/ntp/ntp.drift"},
       [](Options& o) {
         o.panic_gate = true;
         o.user = "ntp";
         o.group = "ntp";
         o.pid_path = "/run/ntpd.pid";
         o.config_path = "/etc/ntp.conf";
         o.drift_path = "/var/lib/ntp/ntp.drift";
       }},
  };
  for (const RunCase& c : cases) {
    SCOPED_TRACE(join(c.args));
    CliParseResult r = parse(c.args);
    ASSERT_EQ(r.action, CliAction::kRun) << r.error;
    Options expected;
    c.expect(expected);
    EXPECT_EQ(r.options, expected);
    EXPECT_TRUE(r.error.empty());
  }
}

struct ErrorCase {
  std::vector<std::string_view> args;
  std::string_view message_part;  // the error must contain this
};

TEST(CliOptionsTest, ErrorsNameTheOption) {
  const std::vector<ErrorCase> cases = {
      // Unknown options.
      {{"-Z"}, "unknown option -Z"},
      {{"-z", "a=b"}, "unknown option -z"},
      {{"-gZ"}, "unknown option -Z"},
      {{"--bogus"}, "unknown option --bogus"},
      {{"--bogus=1"}, "unknown option --bogus"},
      {{"--=x"}, "unknown option --=x"},
      {{"--net"}, "unknown option --net"},  // hidden options need their full name
      {{"--p"}, "--p is ambiguous: --panicgate, --pidfile, --priority, --propagationdelay"},
      {{"--no"}, "ambiguous"},
      // Missing arguments, at the end of the line or of a group.
      {{"-c"}, "option -c/--configfile requires an argument (FILE)"},
      {{"--configfile"}, "option -c/--configfile requires an argument"},
      {{"-gc"}, "option -c/--configfile requires an argument"},
      {{"-D"}, "option -D/--set-debug-level requires an argument"},
      {{"-f"}, "-f/--driftfile requires an argument"},
      {{"-i"}, "-i/--jaildir requires an argument"},
      {{"-I"}, "-I/--interface requires an argument"},
      {{"-k"}, "-k/--keyfile requires an argument"},
      {{"-l"}, "-l/--logfile requires an argument"},
      {{"-p"}, "-p/--pidfile requires an argument"},
      {{"-P"}, "-P/--priority requires an argument"},
      {{"-r"}, "-r/--propagationdelay requires an argument"},
      {{"-s"}, "-s/--statsdir requires an argument"},
      {{"-t"}, "-t/--trustedkey requires an argument"},
      {{"-u"}, "-u/--user requires an argument"},
      {{"-U"}, "-U/--updateinterval requires an argument"},
      {{"-v"}, "-v/--var requires an argument"},
      {{"-V"}, "-V/--dvar requires an argument"},
      {{"-w"}, "-w/--wait-sync requires an argument"},
      {{"--net-program"}, "--net-program requires an argument"},
      {{"-c", ""}, "option -c/--configfile requires a non-empty argument"},
      {{"--pidfile="}, "option -p/--pidfile requires a non-empty argument"},
      // Flags do not take values.
      {{"--nofork=1"}, "option --nofork does not take an argument"},
      {{"--help=x"}, "option --help does not take an argument"},
      // Bad numbers and ranges.
      {{"-D", "x"}, "option -D/--set-debug-level: 'x' is not an integer"},
      {{"-D", "3x"}, "'3x' is not an integer"},
      {{"-D", "+3"}, "'+3' is not an integer"},
      {{"-D", " 3"}, "' 3' is not an integer"},
      {{"-D", "-1"}, "option -D/--set-debug-level: '-1' is out of range 0..255"},
      {{"-D", "256"}, "'256' is out of range 0..255"},
      {{"-t", "0"}, "option -t/--trustedkey: '0' is out of range 1..65535"},
      {{"-t", "65536"}, "'65536' is out of range 1..65535"},
      {{"-t", "99999999999999999999999"}, "is out of range 1..65535"},
      {{"-t", "0x10"}, "'0x10' is not an integer"},
      {{"-t", "1.5"}, "-t/--trustedkey: '1.5' is not an integer"},
      {{"-P", "0"}, "option -P/--priority: '0' is out of range 1..99"},
      {{"-P", "100"}, "'100' is out of range 1..99"},
      {{"-U", "-1"}, "option -U/--updateinterval: '-1' is out of range 0..86400"},
      {{"-w", "86401"}, "option -w/--wait-sync: '86401' is out of range 0..86400"},
      {{"--server-threads", "0"}, "option --server-threads: '0' is out of range 1..16"},
      {{"--server-threads", "17"}, "'17' is out of range 1..16"},
      {{"-r", "x"}, "option -r/--propagationdelay: 'x' is not a finite number of seconds"},
      {{"-r", "nan"}, "'nan' is not a finite number"},
      {{"-r", "inf"}, "'inf' is not a finite number"},
      {{"-r", "1e999"}, "'1e999' is not a finite number"},
      {{"-r", "0.1s"}, "'0.1s' is not a finite number"},
      {{"-r", "-0.5"}, "option -r/--propagationdelay: '-0.5' is negative"},
      // Users and system variables.
      {{"-u", ":ntp"}, "option -u/--user: ':ntp' has an empty user name"},
      {{"-u", "ntp:"}, "option -u/--user: 'ntp:' is not USER or USER:GROUP"},
      {{"-u", "a:b:c"}, "is not USER or USER:GROUP"},
      {{"-v", "novalue"}, "option -v/--var: 'novalue' is not NAME=VALUE"},
      {{"-V", "=x"}, "option -V/--dvar: '=x' is not NAME=VALUE"},
      {{"-v", "a b=c"}, "has a name that is not [A-Za-z0-9_.-]"},
      {{"-v", "a=b,c=d"}, "has a value with a control character"},
      {{"-v", "a=\"q\""}, "has a value with a control character"},
      {{"-v", "a=\x01"}, "has a value with a control character"},
      // Conflicting options.
      {{"-4", "-6"}, "options -4/--ipv4 and -6/--ipv6 cannot be used together"},
      {{"-46"}, "cannot be used together"},
      {{"--ipv6", "--ipv4"}, "cannot be used together"},
      {{"-a", "-A"}, "options -a/--authreq and -A/--authnoreq cannot be used together"},
      {{"-w", "10", "-n"}, "option -w/--wait-sync cannot be used with -n/--nofork or -q/--quit"},
      {{"-q", "-w", "10"}, "option -w/--wait-sync cannot be used with"},
      // Single-valued options given twice.
      {{"-c", "/a", "-c", "/b"}, "option -c/--configfile given more than once"},
      {{"-p/a", "--pidfile=/a"}, "option -p/--pidfile given more than once"},
      {{"-u", "a", "-u", "b"}, "option -u/--user given more than once"},
      {{"-P", "1", "-P", "2"}, "option -P/--priority given more than once"},
      // Operands.
      {{"pool.ntp.org"}, "unexpected argument 'pool.ntp.org'"},
      {{"-g", "server"}, "unexpected argument 'server'"},
      {{"-"}, "unexpected argument '-'"},
      {{"--", "-n"}, "unexpected argument '-n'"},
      // Options this ntpd deliberately does not implement.
      {{"--mdns"}, "option --mdns (mDNS registration) is not supported"},
      {{"--saveconfigquit", "/tmp/x"}, "option --saveconfigquit is not supported"},
      {{"-M"}, "option -M/--modifymmtimer exists only on Windows"},
      // The first error wins, even before --help.
      {{"--bogus", "--help"}, "unknown option --bogus"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(join(c.args));
    CliParseResult r = parse(c.args);
    EXPECT_EQ(r.action, CliAction::kUsageError);
    EXPECT_THAT(r.error, HasSubstr(std::string(c.message_part)));
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << "error must be one line";
  }
}

TEST(CliOptionsTest, DebugLevelCountIsBounded) {
  std::vector<std::string_view> args(255, "-d");
  CliParseResult ok = parse(args);
  ASSERT_EQ(ok.action, CliAction::kRun) << ok.error;
  EXPECT_EQ(ok.options.debug_level, 255);
  args.push_back("-d");
  CliParseResult r = parse(args);
  EXPECT_EQ(r.action, CliAction::kUsageError);
  EXPECT_THAT(r.error, HasSubstr("-d/--debug-level given more than 255 times"));
}

TEST(CliOptionsTest, EmptyOptionsEqualDefaults) {
  CliParseResult r = parse({
      "--",
  });
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  EXPECT_EQ(r.options, Options{});
}

TEST(CliOptionsTest, HelpAndVersion) {
  const std::vector<std::pair<std::vector<std::string_view>, CliAction>> cases = {
      {{"--help"}, CliAction::kPrintHelp},
      {{"-h"}, CliAction::kPrintHelp},
      {{"-?"}, CliAction::kPrintHelp},
      {{"-gh"}, CliAction::kPrintHelp},
      {{"--he"}, CliAction::kPrintHelp},
      {{"-n", "--help", "--bogus"}, CliAction::kPrintHelp},
      {{"--version"}, CliAction::kPrintVersion},
      {{"--vers"}, CliAction::kPrintVersion},
      {{"-c", "/c", "--version", "extra"}, CliAction::kPrintVersion},
  };
  for (const auto& [args, action] : cases) {
    SCOPED_TRACE(join(args));
    CliParseResult r = parse(args);
    EXPECT_EQ(r.action, action);
    EXPECT_TRUE(r.error.empty());
  }
}

TEST(CliOptionsTest, UsageTextListsVisibleOptions) {
  const std::string text = usage_text("ntpd");
  EXPECT_THAT(text, StartsWith("usage: ntpd [-46aAbdgGhLmnNqx]"));
  for (std::string_view name : {"--ipv4",
                                "--ipv6",
                                "--authreq",
                                "--authnoreq",
                                "--bcastsync",
                                "--configfile=FILE",
                                "--debug-level",
                                "--set-debug-level=LEVEL",
                                "--driftfile=FILE",
                                "--panicgate",
                                "--force-step-once",
                                "--help",
                                "--jaildir=DIR",
                                "--interface=IFACE",
                                "--keyfile=FILE",
                                "--logfile=FILE",
                                "--novirtualips",
                                "--multicastclient",
                                "--nofork",
                                "--nice",
                                "--pidfile=FILE",
                                "--priority=N",
                                "--quit",
                                "--propagationdelay=SECONDS",
                                "--statsdir=DIR",
                                "--trustedkey=KEY",
                                "--user=USER[:GROUP]",
                                "--updateinterval=SECONDS",
                                "--var=NAME=VALUE",
                                "--dvar=NAME=VALUE",
                                "--wait-sync=SECONDS",
                                "--slew",
                                "--version",
                                "--no-clock-control",
                                "--server-threads=N",
                                "--check-config"}) {
    EXPECT_THAT(text, HasSubstr(std::string(name)));
  }
  EXPECT_THAT(text, Not(HasSubstr("net-program")));
  EXPECT_THAT(text, Not(HasSubstr("mdns")));
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(usage_text("/usr/sbin/ntpd"), StartsWith("usage: /usr/sbin/ntpd [-46"));
}

TEST(CliOptionsTest, VersionText) {
  EXPECT_THAT(version_text(), StartsWith("ntpd "));
  EXPECT_EQ(version_text().back(), '\n');
}

}  // namespace
}  // namespace ntpd::clock
