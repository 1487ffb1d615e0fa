// Startup I/O of the clock process (see startup.h).
#include "ntpd-clock/startup.h"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/resolv_conf.h"
#include "common/restrict_rule.h"
#include "common/text_file.h"
#include "ntpd-clock/startup_config.h"

namespace ntpd::clock {

std::optional<std::string> read_config_file(const std::string& path, std::string* error) {
  return common::read_text_file(path, error);
}

std::optional<common::NtpConfig> load_config(const std::string& path, bool path_was_given,
                                             std::string* error) {
  if (!path_was_given && access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    common::logf(LOG_WARNING, "CONFIG: %s does not exist; running with no associations",
                 path.c_str());
    return common::NtpConfig{};
  }
  common::ParsedConfig parsed = common::parse_ntp_conf(path, common::FileReader(read_config_file));
  for (const auto& d : parsed.diagnostics) {
    const int priority =
        d.severity == common::ConfigDiagnostic::Severity::kError ? LOG_ERR : LOG_WARNING;
    common::logf(priority, "CONFIG: %s", d.to_string().c_str());
  }
  if (parsed.fatal) {
    *error = "refusing to start: " + path +
             " has an access-control error or cannot be read (see the lines above)";
    return std::nullopt;
  }
  return std::move(parsed.config);
}

std::optional<NetIdentity> resolve_net_identity(const std::string& user,
                                                const std::optional<std::string>& group,
                                                std::string* error) {
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    *error = "user '" + user + "' for the network process does not exist (choose one with -u)";
    return std::nullopt;
  }
  NetIdentity identity{pw->pw_uid, pw->pw_gid};
  if (group) {
    const struct group* gr = getgrnam(group->c_str());
    if (gr == nullptr) {
      *error = "group '" + *group + "' for the network process does not exist";
      return std::nullopt;
    }
    identity.gid = gr->gr_gid;
  }
  if (identity.uid == 0 || identity.gid == 0) {
    *error = "the network process must not run as root (user '" + user + "')";
    return std::nullopt;
  }
  return identity;
}

bool prepare_jail(const std::string& dir, std::string* error) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = "cannot create jail directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "jail " + dir + " is not a directory";
    return false;
  }
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    *error = "jail " + dir + " must be owned by root and not group- or world-writable";
    return false;
  }
  return true;
}

std::optional<std::vector<common::RestrictRule>> resolve_restrict_hostnames(
    const common::NtpConfig& config, std::string* error) {
  std::vector<common::RestrictRule> out;
  for (const auto& rule : config.restrictions) {
    if (!rule.needs_resolution()) continue;
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* results = nullptr;
    const int rc = getaddrinfo(rule.hostname.c_str(), nullptr, &hints, &results);
    if (rc != 0) {
      *error = rule.location.to_string() + ": restrict " + rule.hostname + ": cannot resolve (" +
               gai_strerror(rc) + "); refusing to start without it";
      return std::nullopt;
    }
    for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
      common::ConfigAddress address;
      if (ai->ai_family == AF_INET) {
        address.family = common::AddressFamily::kIpv4;
        std::memcpy(address.bytes.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr,
                    4);
      } else if (ai->ai_family == AF_INET6) {
        address.family = common::AddressFamily::kIpv6;
        std::memcpy(address.bytes.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                    16);
      } else {
        continue;
      }
      if (auto resolved = common::resolve_hostname_rule(rule, address)) out.push_back(*resolved);
    }
    freeaddrinfo(results);
  }
  return out;
}

common::ParsedKeys read_keys_file(const std::string& path) {
  std::string read_error;
  auto text = common::read_text_file(path, &read_error);
  if (!text) {
    common::ParsedKeys unreadable;
    unreadable.diagnostics.push_back(common::KeysDiagnostic{
        common::KeysDiagnostic::Severity::kError, path, 0, 0, "cannot read: " + read_error});
    return unreadable;
  }
  common::ParsedKeys parsed = common::parse_keys_file_text(path, *text);
  // ASCII keys were copied out of this buffer: wipe it.
  explicit_bzero(text->data(), text->size());
  return parsed;
}

std::optional<std::vector<common::SymmetricKey>> load_keys(const std::optional<std::string>& path,
                                                           std::string* error) {
  if (!path) return std::vector<common::SymmetricKey>{};
  common::ParsedKeys parsed = read_keys_file(*path);
  for (const auto& d : parsed.diagnostics)
    common::logf(LOG_WARNING, "KEYS: %s", d.to_string().c_str());
  if (parsed.has_errors()) {
    *error = "keys file " + *path + " has errors (see the lines above)";
    return std::nullopt;
  }
  return std::move(parsed.keys);
}

common::UniqueFd open_net_program(const std::optional<std::string>& override_path,
                                  std::string* resolved, std::string* error) {
  std::vector<std::string> candidates;
  if (override_path) {
    candidates.push_back(*override_path);
  } else {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
      std::string exe(self, static_cast<std::size_t>(n));
      candidates.push_back(exe.substr(0, exe.rfind('/') + 1) + "ntpd-net");
    }
    candidates.push_back(NTPD_NET_INSTALL_PATH);
  }
  for (const auto& path : candidates) {
    if (access(path.c_str(), X_OK) != 0) continue;
    common::UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd) {
      *resolved = path;
      return fd;
    }
  }
  *error = "cannot find an executable ntpd-net (tried";
  for (const auto& path : candidates) *error += " " + path;
  *error += ")";
  return {};
}

ipc::DnsConfig load_dns_config(const common::NtpConfig& config, const std::string& resolv_path,
                               const std::string& hosts_path) {
  std::string error;
  // As glibc: no resolv.conf means the defaults (a nameserver on 127.0.0.1).
  const auto resolv_text = common::read_text_file(resolv_path, &error);
  if (!resolv_text) {
    common::logf(LOG_INFO, "DNS: %s: %s; using the defaults", resolv_path.c_str(), error.c_str());
  }
  common::ResolvConf resolv = common::parse_resolv_conf(resolv_text.value_or(""), resolv_path);
  if (const char* options = std::getenv("RES_OPTIONS")) {
    common::apply_resolv_options(resolv, options);
  }
  // The jail has no interfaces to name: scopes become numbers here.
  common::resolve_scope_names(resolv, [](const std::string& name) -> std::uint32_t {
    return if_nametoindex(name.c_str());
  });
  for (const auto& warning : resolv.warnings) {
    common::logf(LOG_WARNING, "DNS: %s", warning.c_str());
  }
  const auto hosts_text = common::read_text_file(hosts_path, &error);
  if (!hosts_text) {
    common::logf(LOG_INFO, "DNS: %s: %s", hosts_path.c_str(), error.c_str());
  }
  const common::HostsTable hosts = common::parse_hosts(hosts_text.value_or(""), hosts_path);
  for (const auto& warning : hosts.warnings) {
    common::logf(LOG_WARNING, "DNS: %s", warning.c_str());
  }
  return dns_config_for(resolv, hosts, config);
}

}  // namespace ntpd::clock
