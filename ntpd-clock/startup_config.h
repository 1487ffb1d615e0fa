// What the clock process decides at startup from the command line and
// ntp.conf: effective paths (command line wins over ntp.conf), the log
// level, and the NetConfig handed to every ntpd-net. Pure: no files, no
// lookups; main.cc does the I/O around it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/keys_file.h"
#include "common/ntp_conf.h"
#include "common/ntp_conf_types.h"
#include "common/resolv_conf.h"
#include "ntpd-clock/cli_options.h"
#include "ntpd-clock/discipline.h"
#include "ntpd-clock/stats_files.h"
#include "proto/ntpd.pb.h"

namespace ntpd::clock {

struct EffectivePaths {
  std::optional<std::string> drift_file;  // -f, else driftfile
  std::optional<std::string> keys_file;   // -k, else keys
  std::optional<std::string> log_file;    // -l, else logfile
  std::optional<std::string> pid_file;    // -p, else pidfile
  std::optional<std::string> stats_dir;   // -s, else statsdir
};
EffectivePaths effective_paths(const Options& options, const common::NtpConfig& config);

// syslog priority threshold: NOTICE normally, INFO at -d, DEBUG at -d -d.
int log_priority_for(int debug_level);

// The associations and switches ntpd-net needs; listen sockets are added by
// the caller once they are open.
ipc::NetConfig build_net_config(const Options& options, const common::NtpConfig& config,
                                int log_priority);

// The resolver settings for ntpd-net from resolv.conf and hosts (already
// parsed), with hosts entries only for the names the associations use.
ipc::DnsConfig dns_config_for(const common::ResolvConf& resolv, const common::HostsTable& hosts,
                              const common::NtpConfig& config);
// tos (orphan, orphanwait, distances, clock counts, floor, ceiling) and the
// broadcast client switches (broadcastclient,
// multicastclient, -b, -m, -r, broadcastdelay, -A / disable auth).
void add_broadcast_and_orphan(const Options& options, const common::NtpConfig& config,
                              ipc::NetConfig* net);

// The access-control part of the configuration (restrict with hostnames
// already replaced by `resolved` rules, discard, mru) as ntp.conf text.
std::string access_config_text(const common::NtpConfig& config,
                               const std::vector<common::RestrictRule>& resolved);

// The symmetric keys and the trusted key ids (trustedkey and -t) for
// ntpd-net.
void add_keys(const std::vector<common::SymmetricKey>& keys, const Options& options,
              const common::NtpConfig& config, ipc::NetConfig* net);

// The `key N` options of server/peer lines that ntpd-net cannot use, one
// error per line naming its file:line: key N missing from the keys file
// (or no keys file at all), or not trusted (trustedkey, -t). ntpd-net never
// polls such an association, since it must not send unauthenticated.
std::vector<common::ConfigDiagnostic> association_key_problems(
    const common::NtpConfig& config, const std::vector<common::SymmetricKey>& keys,
    const Options& options, const std::optional<std::string>& keys_path);

// Whether loopstats are written and how (`statistics loopstats` or
// `filegen loopstats ... enable`, and a statsdir); nullopt when off.
std::optional<FilegenSettings> loopstats_settings(const common::NtpConfig& config,
                                                  const std::optional<std::string>& stats_dir);

// Whether the clock process keeps the RTC: `enable rtc` (the default) or
// `disable rtc` in ntp.conf, and never with --no-clock-control or -q.
bool rtc_enabled(const Options& options, const common::NtpConfig& config);

// The discipline's rules: ntpd's defaults, `tinker` from ntp.conf, -g -x -q
// from the command line, the starting frequency from the drift file (or
// `tinker freq`), `disable kernel`, and the poll range of the associations.
DisciplineConfig discipline_config(const Options& options, const common::NtpConfig& config,
                                   std::optional<std::int64_t> drift_ppb);

}  // namespace ntpd::clock
