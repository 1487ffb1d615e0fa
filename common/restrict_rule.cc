// Implementation of common/restrict_rule.h.
#include "common/restrict_rule.h"

#include <algorithm>
#include <iterator>

namespace ntpd::common {

ConfigAddress canonical_address(const ConfigAddress& addr) {
  ConfigAddress out;
  if (addr.family == AddressFamily::kIpv6) {
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!std::equal(std::begin(kMapped), std::end(kMapped), addr.bytes.begin())) return addr;
    out.family = AddressFamily::kIpv4;
    std::copy_n(addr.bytes.begin() + 12, 4, out.bytes.begin());
    return out;
  }
  out.family = AddressFamily::kIpv4;
  std::copy_n(addr.bytes.begin(), 4, out.bytes.begin());
  return out;
}

std::optional<RestrictRule> resolve_hostname_rule(const RestrictRule& rule,
                                                  const ConfigAddress& resolved) {
  if (rule.target != RestrictTarget::kHostname) return std::nullopt;
  const ConfigAddress address = canonical_address(resolved);
  if (rule.family != AddressFamily::kAny && rule.family != address.family) return std::nullopt;
  ConfigAddress mask;
  mask.family = address.family;
  if (rule.hostname_mask) {
    if (rule.hostname_mask->family != address.family) return std::nullopt;
    mask = *rule.hostname_mask;
  } else {
    std::fill_n(mask.bytes.begin(), mask.size(), std::uint8_t{0xff});
  }
  RestrictRule out = rule;
  out.target = RestrictTarget::kAddress;
  out.family = address.family;
  out.hostname.clear();
  out.hostname_mask.reset();
  out.mask = mask;
  out.address = address;
  for (std::size_t i = 0; i < out.address.bytes.size(); ++i) {
    out.address.bytes[i] = i < mask.size() ? address.bytes[i] & mask.bytes[i] : 0;
  }
  return out;
}

}  // namespace ntpd::common
