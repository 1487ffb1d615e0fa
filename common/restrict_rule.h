// Address normalization and hostname resolution for restrict rules, shared
// by the clock process (which resolves restrict hostnames at startup) and
// ntpd-net's restrict table. Pure: no lookups here; the caller resolves.
#pragma once

#include <optional>

#include "common/ntp_conf_types.h"

namespace ntpd::common {

// ::ffff:a.b.c.d becomes a.b.c.d, so one rule covers both socket families.
ConfigAddress canonical_address(const ConfigAddress& addr);

// The numeric rule a `restrict HOSTNAME [mask M]` line stands for once the
// name resolved to `resolved`; nullopt if the family does not fit.
std::optional<RestrictRule> resolve_hostname_rule(const RestrictRule& rule,
                                                  const ConfigAddress& resolved);

}  // namespace ntpd::common
