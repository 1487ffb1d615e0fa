// The clock process's startup I/O, while it is still fully privileged:
// reading ntp.conf, looking up the unprivileged user, preparing the jail
// and opening the ntpd-net binary. Each step returns a clear error for the
// operator; none is repeated after startup.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/keys_file.h"
#include "common/ntp_conf.h"
#include "common/unique_fd.h"
#include "proto/ntpd.pb.h"

namespace ntpd::clock {

// Reads ntp.conf and included files from disk (bounded size).
std::optional<std::string> read_config_file(const std::string& path, std::string* error);

// Parses the configuration and logs every diagnostic. nullopt when the
// daemon must not start (an unreadable given file, or a fatal access-control
// error). A missing default /etc/ntp.conf only warns, as with ntpd.
std::optional<common::NtpConfig> load_config(const std::string& path, bool path_was_given,
                                             std::string* error);

struct NetIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
};
// "user" (its login group) or user plus an explicit group; root is refused.
std::optional<NetIdentity> resolve_net_identity(const std::string& user,
                                                const std::optional<std::string>& group,
                                                std::string* error);

// Creates the jail directory (root-owned, 0755) if it does not exist and
// checks that it is a directory the unprivileged user cannot write.
bool prepare_jail(const std::string& dir, std::string* error);

// Resolves every `restrict HOSTNAME` line into numeric rules. A name that
// does not resolve is an error: the daemon fails closed rather than serve
// with a restriction missing.
std::optional<std::vector<common::RestrictRule>> resolve_restrict_hostnames(
    const common::NtpConfig& config, std::string* error);

// Reads and parses the keys file; an unreadable file is one error
// diagnostic. The read buffer is wiped. Used by load_keys and --check-config.
common::ParsedKeys read_keys_file(const std::string& path);

// Reads and parses the keys file, logging every diagnostic (never a key).
// No path: no keys. An unreadable file or a file with errors is fatal.
std::optional<std::vector<common::SymmetricKey>> load_keys(const std::optional<std::string>& path,
                                                           std::string* error);

// Reads resolv.conf and hosts (ntpd-net cannot: its jail has neither) and
// returns the resolver settings for NetConfig, logging what glibc would
// ignore. A missing file gives glibc's defaults; never fatal.
ipc::DnsConfig load_dns_config(const common::NtpConfig& config,
                               const std::string& resolv_path = "/etc/resolv.conf",
                               const std::string& hosts_path = "/etc/hosts");

// Opens ntpd-net with O_PATH: --net-program, else beside this executable,
// else the install path.
common::UniqueFd open_net_program(const std::optional<std::string>& override_path,
                                  std::string* resolved, std::string* error);

}  // namespace ntpd::clock
