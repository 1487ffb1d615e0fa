// The MRU monitor list (ntpd ntp_monitor.c, ntp.conf "mru"): one entry per
// source address, most recently used first, in storage reserved once from
// maxmem/maxdepth, so memory is bounded and no packet allocates. Pure core
// for ntpd-net: time is an argument; no clock, sockets or logging. The
// hash is keyed by a caller-supplied random seed (no hash flooding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/ntp_conf_types.h"
#include "common/time_types.h"
#include "ntpd-net/restrict.h"  // IpAddress, canonical_address

namespace ntpd::net {

// ntpsec ntp_monitor.c defaults.
inline constexpr std::int64_t kDefaultMruMaxMemKib = 1024;  // MRU_MAXDEPTH_DEF: 1 MiB
inline constexpr std::int64_t kDefaultMruMinDepth = 600;
inline constexpr std::int64_t kDefaultMruMaxAgeS = 3600;
inline constexpr std::int64_t kDefaultMruMinAgeS = 64;
// Cap on entries whatever maxdepth says (about 1.2 GiB of storage).
inline constexpr std::size_t kMaxMruEntries = std::size_t{1} << 24;

struct MruLimits {
  std::size_t max_entries = 0;  // maxdepth, or what fits in maxmem
  std::size_t min_entries = 0;  // mindepth: kept whatever their age (<= max_entries)
  std::int64_t max_age_ns = kDefaultMruMaxAgeS * common::kNsPerSecond;
  std::int64_t min_age_ns = kDefaultMruMinAgeS * common::kNsPerSecond;
  std::size_t max_bytes = 0;  // maxmem: bytes the list may use (memory_bytes()); 0 = no bound
};

// The limits an ntp.conf "mru" line sets (ntpsec defaults for what it
// leaves out). maxmem is KiB; with both maxmem and maxdepth the smaller
// count wins (ntpd lets the later one win; ours cannot know the order).
// initalloc/initmem/incalloc/incmem are accepted but unused: storage is
// reserved at once. Negative values are treated as 0.
MruLimits mru_limits_from_config(const std::optional<common::MruConfig>& config);

// One source, as ntpq's mrulist shows it, plus the rate limiter's score.
struct MruEntry {
  IpAddress address;
  std::uint16_t port = 0;  // of the last packet
  std::uint8_t mode = 0;   // of the last packet
  std::uint8_t version = 0;
  common::UnixNs first;  // first packet
  common::UnixNs last;   // last packet
  std::uint32_t count = 0;
  std::int64_t score_ns = 0;  // rate_limit.h's leaky bucket (ntpd mon->leak)
};

class MruList {
 public:
  // Reserves storage for min(max_entries, entries_for_bytes(max_bytes),
  // kMaxMruEntries) entries. hash_seed should come from getrandom().
  MruList(const MruLimits& limits, std::uint64_t hash_seed);

  // How many entries a list may hold within `bytes` of memory_bytes().
  static std::size_t entries_for_bytes(std::size_t bytes);

  struct Touch {
    // Valid until the next touch() or clear(). nullptr: the list is full of
    // entries younger than minage (ntpd's mru_none), the source is untracked.
    MruEntry* entry = nullptr;
    bool created = false;         // a new entry (count 1, score 0)
    std::int64_t elapsed_ns = 0;  // since the entry's previous packet; >= 0
  };
  // Records a packet from addr:port at `now`: moves its entry to the front
  // (count + 1, last = now) or makes one, taking storage in ntpsec's order:
  // below mindepth a new slot; the oldest entry if older than maxage; a
  // new slot below the limit; the oldest if older than minage; else none.
  // Never allocates. A clock step backwards makes elapsed 0, not negative.
  Touch touch(const IpAddress& addr, std::uint16_t port, common::UnixNs now);

  const MruEntry* find(const IpAddress& addr) const;
  std::size_t size() const { return slots_.size(); }
  std::size_t capacity() const { return capacity_; }
  // Bytes reserved by this list: the object, its entry storage and its
  // hash index. Never above MruLimits::max_bytes when that is set.
  std::size_t memory_bytes() const;
  void clear();

  // Calls f(const MruEntry&) from the newest to the oldest (ntpq mrulist).
  template <typename F>
  void for_each_newest_first(F&& f) const {
    for (std::uint32_t i = newest_; i != kNil; i = slots_[i].older) f(slots_[i].entry);
  }

  struct Stats {
    std::uint64_t exists = 0;         // packets from a known source
    std::uint64_t created = 0;        // new slots
    std::uint64_t recycled_old = 0;   // oldest reused: older than maxage
    std::uint64_t recycled_full = 0;  // oldest reused: list full, older than minage
    std::uint64_t none = 0;           // untracked: list full of young entries
  };
  const Stats& stats() const { return stats_; }

 private:
  static constexpr std::uint32_t kNil = 0xffffffffu;
  struct Slot {
    MruEntry entry;
    std::uint32_t hash_next = kNil;
    std::uint32_t newer = kNil;
    std::uint32_t older = kNil;
  };
  static std::size_t bucket_count_for(std::size_t entries);

  std::uint32_t bucket_of(const IpAddress& normalized) const;
  std::uint32_t lookup(const IpAddress& normalized, std::uint32_t bucket) const;
  std::uint32_t take_slot(common::UnixNs now);
  void unlink_hash(std::uint32_t index);
  void unlink_mru(std::uint32_t index);
  void push_front(std::uint32_t index);

  MruLimits limits_;
  std::size_t capacity_ = 0;
  std::uint64_t seed0_ = 0;
  std::uint64_t seed1_ = 0;
  std::vector<Slot> slots_;             // reserved to capacity_, never reallocated
  std::vector<std::uint32_t> buckets_;  // power of two, <= capacity_
  std::uint32_t newest_ = kNil;
  std::uint32_t oldest_ = kNil;
  Stats stats_;
};

}  // namespace ntpd::net
