// The interleaved-mode timestamp store (see interleave_store.h). Lookups
// touch one bucket of kWays entries: constant time per request, no
// allocation after construction.
#include "ntpd-net/interleave_store.h"

#include <algorithm>
#include <bit>

namespace ntpd::net {
namespace {

// splitmix64's finalizer: every key bit affects every bucket bit.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

InterleaveStore::InterleaveStore(std::size_t capacity, std::uint64_t hash_seed)
    : seed_(mix(hash_seed)) {
  const std::size_t buckets =
      std::bit_ceil(std::max<std::size_t>(1, (capacity + kWays - 1) / kWays));
  entries_.resize(buckets * kWays);
  bucket_mask_ = buckets - 1;
}

std::size_t InterleaveStore::bucket_of(common::NtpTimestamp key) const {
  return static_cast<std::size_t>(mix(key.raw ^ seed_)) & bucket_mask_;
}

InterleaveStore::Entry* InterleaveStore::find(common::NtpTimestamp key) {
  const std::size_t first = bucket_of(key) * kWays;
  for (std::size_t i = first; i < first + kWays; ++i) {
    if (entries_[i].key == key) return &entries_[i];
  }
  return nullptr;
}

const InterleaveStore::Entry* InterleaveStore::find(common::NtpTimestamp key) const {
  return const_cast<InterleaveStore*>(this)->find(key);
}

void InterleaveStore::save(common::NtpTimestamp key, std::uint64_t client, common::UnixNs sent) {
  if (key.is_zero()) return;
  Entry* slot = find(key);
  if (slot == nullptr) {
    const std::size_t first = bucket_of(key) * kWays;
    slot = &entries_[first];
    for (std::size_t i = first; i < first + kWays; ++i) {
      if (entries_[i].key.is_zero()) {
        slot = &entries_[i];
        break;
      }
      if (entries_[i].age < slot->age) slot = &entries_[i];
    }
    if (slot->key.is_zero()) ++used_;
  }
  *slot = Entry{key, client, sent, next_age_++};
}

bool InterleaveStore::refine(common::NtpTimestamp key, common::UnixNs sent,
                             std::int64_t max_early_ns, std::int64_t max_late_ns) {
  if (key.is_zero()) return false;
  Entry* e = find(key);
  if (e == nullptr) return false;
  std::int64_t late_ns = 0;
  if (__builtin_sub_overflow(sent.ns, e->sent.ns, &late_ns)) return false;
  if (late_ns < -max_early_ns || late_ns >= max_late_ns) return false;
  e->sent = sent;
  return true;
}

std::optional<common::UnixNs> InterleaveStore::transmit_time(common::NtpTimestamp key,
                                                             std::uint64_t client) const {
  if (key.is_zero()) return std::nullopt;
  const Entry* e = find(key);
  if (e == nullptr || e->client != client) return std::nullopt;
  return e->sent;
}

}  // namespace ntpd::net
