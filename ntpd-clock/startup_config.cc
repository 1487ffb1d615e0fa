// Startup decisions of the clock process (see startup_config.h).
#include "ntpd-clock/startup_config.h"

#include <syslog.h>

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
      first_of(options.drift_path, config.drift_file),
      first_of(options.key_path, config.keys_file),
      first_of(options.log_path, config.log_file),
      first_of(options.pid_path, config.pid_file),
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

}  // namespace ntpd::clock
