// The MRU monitor list (see mru_list.h). Entries live in one vector reserved
// at construction and are linked by 32-bit indices into a hash chain and a
// doubly linked MRU list; an entry is only ever recycled, never freed, so
// the storage is fixed after warm-up. Buckets are chosen by SipHash-2-4.
#include "ntpd-net/mru_list.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace ntpd::net {
namespace {

std::uint64_t rotl(std::uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

struct SipState {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13) ^ v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16) ^ v2;
    v0 += v3;
    v3 = rotl(v3, 21) ^ v0;
    v2 += v1;
    v1 = rotl(v1, 17) ^ v2;
    v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t word) {
    v3 ^= word;
    round();
    round();
    v0 ^= word;
  }
};

// SipHash-2-4 of three 64-bit words (Aumasson and Bernstein, 2012).
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::uint64_t a, std::uint64_t b,
                        std::uint64_t c) {
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};
  s.absorb(a);
  s.absorb(b);
  s.absorb(c);
  s.absorb(std::uint64_t{24} << 56);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t load_word(const IpAddress& addr, std::size_t first) {
  std::uint64_t word = 0;
  for (std::size_t i = first; i < first + 8; ++i) word = (word << 8) | addr.bytes[i];
  return word;
}

std::size_t clamp_size(std::optional<std::int64_t> value, std::size_t fallback) {
  if (!value) return fallback;
  return *value <= 0 ? 0 : static_cast<std::size_t>(std::min<std::int64_t>(*value, 1LL << 40));
}

std::int64_t seconds_to_ns(std::optional<std::int64_t> value, std::int64_t fallback_s) {
  const std::int64_t s = std::clamp<std::int64_t>(value.value_or(fallback_s), 0, 1LL << 32);
  return s * common::kNsPerSecond;
}

}  // namespace

MruLimits mru_limits_from_config(const std::optional<common::MruConfig>& config) {
  const common::MruConfig c = config.value_or(common::MruConfig{});
  MruLimits limits;
  if (c.maxmem_kib || !c.maxdepth) {
    limits.max_bytes = clamp_size(c.maxmem_kib, kDefaultMruMaxMemKib) * 1024;
  }
  limits.max_entries =
      c.maxdepth ? clamp_size(c.maxdepth, 0) : MruList::entries_for_bytes(limits.max_bytes);
  limits.min_entries = clamp_size(c.mindepth, kDefaultMruMinDepth);
  limits.max_age_ns = seconds_to_ns(c.maxage_s, kDefaultMruMaxAgeS);
  limits.min_age_ns = seconds_to_ns(c.minage_s, kDefaultMruMinAgeS);
  return limits;
}

std::size_t MruList::bucket_count_for(std::size_t entries) {
  return entries == 0 ? 1 : std::bit_floor(entries);  // load factor 1..2
}

std::size_t MruList::entries_for_bytes(std::size_t bytes) {
  // memory_bytes() = sizeof(MruList) + n * sizeof(Slot) + buckets * 4, and
  // buckets <= max(n, 1), so n = (bytes - fixed) / per-entry always fits.
  const std::size_t fixed = sizeof(MruList) + sizeof(std::uint32_t);
  if (bytes <= fixed) return 0;
  return std::min((bytes - fixed) / (sizeof(Slot) + sizeof(std::uint32_t)), kMaxMruEntries);
}

MruList::MruList(const MruLimits& limits, std::uint64_t hash_seed) : limits_(limits) {
  capacity_ = std::min(limits.max_entries, kMaxMruEntries);
  if (limits.max_bytes != 0) capacity_ = std::min(capacity_, entries_for_bytes(limits.max_bytes));
  limits_.min_entries = std::min(limits.min_entries, capacity_);
  seed0_ = splitmix64(hash_seed);
  seed1_ = splitmix64(seed0_);
  slots_.reserve(capacity_);
  buckets_.assign(bucket_count_for(capacity_), kNil);
}

std::size_t MruList::memory_bytes() const {
  return sizeof(MruList) + slots_.capacity() * sizeof(Slot) +
         buckets_.capacity() * sizeof(std::uint32_t);
}

void MruList::clear() {
  slots_.clear();  // keeps the reservation
  std::fill(buckets_.begin(), buckets_.end(), kNil);
  newest_ = oldest_ = kNil;
}

std::uint32_t MruList::bucket_of(const IpAddress& normalized) const {
  const auto family = static_cast<std::uint64_t>(normalized.family);
  const std::uint64_t h =
      siphash24(seed0_, seed1_, load_word(normalized, 0), load_word(normalized, 8), family);
  return static_cast<std::uint32_t>(h & (buckets_.size() - 1));
}

std::uint32_t MruList::lookup(const IpAddress& normalized, std::uint32_t bucket) const {
  for (std::uint32_t i = buckets_[bucket]; i != kNil; i = slots_[i].hash_next) {
    if (slots_[i].entry.address == normalized) return i;
  }
  return kNil;
}

const MruEntry* MruList::find(const IpAddress& addr) const {
  const IpAddress normalized = canonical_address(addr);
  const std::uint32_t i = lookup(normalized, bucket_of(normalized));
  return i == kNil ? nullptr : &slots_[i].entry;
}

void MruList::unlink_hash(std::uint32_t index) {
  std::uint32_t* link = &buckets_[bucket_of(slots_[index].entry.address)];
  while (*link != index) link = &slots_[*link].hash_next;
  *link = slots_[index].hash_next;
  slots_[index].hash_next = kNil;
}

void MruList::unlink_mru(std::uint32_t index) {
  Slot& slot = slots_[index];
  (slot.newer == kNil ? newest_ : slots_[slot.newer].older) = slot.older;
  (slot.older == kNil ? oldest_ : slots_[slot.older].newer) = slot.newer;
  slot.newer = slot.older = kNil;
}

void MruList::push_front(std::uint32_t index) {
  Slot& slot = slots_[index];
  slot.newer = kNil;
  slot.older = newest_;
  if (newest_ != kNil) slots_[newest_].newer = index;
  newest_ = index;
  if (oldest_ == kNil) oldest_ = index;
}

// ntpsec ntp_monitor(): where a new source's entry comes from.
std::uint32_t MruList::take_slot(common::UnixNs now) {
  const bool room = slots_.size() < capacity_;
  if (slots_.size() < limits_.min_entries && room) {
    slots_.emplace_back();
    ++stats_.created;
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  if (oldest_ == kNil && !room) {
    ++stats_.none;  // capacity 0: monitoring effectively off
    return kNil;
  }
  const std::int64_t age =
      oldest_ == kNil ? 0 : std::max<std::int64_t>(0, now.ns - slots_[oldest_].entry.last.ns);
  std::uint32_t reuse = kNil;
  if (oldest_ != kNil && age > limits_.max_age_ns) {
    ++stats_.recycled_old;
    reuse = oldest_;
  } else if (room) {
    slots_.emplace_back();
    ++stats_.created;
    return static_cast<std::uint32_t>(slots_.size() - 1);
  } else if (age < limits_.min_age_ns) {
    ++stats_.none;
    return kNil;
  } else {
    ++stats_.recycled_full;
    reuse = oldest_;
  }
  unlink_mru(reuse);
  unlink_hash(reuse);
  slots_[reuse] = Slot{};
  return reuse;
}

MruList::Touch MruList::touch(const IpAddress& addr, std::uint16_t port, common::UnixNs now) {
  const IpAddress normalized = canonical_address(addr);
  const std::uint32_t bucket = bucket_of(normalized);
  std::uint32_t index = lookup(normalized, bucket);
  Touch result;
  if (index != kNil) {
    ++stats_.exists;
    MruEntry& entry = slots_[index].entry;
    result.elapsed_ns = std::max<std::int64_t>(0, now.ns - entry.last.ns);
    entry.last = now;
    entry.port = port;
    if (entry.count < std::numeric_limits<std::uint32_t>::max()) ++entry.count;
    unlink_mru(index);
  } else {
    index = take_slot(now);
    if (index == kNil) return result;
    MruEntry& entry = slots_[index].entry;
    entry.address = normalized;
    entry.port = port;
    entry.first = entry.last = now;
    entry.count = 1;
    slots_[index].hash_next = buckets_[bucket];
    buckets_[bucket] = index;
    result.created = true;
  }
  push_front(index);
  result.entry = &slots_[index].entry;
  return result;
}

}  // namespace ntpd::net
