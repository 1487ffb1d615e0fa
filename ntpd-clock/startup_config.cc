// Startup decisions of the clock process (see startup_config.h).
#include "ntpd-clock/startup_config.h"

#include <syslog.h>

#include <algorithm>

#include "common/ntp_conf.h"

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
    if (a.refclock) {
      out->set_kind(ipc::ASSOCIATION_KIND_LOCAL_CLOCK);
      out->set_stratum(static_cast<std::uint32_t>(
          a.refclock->fudge.stratum.value_or(kLocalClockDefaultStratum)));
    } else {
      out->set_kind(to_ipc(a.kind));
    }
  }
  return net;
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
