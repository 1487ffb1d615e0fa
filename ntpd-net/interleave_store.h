// InterleaveStore: the server's memory for interleaved client/server mode
// (RFC 9769 section 2). For each recent reply it keeps the receive
// timestamp we put in it (the key a client echoes as its next origin) and
// when that reply really left (refined by the kernel TX timestamp). Fixed
// capacity, allocated once at construction, never grows; pure code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/time_types.h"

namespace ntpd::net {

class InterleaveStore {
 public:
  static constexpr std::size_t kWays = 4;  // entries per bucket

  // capacity is rounded up to a power of two times kWays (at least one
  // bucket). hash_seed keys the bucket hash so that a client cannot aim
  // its requests at one bucket to evict another client's entries.
  InterleaveStore(std::size_t capacity, std::uint64_t hash_seed);

  // Remembers the reply carrying receive timestamp `key`, sent to the
  // client whose address hashes to `client`, provisionally at `sent` (the
  // transmit timestamp written into it). A zero key is ignored. An entry
  // with the same key is replaced; otherwise the oldest entry of the
  // key's bucket is evicted.
  void save(common::NtpTimestamp key, std::uint64_t client, common::UnixNs sent);
  // The kernel's transmit timestamp of the reply carrying `key`. Ignored
  // (false) unless an entry exists and `sent` is no earlier than the
  // provisional stamp minus max_early_ns and less than max_late_ns after
  // it: anything else belongs to another packet or a stepped clock.
  bool refine(common::NtpTimestamp key, common::UnixNs sent, std::int64_t max_early_ns,
              std::int64_t max_late_ns);
  // When the reply with receive timestamp `key` to `client` left, if it is
  // still remembered and went to that client.
  std::optional<common::UnixNs> transmit_time(common::NtpTimestamp key, std::uint64_t client) const;

  std::size_t capacity() const { return entries_.size(); }
  std::size_t size() const { return used_; }

 private:
  struct Entry {
    common::NtpTimestamp key;  // zero: empty
    std::uint64_t client = 0;
    common::UnixNs sent;
    std::uint64_t age = 0;  // insertion counter: smaller is older
  };
  std::size_t bucket_of(common::NtpTimestamp key) const;
  Entry* find(common::NtpTimestamp key);
  const Entry* find(common::NtpTimestamp key) const;

  std::vector<Entry> entries_;  // buckets of kWays, sized once
  std::size_t bucket_mask_ = 0;
  std::uint64_t seed_;
  std::uint64_t next_age_ = 1;
  std::size_t used_ = 0;
};

}  // namespace ntpd::net
