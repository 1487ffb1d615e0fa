// tos orphan / orphanwait from NetConfig (see engine_options.h).
#include "ntpd-net/engine_options.h"

#include <syslog.h>

#include "common/log.h"

namespace ntpd::net {
namespace {

// An orphanwait beyond a day is a typo, not a plan.
constexpr std::uint32_t kMaxOrphanWaitS = 86'400;

// RFC 5905 MAXDISP: a distance threshold beyond it means nothing.
constexpr std::int64_t kMaxDistanceNs = 16 * common::kNsPerSecond;

// Sets *target when `has`, logging and ignoring a value outside [lo, hi].
template <typename T, typename V>
void apply_bounded(bool has, V value, V lo, V hi, const char* name, T* target) {
  if (!has) return;
  if (value < lo || value > hi) {
    common::logf(LOG_ERR, "PEER: NetConfig tos %s %lld outside %lld..%lld; ignored", name,
                 static_cast<long long>(value), static_cast<long long>(lo),
                 static_cast<long long>(hi));
    return;
  }
  *target = static_cast<T>(value);
}

}  // namespace

void apply_engine_options(const ipc::NetConfig& config, EngineConfig* engine) {
  if (config.has_orphan_stratum()) {
    if (config.orphan_stratum() >= 1 && config.orphan_stratum() <= 15) {
      engine->params.orphan_stratum = static_cast<std::uint8_t>(config.orphan_stratum());
      common::logf(LOG_NOTICE, "PEER: orphan mode at stratum %u", config.orphan_stratum());
    } else {
      common::logf(LOG_ERR, "PEER: NetConfig orphan stratum %u outside 1..15; ignored",
                   config.orphan_stratum());
    }
  }
  SystemParams& p = engine->params;
  apply_bounded(config.has_tos_mindist_ns(), config.tos_mindist_ns(), std::int64_t{0},
                kMaxDistanceNs, "mindist", &p.mindist_ns);
  apply_bounded(config.has_tos_maxdist_ns(), config.tos_maxdist_ns(), std::int64_t{1},
                kMaxDistanceNs, "maxdist", &p.maxdist_ns);
  apply_bounded(config.has_tos_minclock(), config.tos_minclock(), 1u, 100u, "minclock",
                &p.minclock);
  apply_bounded(config.has_tos_maxclock(), config.tos_maxclock(), 1u, 100u, "maxclock",
                &p.maxclock);
  apply_bounded(config.has_tos_minsane(), config.tos_minsane(), 0u, 100u, "minsane", &p.minsane);
  apply_bounded(config.has_tos_floor(), config.tos_floor(), 0u, 15u, "floor", &p.floor);
  apply_bounded(config.has_tos_ceiling(), config.tos_ceiling(), 1u, 16u, "ceiling", &p.ceiling);
  if (config.has_orphan_wait_s()) {
    if (config.orphan_wait_s() <= kMaxOrphanWaitS) {
      engine->orphan_wait_ns =
          static_cast<std::int64_t>(config.orphan_wait_s()) * common::kNsPerSecond;
    } else {
      common::logf(LOG_ERR, "PEER: NetConfig orphanwait %u s above %u s; ignored",
                   config.orphan_wait_s(), kMaxOrphanWaitS);
    }
  }
}

}  // namespace ntpd::net
