// The restrict access list, matched exactly as ntpd's ntp_restrict.c does:
// rules in, the flags for a source address and port out. Pure core for
// ntpd-net: no DNS (hostname rules are resolved by the caller), no sockets,
// no clock, no logging. Lookups never allocate.
//
// ntpd keeps one list per family sorted by descending address, then mask,
// then match flags (ntpport before plain), and the first entry whose
// address equals source & mask wins; with prefix masks that is the most
// specific (longest) match. The default entry (0/0) is always last.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/ntp_conf_types.h"
#include "common/restrict_rule.h"

namespace ntpd::net {

// An IPv4 or IPv6 address (network byte order; IPv4 in the first 4 bytes).
using IpAddress = common::ConfigAddress;

inline constexpr std::uint16_t kNtpPort = 123;

// canonical_address and resolve_hostname_rule live in common/restrict_rule.h
// (the clock process resolves restrict hostnames at startup).
using common::canonical_address;
using common::resolve_hostname_rule;

class RestrictTable {
 public:
  // No rules: every address gets empty flags (ntpd's bare default entries).
  RestrictTable();
  // kDefault, kAddress and kSource rules; kHostname rules are skipped
  // (resolve them with resolve_hostname_rule first). Rules with the same
  // family, address, mask and ntpport are one entry with their flags OR-ed,
  // as ntpd's hack_restrict; a "default" without -4/-6 feeds both families.
  explicit RestrictTable(std::span<const common::RestrictRule> rules);

  // The flags for a packet from addr:port. IPv4-mapped IPv6 addresses are
  // matched as IPv4. A multicast source gets only `ignore` (ntpd
  // restrictions()). An entry with ntpport matches only port 123.
  common::RestrictFlags match(const IpAddress& addr, std::uint16_t port) const;

  // "restrict source": called as each server/pool/peer address is resolved.
  // Adds a host entry with the source flags unless "restrict source" is not
  // configured, addr is multicast, or a host-mask entry already matches it
  // (ntpd restrict_source()). Returns true if an entry was added.
  bool add_source_address(const IpAddress& addr);
  // Removes the entry add_source_address made for addr (never a configured
  // one: ntpd would remove a configured host entry too). True if removed.
  bool remove_source_address(const IpAddress& addr);

  // ntpd's interface entries (RESM_INTERFACE | RESM_NTPONLY, flags ignore):
  // packets from one of our own addresses and port 123 are ignored.
  void add_interface_address(const IpAddress& addr);

  bool source_enabled() const { return source_enabled_; }
  // ntpd starts the MRU monitor while any entry (or "restrict source") has
  // limited (ntp_restrict.c inc_res_limited).
  bool any_limited() const;
  std::size_t size() const { return entries_[0].size() + entries_[1].size(); }

 private:
  struct Key128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    friend constexpr auto operator<=>(const Key128&, const Key128&) = default;
  };
  enum class Origin : std::uint8_t { kConfig, kSource, kInterface };
  // ntpd RESM_* match flags; a higher value sorts first among equals.
  static constexpr std::uint8_t kMatchNtpPort = 1;
  static constexpr std::uint8_t kMatchInterface = 2;

  struct Entry {
    Key128 address;  // already masked
    Key128 mask;
    std::uint8_t match_flags = 0;
    Origin origin = Origin::kConfig;
    common::RestrictFlags flags;
  };
  // One distinct mask: its entries by address, for binary search.
  struct Slot {
    Key128 address;
    std::uint32_t rank = 0;  // position in ntpd's order; lower wins
    std::uint8_t match_flags = 0;
  };
  struct MaskClass {
    Key128 mask;
    std::vector<Slot> slots;  // sorted by address, then rank
  };
  static Key128 key_of(const IpAddress& addr);
  static Key128 host_mask(std::size_t family);
  void merge(std::size_t family, const Entry& entry);
  void rebuild(std::size_t family);
  const Entry& best(std::size_t family, Key128 address, std::uint16_t port) const;

  std::vector<Entry> entries_[2];  // [0] IPv4, [1] IPv6; in ntpd's order
  std::vector<MaskClass> classes_[2];
  bool source_enabled_ = false;
  common::RestrictFlags source_flags_;
};

}  // namespace ntpd::net
