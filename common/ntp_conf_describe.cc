// describe_config(): prints an NtpConfig back as ntp.conf text, the
// effective configuration for --check-config. Uses the parser's own name
// tables so the output always parses back to the same configuration.
// Pure: builds a string, nothing else.
#include <charconv>
#include <utility>

#include "common/ntp_conf_internal.h"

namespace ntpd::common {
namespace {

using namespace conf_detail;

std::string number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Paths may hold spaces or '#'; the lexer never lets a '"' into a value.
std::string quoted_if_needed(const std::string& text) {
  if (!text.empty() && text.find_first_of(" #") == std::string::npos) return text;
  return "\"" + text + "\"";
}

std::string family_prefix(AddressFamily family) {
  switch (family) {
    case AddressFamily::kIpv4:
      return "-4 ";
    case AddressFamily::kIpv6:
      return "-6 ";
    case AddressFamily::kAny:
      break;
  }
  return "";
}

void describe_paths(const NtpConfig& config, std::string& out) {
  const std::pair<std::string_view, const std::optional<std::string>*> paths[] = {
      {"driftfile", &config.drift_file}, {"leapfile", &config.leap_file},
      {"keys", &config.keys_file},       {"logfile", &config.log_file},
      {"statsdir", &config.stats_dir},   {"pidfile", &config.pid_file},
  };
  for (const auto& [name, path] : paths) {
    if (*path) out += std::string(name) + " " + quoted_if_needed(**path) + "\n";
  }
}

void describe_keys(const NtpConfig& config, std::string& out) {
  if (!config.trusted_keys.empty()) {
    out += "trustedkey";
    for (std::size_t i = 0; i < config.trusted_keys.size();) {
      std::size_t j = i;
      while (j + 1 < config.trusted_keys.size() &&
             config.trusted_keys[j + 1] == config.trusted_keys[j] + 1) {
        ++j;
      }
      if (j - i >= 2) {
        out += " (" + std::to_string(config.trusted_keys[i]) + " ... " +
               std::to_string(config.trusted_keys[j]) + ")";
      } else {
        for (std::size_t k = i; k <= j; ++k) out += " " + std::to_string(config.trusted_keys[k]);
      }
      i = j + 1;
    }
    out += "\n";
  }
  if (config.control_key) out += "controlkey " + std::to_string(*config.control_key) + "\n";
  if (config.request_key) out += "requestkey " + std::to_string(*config.request_key) + "\n";
}

void describe_system(const NtpConfig& config, std::string& out) {
  std::string line;
  for (const auto& field : kTinkerFields) {
    if (config.tinker.*(field.member)) {
      line += " " + std::string(field.name) + " " + number(*(config.tinker.*(field.member)));
    }
  }
  if (!line.empty()) out += "tinker" + line + "\n";
  line.clear();
  for (const auto& field : kTosIntFields) {
    if (config.tos.*(field.member)) {
      line += " " + std::string(field.name) + " " + std::to_string(*(config.tos.*(field.member)));
    }
  }
  for (const auto& field : kTosDoubleFields) {
    if (config.tos.*(field.member)) {
      line += " " + std::string(field.name) + " " + number(*(config.tos.*(field.member)));
    }
  }
  if (config.tos.cohort) line += std::string(" cohort ") + (*config.tos.cohort ? "1" : "0");
  if (!line.empty()) out += "tos" + line + "\n";
  for (const bool enable : {true, false}) {
    line.clear();
    for (const auto& field : kSystemFlagFields) {
      const auto& value = config.flags.*(field.member);
      if (value && *value == enable) line += " " + std::string(field.name);
    }
    if (!line.empty()) out += (enable ? "enable" : "disable") + line + "\n";
  }
  if (config.broadcast_client) {
    out += config.broadcast_client_novolley ? "broadcastclient novolley\n" : "broadcastclient\n";
  }
  if (!config.multicast_groups.empty()) {
    out += "multicastclient";
    for (const auto& group : config.multicast_groups) out += " " + group.to_string();
    out += "\n";
  }
  if (config.broadcast_delay_s) {
    out += "broadcastdelay " + number(*config.broadcast_delay_s) + "\n";
  }
  if (config.mru) {
    line.clear();
    for (const auto& field : kMruFields) {
      if ((*config.mru).*(field.member)) {
        line +=
            " " + std::string(field.name) + " " + std::to_string(*((*config.mru).*(field.member)));
      }
    }
    if (!line.empty()) out += "mru" + line + "\n";
  }
  if (!config.log_config.empty()) {
    out += "logconfig";
    for (const auto& item : config.log_config) out += " " + item;
    out += "\n";
  }
}

void describe_statistics(const NtpConfig& config, std::string& out) {
  if (!config.statistics.empty()) {
    out += "statistics";
    for (const auto& name : config.statistics) out += " " + name;
    out += "\n";
  }
  for (const auto& filegen : config.filegens) {
    out += "filegen " + filegen.name;
    if (filegen.file) out += " file " + quoted_if_needed(*filegen.file);
    if (filegen.type) {
      for (const auto& type : kFilegenTypes) {
        if (type.type == *filegen.type) out += " type " + std::string(type.name);
      }
    }
    if (filegen.link) out += *filegen.link ? " link" : " nolink";
    if (filegen.enabled) out += *filegen.enabled ? " enable" : " disable";
    out += "\n";
  }
}

void describe_associations(const NtpConfig& config, std::string& out) {
  for (const auto& a : config.associations) {
    out += std::string(kind_name(a.kind)) + " " + family_prefix(a.family) + a.host;
    const std::pair<const char*, bool> flags[] = {
        {"iburst", a.iburst},     {"burst", a.burst},      {"prefer", a.prefer},
        {"noselect", a.noselect}, {"true", a.true_chimer}, {"preempt", a.preempt},
        {"xleave", a.xleave},
    };
    for (const auto& [name, set] : flags) {
      if (set) out += std::string(" ") + name;
    }
    if (a.minpoll_log2s != kDefaultMinPollLog2s)
      out += " minpoll " + std::to_string(a.minpoll_log2s);
    if (a.maxpoll_log2s != kDefaultMaxPollLog2s)
      out += " maxpoll " + std::to_string(a.maxpoll_log2s);
    if (a.version != 4) out += " version " + std::to_string(a.version);
    if (a.key_id) out += " key " + std::to_string(*a.key_id);
    if (a.mode) out += " mode " + std::to_string(*a.mode);
    if (a.ttl) out += " ttl " + std::to_string(*a.ttl);
    out += "\n";
  }
  for (const auto& a : config.associations) {
    if (!a.refclock) continue;
    const FudgeOptions& fudge = a.refclock->fudge;
    std::string line;
    if (fudge.stratum) line += " stratum " + std::to_string(*fudge.stratum);
    if (fudge.refid) line += " refid " + *fudge.refid;
    if (fudge.time1_s) line += " time1 " + number(*fudge.time1_s);
    if (fudge.time2_s) line += " time2 " + number(*fudge.time2_s);
    for (std::size_t i = 0; i < fudge.flags.size(); ++i) {
      if (fudge.flags[i]) line += " flag" + std::to_string(i + 1) + (*fudge.flags[i] ? " 1" : " 0");
    }
    if (!line.empty()) out += "fudge " + a.host + line + "\n";
  }
}

void describe_access(const NtpConfig& config, std::string& out) {
  if (config.discard) {
    std::string line;
    if (config.discard->average_log2s)
      line += " average " + std::to_string(*config.discard->average_log2s);
    if (config.discard->minimum_s) line += " minimum " + std::to_string(*config.discard->minimum_s);
    if (config.discard->monitor_s) line += " monitor " + std::to_string(*config.discard->monitor_s);
    if (!line.empty()) out += "discard" + line + "\n";
  }
  for (const auto& rule : config.restrictions) {
    out += "restrict ";
    switch (rule.target) {
      case RestrictTarget::kDefault:
        out += family_prefix(rule.family) + "default";
        break;
      case RestrictTarget::kSource:
        out += "source";
        break;
      case RestrictTarget::kAddress:
        out += rule.address.to_string();
        if (!(rule.mask == prefix_mask(rule.address.family,
                                       rule.address.family == AddressFamily::kIpv6 ? 128 : 32))) {
          out += " mask " + rule.mask.to_string();
        }
        break;
      case RestrictTarget::kHostname:
        out += family_prefix(rule.family) + rule.hostname;
        if (rule.hostname_mask) out += " mask " + rule.hostname_mask->to_string();
        break;
    }
    for (const auto& flag : kRestrictFlags) {
      if (rule.flags.*(flag.member)) out += " " + std::string(flag.name);
    }
    if (rule.flags.serverresponse_fuzz) out += " serverresponse fuzz";
    if (rule.ippeerlimit) out += " ippeerlimit " + std::to_string(*rule.ippeerlimit);
    out += "\n";
  }
  for (const auto& rule : config.interfaces) {
    out += "interface ";
    out += rule.action == InterfaceAction::kListen   ? "listen "
           : rule.action == InterfaceAction::kIgnore ? "ignore "
                                                     : "drop ";
    switch (rule.match) {
      case InterfaceMatch::kAll:
        out += "all";
        break;
      case InterfaceMatch::kIpv4:
        out += "ipv4";
        break;
      case InterfaceMatch::kIpv6:
        out += "ipv6";
        break;
      case InterfaceMatch::kWildcard:
        out += "wildcard";
        break;
      case InterfaceMatch::kName:
        out += rule.name;
        break;
      case InterfaceMatch::kAddress:
        out += rule.address.to_string() + "/" + std::to_string(rule.prefix_len);
        break;
    }
    out += "\n";
  }
}

}  // namespace

std::string describe_config(const NtpConfig& config) {
  std::string out;
  describe_paths(config, out);
  describe_keys(config, out);
  describe_system(config, out);
  describe_statistics(config, out);
  describe_associations(config, out);
  describe_access(config, out);
  return out;
}

}  // namespace ntpd::common
