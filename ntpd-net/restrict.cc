// The restrict access list (see restrict.h). Entries are kept in ntpd's
// order; the lookup index groups them by distinct mask so a match costs one
// binary search per mask instead of a scan of every entry, and returns the
// entry with the lowest ntpd rank, which is what ntpd's linear scan finds.
#include "ntpd-net/restrict.h"

#include <algorithm>

namespace ntpd::net {
namespace {

using common::AddressFamily;
using common::RestrictFlags;
using common::RestrictRule;
using common::RestrictTarget;

constexpr std::size_t kV4 = 0;
constexpr std::size_t kV6 = 1;

// Every RestrictFlags member is a bool; a new one must be added to or_flags.
static_assert(sizeof(RestrictFlags) == 16, "update or_flags for new restrict flags");

void or_flags(RestrictFlags& to, const RestrictFlags& from) {
  to.ignore |= from.ignore;
  to.kod |= from.kod;
  to.limited |= from.limited;
  to.lowpriotrap |= from.lowpriotrap;
  to.mssntp |= from.mssntp;
  to.nomodify |= from.nomodify;
  to.nomrulist |= from.nomrulist;
  to.noepeer |= from.noepeer;
  to.nopeer |= from.nopeer;
  to.noquery |= from.noquery;
  to.noserve |= from.noserve;
  to.notrap |= from.notrap;
  to.notrust |= from.notrust;
  to.ntpport |= from.ntpport;
  to.version |= from.version;
  to.serverresponse_fuzz |= from.serverresponse_fuzz;
}

std::size_t family_of(const IpAddress& addr) {
  return addr.family == AddressFamily::kIpv6 ? kV6 : kV4;
}

// ntpd restrictions(): IN_CLASSD for IPv4, IN6_IS_ADDR_MULTICAST for IPv6.
bool is_multicast(const IpAddress& addr) {
  return addr.family == AddressFamily::kIpv6 ? addr.bytes[0] == 0xff
                                             : (addr.bytes[0] & 0xf0) == 0xe0;
}

}  // namespace

RestrictTable::Key128 RestrictTable::key_of(const IpAddress& addr) {
  Key128 key;
  const std::size_t n = addr.size();
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint64_t byte = i < n ? addr.bytes[i] : 0;
    if (i < 8) {
      key.hi |= byte << (56 - 8 * i);
    } else {
      key.lo |= byte << (56 - 8 * (i - 8));
    }
  }
  return key;
}

RestrictTable::Key128 RestrictTable::host_mask(std::size_t family) {
  return family == kV6 ? Key128{~0ULL, ~0ULL} : Key128{0xffffffffULL << 32, 0};
}

RestrictTable::RestrictTable() : RestrictTable(std::span<const RestrictRule>{}) {}

RestrictTable::RestrictTable(std::span<const RestrictRule> rules) {
  // ntpd init_restrict(): each list starts with its 0/0 default entry.
  for (const std::size_t family : {kV4, kV6}) merge(family, Entry{});
  for (const RestrictRule& rule : rules) {
    Entry entry;
    entry.flags = rule.flags;
    entry.match_flags = rule.flags.ntpport ? kMatchNtpPort : 0;
    switch (rule.target) {
      case RestrictTarget::kDefault:
        if (rule.family != AddressFamily::kIpv6) merge(kV4, entry);
        if (rule.family != AddressFamily::kIpv4) merge(kV6, entry);
        break;
      case RestrictTarget::kAddress: {
        const IpAddress address = canonical_address(rule.address);
        // A mapped address keeps its IPv6 mask's low 32 bits.
        IpAddress mask = rule.mask;
        if (address.family != rule.address.family) {
          mask.family = AddressFamily::kIpv4;
          std::copy_n(rule.mask.bytes.begin() + 12, 4, mask.bytes.begin());
        }
        entry.mask = key_of(mask);
        const Key128 a = key_of(address);
        entry.address = Key128{a.hi & entry.mask.hi, a.lo & entry.mask.lo};
        merge(family_of(address), entry);
        break;
      }
      case RestrictTarget::kSource:
        source_enabled_ = true;
        or_flags(source_flags_, rule.flags);
        break;
      case RestrictTarget::kHostname:
        break;
    }
  }
  rebuild(kV4);
  rebuild(kV6);
}

// ntpd hack_restrict(RESTRICT_FLAGS): OR into an exact match, else add.
void RestrictTable::merge(std::size_t family, const Entry& entry) {
  for (Entry& existing : entries_[family]) {
    if (existing.address == entry.address && existing.mask == entry.mask &&
        existing.match_flags == entry.match_flags) {
      or_flags(existing.flags, entry.flags);
      return;
    }
  }
  entries_[family].push_back(entry);
}

// ntpd res_sorts_before4/6: descending address, mask, then match flags.
void RestrictTable::rebuild(std::size_t family) {
  auto& entries = entries_[family];
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.address != b.address) return a.address > b.address;
    if (a.mask != b.mask) return a.mask > b.mask;
    return a.match_flags > b.match_flags;
  });
  auto& classes = classes_[family];
  classes.clear();
  for (std::size_t rank = 0; rank < entries.size(); ++rank) {
    const Entry& entry = entries[rank];
    auto cls = std::find_if(classes.begin(), classes.end(),
                            [&](const MaskClass& c) { return c.mask == entry.mask; });
    if (cls == classes.end()) cls = classes.insert(classes.end(), MaskClass{entry.mask, {}});
    cls->slots.push_back(Slot{entry.address, static_cast<std::uint32_t>(rank), entry.match_flags});
  }
  for (auto& cls : classes) {
    std::sort(cls.slots.begin(), cls.slots.end(), [](const Slot& a, const Slot& b) {
      return a.address != b.address ? a.address < b.address : a.rank < b.rank;
    });
  }
}

const RestrictTable::Entry& RestrictTable::best(std::size_t family, Key128 address,
                                                std::uint16_t port) const {
  const auto& entries = entries_[family];
  std::uint32_t best_rank = static_cast<std::uint32_t>(entries.size() - 1);  // the default
  for (const MaskClass& cls : classes_[family]) {
    const Key128 masked{address.hi & cls.mask.hi, address.lo & cls.mask.lo};
    auto it = std::lower_bound(cls.slots.begin(), cls.slots.end(), masked,
                               [](const Slot& s, const Key128& k) { return s.address < k; });
    for (; it != cls.slots.end() && it->address == masked; ++it) {
      if ((it->match_flags & kMatchNtpPort) != 0 && port != kNtpPort) continue;
      best_rank = std::min(best_rank, it->rank);
      break;  // slots of one address are in rank order
    }
  }
  return entries[best_rank];
}

RestrictFlags RestrictTable::match(const IpAddress& addr, std::uint16_t port) const {
  const IpAddress address = canonical_address(addr);
  if (is_multicast(address)) {
    RestrictFlags ignore;
    ignore.ignore = true;
    return ignore;
  }
  return best(family_of(address), key_of(address), port).flags;
}

bool RestrictTable::add_source_address(const IpAddress& addr) {
  const IpAddress address = canonical_address(addr);
  if (!source_enabled_ || is_multicast(address)) return false;
  const std::size_t family = family_of(address);
  const Key128 key = key_of(address);
  // ntpd restrict_source(): a host entry that already matches wins.
  if (best(family, key, kNtpPort).mask == host_mask(family)) return false;
  Entry entry;
  entry.address = key;
  entry.mask = host_mask(family);
  entry.match_flags = source_flags_.ntpport ? kMatchNtpPort : 0;
  entry.origin = Origin::kSource;
  entry.flags = source_flags_;
  merge(family, entry);
  rebuild(family);
  return true;
}

bool RestrictTable::remove_source_address(const IpAddress& addr) {
  const IpAddress address = canonical_address(addr);
  const std::size_t family = family_of(address);
  const Key128 key = key_of(address);
  auto& entries = entries_[family];
  const auto removed = std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) {
    return e.origin == Origin::kSource && e.address == key && e.mask == host_mask(family);
  });
  if (removed == entries.end()) return false;
  entries.erase(removed, entries.end());
  rebuild(family);
  return true;
}

void RestrictTable::add_interface_address(const IpAddress& addr) {
  const IpAddress address = canonical_address(addr);
  const std::size_t family = family_of(address);
  Entry entry;
  entry.address = key_of(address);
  entry.mask = host_mask(family);
  entry.match_flags = kMatchNtpPort | kMatchInterface;
  entry.origin = Origin::kInterface;
  entry.flags.ignore = true;
  entry.flags.ntpport = true;
  merge(family, entry);
  rebuild(family);
}

bool RestrictTable::any_limited() const {
  if (source_enabled_ && source_flags_.limited) return true;
  for (const auto& entries : entries_) {
    for (const Entry& entry : entries) {
      if (entry.flags.limited) return true;
    }
  }
  return false;
}

}  // namespace ntpd::net
