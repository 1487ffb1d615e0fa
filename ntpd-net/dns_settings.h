// The resolver settings ntpd-net takes from NetConfig.dns, checked field by
// field before the Resolver sees them: the clock process is trusted, but a
// receiver never acts on a value it has not checked. Pure.
#pragma once

#include <string>
#include <vector>

#include "ntpd-net/resolver.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

inline constexpr std::size_t kMaxDnsHosts = 1024;  // hosts names ntpd-net accepts from NetConfig

// Out-of-range numbers fall back to glibc's defaults and invalid entries
// are skipped; each is described in *problems ("DnsConfig.ndots: 99 out of
// range 0..15; using 1"). An absent DnsConfig gives no nameserver at all.
ResolverConfig resolver_config_from(const ipc::DnsConfig& dns, std::vector<std::string>* problems);

}  // namespace ntpd::net
