// ntpd: the program users start, as root. Reads every trusted input, opens
// every file and socket, confines itself, then supervises ntpd-net and runs
// the clock loop. The order below is the security argument: nothing after
// restrict_clock_capabilities() can open a privileged port or read a file
// the network process could not.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/text_file.h"
#include "ntpd-clock/broadcast_sockets.h"
#include "ntpd-clock/cli_options.h"
#include "ntpd-clock/clock_linux.h"
#include "ntpd-clock/clock_process.h"
#include "ntpd-clock/daemonize.h"
#include "ntpd-clock/listen_sockets.h"
#include "ntpd-clock/pid_file.h"
#include "ntpd-clock/rtc_keeper.h"
#include "ntpd-clock/sandbox.h"
#include "ntpd-clock/startup.h"
#include "ntpd-clock/startup_config.h"

namespace ntpd::clock {
namespace {

int check_config(const Options& options) {
  const auto parsed = common::parse_ntp_conf(options.config_path_or_default(),
                                             common::FileReader(read_config_file));
  for (const auto& d : parsed.diagnostics) std::printf("%s\n", d.to_string().c_str());
  // The keys file and every `key N`, as the daemon would check them at start.
  const auto keys_path = effective_paths(options, parsed.config).keys_file;
  const common::ParsedKeys keys = keys_path ? read_keys_file(*keys_path) : common::ParsedKeys{};
  for (const auto& d : keys.diagnostics) std::printf("%s\n", d.to_string().c_str());
  const auto key_problems = association_key_problems(parsed.config, keys.keys, options, keys_path);
  for (const auto& d : key_problems) std::printf("%s\n", d.to_string().c_str());
  // Defaults that change what the daemon does are shown as in effect.
  common::NtpConfig effective = parsed.config;
  effective.flags.rtc = effective.flags.rtc.value_or(true);
  std::printf("# effective configuration of %s\n%s", options.config_path_or_default().c_str(),
              common::describe_config(effective).c_str());
  return parsed.has_errors() || parsed.fatal || keys.has_errors() || !key_problems.empty() ? 1 : 0;
}

std::vector<std::string> net_environment() {
  std::vector<std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    const char* value = std::getenv(name);
    std::string entry = std::string(name) + "=" + (value != nullptr ? value : "");
    // Sanitizer builds: the leak check cannot run in the empty jail.
    if (std::string_view(name) == "ASAN_OPTIONS")
      entry += value != nullptr ? ":detect_leaks=0" : "detect_leaks=0";
    if (value != nullptr || std::string_view(name) == "ASAN_OPTIONS") env.push_back(entry);
  }
  return env;
}

// The RTC, its timescale (/etc/adjtime) and the time zone are read now,
// before the sandbox; a machine without an RTC is logged once.
std::unique_ptr<RtcKeeper> open_rtc(bool enabled) {
  RtcKeeperConfig rtc{enabled, RtcTimescale::kUtc, {}};
  if (enabled) {
    std::string warning;
    rtc.timescale = load_adjtime(kDefaultAdjtimePath, &warning);
    if (!warning.empty()) common::logf(LOG_WARNING, "RTC: %s", warning.c_str());
    if (rtc.timescale == RtcTimescale::kLocal) rtc.utc_offset = system_utc_offset();
  }
  return std::make_unique<RtcKeeper>(
      std::move(rtc),
      [](std::string* error) -> std::unique_ptr<RtcWriter> {
        auto device = Rtc::open(kDefaultRtcPath, error);
        if (!device) return nullptr;
        return std::make_unique<Rtc>(std::move(*device));
      },
      [](int priority, const std::string& text) { common::log_line(priority, text); });
}

// Reports a startup failure to the operator (and the waiting parent when
// daemonized) and returns the exit status.
int fail(std::optional<DaemonReadyNotifier>& notifier, const std::string& message) {
  common::logf(LOG_ERR, "START: %s", message.c_str());
  if (notifier) {
    notifier->failed(message);
  } else {
    std::fprintf(stderr, "ntpd: %s\n", message.c_str());
  }
  return 1;
}

int run(const Options& options) {
  common::log_to_stderr("clock", log_priority_for(options.debug_level));
  std::optional<DaemonReadyNotifier> notifier;
  std::string error;
  if (geteuid() != 0) return fail(notifier, "ntpd must be started as root");
  auto config =
      load_config(options.config_path_or_default(), options.config_path.has_value(), &error);
  if (!config) return fail(notifier, error);
  const EffectivePaths paths = effective_paths(options, *config);
  const int log_priority = log_priority_for(options.debug_level);
  if (paths.log_file) {
    if (!common::log_to_file("clock", log_priority, *paths.log_file)) {
      return fail(notifier, "cannot open log file " + *paths.log_file);
    }
  } else if (options.debug_level == 0) {
    common::log_to_syslog("clock", log_priority);
  }
  auto identity = resolve_net_identity(options.user, options.group, &error);
  if (!identity) return fail(notifier, error);
  const std::string jail = options.jail_dir_or_default();
  if (!prepare_jail(jail, &error)) return fail(notifier, error);
  std::string net_path;
  common::UniqueFd net_program = open_net_program(options.net_program, &net_path, &error);
  if (!net_program) return fail(notifier, error);

  std::optional<PidFile> pid_file;
  if (paths.pid_file) {
    PidFileResult acquired = PidFile::acquire(*paths.pid_file, getpid());
    if (!acquired.pid_file) return fail(notifier, acquired.error);
    pid_file = std::move(acquired.pid_file);
  }
  ClockSettings settings;
  settings.no_clock_control = options.no_clock_control;
  if (paths.drift_file) {
    settings.drift_file = DriftFile::open(*paths.drift_file, &error);
    if (!settings.drift_file) return fail(notifier, error);
    std::string why;
    settings.initial_frequency_ppb = settings.drift_file->read(&why);
    if (!why.empty())
      common::logf(LOG_WARNING, "DRIFT: ignoring %s: %s", paths.drift_file->c_str(), why.c_str());
  }
  if (auto loopstats = loopstats_settings(*config, paths.stats_dir)) {
    settings.loopstats = StatsFile::open(*paths.stats_dir, *loopstats, &error);
    if (!settings.loopstats) return fail(notifier, "loopstats: " + error);
  }
  if (config->leap_file) {
    settings.leap_table = load_leap_file(*config->leap_file, &error);
    if (!settings.leap_table) {
      common::logf(LOG_WARNING, "LEAP: ignoring %s", error.c_str());
    } else {
      for (const auto& warning : leap_pending(*settings.leap_table, realtime_now()).warnings) {
        common::logf(LOG_WARNING, "LEAP: %s: %s", config->leap_file->c_str(), warning.c_str());
      }
    }
  }
  settings.rtc = open_rtc(rtc_enabled(options, *config));
  std::vector<OpenedListenSocket> sockets;
  if (!open_listen_sockets({!options.ipv6_only, !options.ipv4_only, 123, options.listen_interfaces,
                            server_thread_count(options.server_threads)},
                           &sockets, &error)) {
    return fail(notifier, error);
  }

  if (!options.foreground) {
    DaemonizeResult daemon = daemonize_with_readiness();
    if (!daemon.notifier) return fail(notifier, "cannot daemonize: " + daemon.error);
    notifier = std::move(daemon.notifier);
    if (pid_file && !pid_file->update_pid(getpid(), &error)) return fail(notifier, error);
  }

  auto resolved = resolve_restrict_hostnames(*config, &error);
  if (!resolved) return fail(notifier, error);
  auto keys = load_keys(paths.keys_file, &error);
  if (!keys) return fail(notifier, error);
  for (const auto& d : association_key_problems(*config, *keys, options, paths.keys_file)) {
    common::logf(LOG_ERR, "KEYS: %s", d.to_string().c_str());
  }
  ipc::NetConfig net_config = build_net_config(options, *config, log_priority);
  net_config.set_access_config(access_config_text(*config, *resolved));
  *net_config.mutable_dns() = load_dns_config(*config);
  add_keys(*keys, options, *config, &net_config);
  if (net_config.has_broadcast_client() &&
      !open_broadcast_client_sockets(broadcast_client_sockets_for(options, *config), &sockets,
                                     &error)) {
    common::logf(LOG_WARNING, "IO: %s", error.c_str());
  }
  SpawnSpec spawn{net_program.get(), {}, {}, net_environment()};
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    spawn.listen_fds.push_back(sockets[i].fd.get());
    auto* listen = net_config.add_listen_sockets();
    listen->set_fd(kNetFirstListenFd + static_cast<int>(i));
    listen->set_address(sockets[i].address);
    listen->set_port(sockets[i].port);
    if (sockets[i].receive_only) listen->set_receive_only(true);
    if (sockets[i].server_thread > 0) listen->set_server_thread(sockets[i].server_thread);
  }
  spawn.argv = {"ntpd-net",
                "--ipc-fd",
                std::to_string(kNetIpcFd),
                "--uid",
                std::to_string(identity->uid),
                "--gid",
                std::to_string(identity->gid),
                "--jail",
                jail,
                "--log-priority",
                std::to_string(log_priority)};
  ipc::Envelope envelope;
  *envelope.mutable_net_config() = net_config;
  auto config_bytes = common::encode_envelope(envelope);
  if (!config_bytes) return fail(notifier, "configuration too large for the IPC cap");

  settings.discipline = discipline_config(options, *config, settings.initial_frequency_ppb);
  std::unique_ptr<ClockDriver> driver;
  if (options.no_clock_control) {
    driver = std::make_unique<NoClockControl>();
  } else {
    driver = std::make_unique<KernelClock>();
  }
  Supervisor supervisor(std::move(spawn), std::move(*config_bytes));
  ClockProcess clock(supervisor, std::move(settings), std::move(driver));
  if (!clock.prepare(&error)) return fail(notifier, error);
  if (!restrict_clock_capabilities(&error)) return fail(notifier, "capabilities: " + error);
  install_clock_sigsys_reporter(-1);
  if (!load_clock_seccomp(&error)) return fail(notifier, "seccomp: " + error);
  common::logf(LOG_NOTICE, "START: ntpd %s running%s; network process %s as uid %u in %s",
               NTPD_VERSION, options.no_clock_control ? " without clock control" : "",
               net_path.c_str(), identity->uid, jail.c_str());
  if (notifier) notifier->ready();
  return clock.run();
}

}  // namespace
}  // namespace ntpd::clock

int main(int argc, char** argv) {
  using namespace ntpd::clock;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const CliParseResult parsed = parse_cli(args);
  switch (parsed.action) {
    case CliAction::kPrintHelp:
      std::fputs(usage_text("ntpd").c_str(), stdout);
      return 0;
    case CliAction::kPrintVersion:
      std::fputs(version_text().c_str(), stdout);
      return 0;
    case CliAction::kUsageError:
      std::fprintf(stderr, "ntpd: %s\n%s", parsed.error.c_str(), usage_text("ntpd").c_str());
      return 2;
    case CliAction::kRun:
      break;
  }
  if (parsed.options.check_config) return check_config(parsed.options);
  return run(parsed.options);
}
