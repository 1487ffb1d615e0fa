// tos orphan / orphanwait from NetConfig (see engine_options.h).
#include "ntpd-net/engine_options.h"

#include <syslog.h>

#include "common/log.h"

namespace ntpd::net {
namespace {

// An orphanwait beyond a day is a typo, not a plan.
constexpr std::uint32_t kMaxOrphanWaitS = 86'400;

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
