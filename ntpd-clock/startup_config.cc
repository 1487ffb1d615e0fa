// Startup decisions of the clock process (see startup_config.h).
#include "ntpd-clock/startup_config.h"

#include <syslog.h>

#include <algorithm>

#include "common/ntp_conf.h"
#include "common/resolv_conf.h"

namespace ntpd::clock {
namespace {

template <typename T>
std::optional<T> first_of(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
}

ipc::AssociationKind to_ipc(common::AssociationKind kind) {
  switch (kind) {
    case common::AssociationKind::kServer:
      return ipc::ASSOCIATION_KIND_SERVER;
    case common::AssociationKind::kPool:
      return ipc::ASSOCIATION_KIND_POOL;
    case common::AssociationKind::kPeer:
      return ipc::ASSOCIATION_KIND_PEER;
    case common::AssociationKind::kBroadcast:
      return ipc::ASSOCIATION_KIND_BROADCAST;
    case common::AssociationKind::kManycastClient:
      break;
  }
  return ipc::ASSOCIATION_KIND_UNSPECIFIED;
}

// ntpd's LOCAL driver defaults to stratum 5 when no fudge says otherwise.
constexpr int kLocalClockDefaultStratum = 5;
// ntpd's tos maxclock default: a pool stops adding servers at this many.
constexpr int kDefaultMaxClock = 10;

}  // namespace

EffectivePaths effective_paths(const Options& options, const common::NtpConfig& config) {
  return EffectivePaths{
      first_of(options.drift_path, config.drift_file), first_of(options.key_path, config.keys_file),
      first_of(options.log_path, config.log_file),     first_of(options.pid_path, config.pid_file),
      first_of(options.stats_dir, config.stats_dir),
  };
}

int log_priority_for(int debug_level) {
  if (debug_level <= 0) return LOG_NOTICE;
  if (debug_level == 1) return LOG_INFO;
  return LOG_DEBUG;
}

ipc::NetConfig build_net_config(const Options& options, const common::NtpConfig& config,
                                int log_priority) {
  ipc::NetConfig net;
  net.set_log_level(log_priority);
  net.set_ipv4_only(options.ipv4_only);
  net.set_ipv6_only(options.ipv6_only);
  for (const auto& a : config.associations) {
    ipc::Association* out = net.add_associations();
    out->set_host(a.host);
    out->set_minpoll_log2s(a.minpoll_log2s);
    out->set_maxpoll_log2s(a.maxpoll_log2s);
    out->set_iburst(a.iburst);
    out->set_burst(a.burst);
    out->set_prefer(a.prefer);
    out->set_noselect(a.noselect);
    if (a.xleave) out->set_xleave(true);
    out->set_version(static_cast<std::uint32_t>(a.version));
    if (a.key_id) out->set_key_id(*a.key_id);
    if (a.family != common::AddressFamily::kAny) {
      out->set_address_family(a.family == common::AddressFamily::kIpv4 ? 4 : 6);
    }
    if (a.ttl) out->set_ttl(static_cast<std::uint32_t>(*a.ttl));
    if (a.refclock) {
      out->set_kind(ipc::ASSOCIATION_KIND_LOCAL_CLOCK);
      out->set_stratum(static_cast<std::uint32_t>(
          a.refclock->fudge.stratum.value_or(kLocalClockDefaultStratum)));
    } else {
      out->set_kind(to_ipc(a.kind));
    }
  }
  net.set_tos_maxclock(static_cast<std::uint32_t>(config.tos.maxclock.value_or(kDefaultMaxClock)));
  add_broadcast_and_orphan(options, config, &net);
  return net;
}

ipc::DnsConfig dns_config_for(const common::ResolvConf& resolv, const common::HostsTable& hosts,
                              const common::NtpConfig& config) {
  ipc::DnsConfig dns;
  for (const auto& ns : resolv.nameservers) dns.add_nameservers(ns.to_string());
  for (const auto& domain : resolv.search) dns.add_search(domain);
  dns.set_ndots(resolv.ndots);
  dns.set_timeout_ms(resolv.timeout_s * 1000);
  dns.set_attempts(resolv.attempts);
  dns.set_no_aaaa(resolv.no_aaaa);
  // Only the names the associations use: the whole file may not fit in one
  // IPC message, and ntpd-net needs nothing else. A name without a dot may
  // also be listed in hosts under a search domain.
  std::vector<std::string> names;
  for (const auto& a : config.associations) {
    if (a.address || a.refclock) continue;
    names.push_back(a.host);
    for (const auto& domain : resolv.search) names.push_back(a.host + "." + domain);
  }
  for (const auto& entry : common::select_hosts(hosts, names)) {
    ipc::DnsHost* out = dns.add_hosts();
    out->set_name(entry.name);
    for (const auto& address : entry.addresses) out->add_addresses(address);
  }
  return dns;
}

void add_broadcast_and_orphan(const Options& options, const common::NtpConfig& config,
                              ipc::NetConfig* net) {
  if (config.tos.orphan) net->set_orphan_stratum(static_cast<std::uint32_t>(*config.tos.orphan));
  if (config.tos.orphanwait_s) {
    net->set_orphan_wait_s(static_cast<std::uint32_t>(*config.tos.orphanwait_s));
  }
  const common::TosConfig& tos = config.tos;
  // Seconds to ns, bounded so the conversion cannot overflow; ntpd-net
  // checks the real range.
  auto ns = [](double s) { return static_cast<std::int64_t>(std::clamp(s, 0.0, 1e6) * 1e9); };
  if (tos.mindist_s) net->set_tos_mindist_ns(ns(*tos.mindist_s));
  if (tos.maxdist_s) net->set_tos_maxdist_ns(ns(*tos.maxdist_s));
  if (tos.minclock) net->set_tos_minclock(static_cast<std::uint32_t>(*tos.minclock));
  if (tos.minsane) net->set_tos_minsane(static_cast<std::uint32_t>(*tos.minsane));
  if (tos.floor) net->set_tos_floor(static_cast<std::uint32_t>(*tos.floor));
  if (tos.ceiling) net->set_tos_ceiling(static_cast<std::uint32_t>(*tos.ceiling));
  const bool enabled = config.broadcast_client || options.broadcast_client ||
                       options.multicast_client || !config.multicast_groups.empty() ||
                       config.flags.bclient.value_or(false);
  if (!enabled) return;
  ipc::BroadcastClientConfig* b = net->mutable_broadcast_client();
  b->set_enabled(true);
  b->set_novolley(config.broadcast_client_novolley);
  // -r wins over broadcastdelay; ntpd's default is 4 ms. Bounded to 1 s.
  const double delay_s = std::clamp(
      options.broadcast_delay_s.value_or(config.broadcast_delay_s.value_or(0.004)), 0.0, 1.0);
  b->set_delay_ns(static_cast<std::int64_t>(delay_s * 1e9));
  // ntpd: broadcast clients need authentication unless -A or `disable auth`.
  b->set_require_auth(options.auth_required && config.flags.auth.value_or(true));
}

std::string access_config_text(const common::NtpConfig& config,
                               const std::vector<common::RestrictRule>& resolved) {
  common::NtpConfig access;
  for (const auto& rule : config.restrictions) {
    if (!rule.needs_resolution()) access.restrictions.push_back(rule);
  }
  access.restrictions.insert(access.restrictions.end(), resolved.begin(), resolved.end());
  access.discard = config.discard;
  access.mru = config.mru;
  return common::describe_config(access);
}

void add_keys(const std::vector<common::SymmetricKey>& keys, const Options& options,
              const common::NtpConfig& config, ipc::NetConfig* net) {
  for (const auto& key : keys) {
    ipc::SymmetricKey* out = net->add_keys();
    out->set_id(key.id);
    out->set_type(static_cast<std::uint32_t>(key.type));
    const auto secret = key.secret.bytes();
    out->set_secret(std::string(reinterpret_cast<const char*>(secret.data()), secret.size()));
  }
  for (std::uint32_t id : config.trusted_keys) net->add_trusted_keys(id);
  for (std::uint16_t id : options.trusted_keys) net->add_trusted_keys(id);
}

std::vector<common::ConfigDiagnostic> association_key_problems(
    const common::NtpConfig& config, const std::vector<common::SymmetricKey>& keys,
    const Options& options, const std::optional<std::string>& keys_path) {
  std::vector<common::ConfigDiagnostic> problems;
  for (const auto& a : config.associations) {
    if (!a.key_id) continue;
    const std::uint32_t id = *a.key_id;
    const bool loaded = std::any_of(keys.begin(), keys.end(),
                                    [id](const common::SymmetricKey& k) { return k.id == id; });
    const bool trusted = std::find(config.trusted_keys.begin(), config.trusted_keys.end(), id) !=
                             config.trusted_keys.end() ||
                         std::find(options.trusted_keys.begin(), options.trusted_keys.end(), id) !=
                             options.trusted_keys.end();
    std::string why;
    if (!loaded) {
      why = keys_path ? "is not in the keys file " + *keys_path : "needs a keys file (keys or -k)";
    } else if (!trusted) {
      why = "is not trusted (add it to trustedkey)";
    } else {
      continue;
    }
    const std::string what = a.kind == common::AssociationKind::kPeer   ? "peer"
                             : a.kind == common::AssociationKind::kPool ? "pool"
                                                                        : "server";
    problems.push_back(common::ConfigDiagnostic{
        common::ConfigDiagnostic::Severity::kError, a.location.file, a.location.line, 0,
        what + " " + a.host + " key " + std::to_string(id) + ": key " + std::to_string(id) + " " +
            why + "; this association will not be polled"});
  }
  return problems;
}

std::optional<FilegenSettings> loopstats_settings(const common::NtpConfig& config,
                                                  const std::optional<std::string>& stats_dir) {
  if (!stats_dir) return std::nullopt;
  bool enabled = std::find(config.statistics.begin(), config.statistics.end(), "loopstats") !=
                 config.statistics.end();
  FilegenSettings settings;
  for (const auto& filegen : config.filegens) {
    if (filegen.name != "loopstats") continue;
    if (filegen.enabled) enabled = *filegen.enabled;
    if (filegen.file) settings.base_name = *filegen.file;
    if (filegen.type) settings.type = *filegen.type;
    if (filegen.link) settings.link = *filegen.link;
  }
  if (!enabled || config.flags.stats == false) return std::nullopt;
  return settings;
}

bool rtc_enabled(const Options& options, const common::NtpConfig& config) {
  return config.flags.rtc.value_or(true) && !options.no_clock_control && !options.quit_after_set;
}

DisciplineConfig discipline_config(const Options& options, const common::NtpConfig& config,
                                   std::optional<std::int64_t> drift_ppb) {
  DisciplineConfig d;
  const common::TinkerConfig& t = config.tinker;
  auto ns = [](double seconds) { return static_cast<std::int64_t>(seconds * 1e9); };
  if (t.step_s) d.step_threshold_ns = ns(*t.step_s);
  if (t.stepout_s) d.stepout_ns = ns(*t.stepout_s);
  if (t.panic_s) d.panic_threshold_ns = ns(*t.panic_s);
  if (t.dispersion_ppm) d.dispersion_ppb = static_cast<std::int64_t>(*t.dispersion_ppm * 1000);
  // ntpd documents `tinker allan` in log2 seconds.
  if (t.allan_s) d.allan_log2s = static_cast<int>(*t.allan_s);
  if (t.huffpuff_s) d.huffpuff_ns = ns(*t.huffpuff_s);
  if (drift_ppb) {
    d.initial_frequency_ppb = drift_ppb;
  } else if (t.freq_ppm) {
    d.initial_frequency_ppb = static_cast<std::int64_t>(*t.freq_ppm * 1000);
  }
  d.allow_big_first_step = options.panic_gate;
  d.slew_only = options.slew_only;
  d.quit_after_set = options.quit_after_set;
  d.kernel = config.flags.kernel.value_or(true);
  bool any = false;
  for (const auto& a : config.associations) {
    d.min_poll_log2s = any ? std::min(d.min_poll_log2s, a.minpoll_log2s) : a.minpoll_log2s;
    d.max_poll_log2s = any ? std::max(d.max_poll_log2s, a.maxpoll_log2s) : a.maxpoll_log2s;
    any = true;
  }
  return d;
}

}  // namespace ntpd::clock
