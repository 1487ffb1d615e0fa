// Unit tests for ntpd-net/interleave_store: lookups by key and client,
// replacement, the per-bucket eviction of the oldest entry, the refine
// plausibility window, and that the capacity never grows.
#include "ntpd-net/interleave_store.h"

#include <gtest/gtest.h>

namespace ntpd::net {
namespace {

using common::NtpTimestamp;
using common::UnixNs;

constexpr std::int64_t kS = common::kNsPerSecond;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kT0 = 1'700'000'000 * kS;

TEST(InterleaveStoreTest, FindsWhatItSavedForTheSameClientOnly) {
  InterleaveStore store(64, 1);
  store.save(NtpTimestamp{0x1234}, 7, UnixNs{kT0});
  EXPECT_EQ(store.transmit_time(NtpTimestamp{0x1234}, 7), UnixNs{kT0});
  EXPECT_EQ(store.transmit_time(NtpTimestamp{0x1234}, 8), std::nullopt);
  EXPECT_EQ(store.transmit_time(NtpTimestamp{0x1235}, 7), std::nullopt);
  EXPECT_EQ(store.size(), 1u);
}

TEST(InterleaveStoreTest, ZeroKeyIsNeverStoredNorFound) {
  InterleaveStore store(64, 1);
  store.save(NtpTimestamp{}, 7, UnixNs{kT0});
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.transmit_time(NtpTimestamp{}, 7), std::nullopt);
  EXPECT_FALSE(store.refine(NtpTimestamp{}, UnixNs{kT0}, 0, kS));
}

TEST(InterleaveStoreTest, SameKeyReplacesTheEntry) {
  InterleaveStore store(64, 1);
  store.save(NtpTimestamp{99}, 7, UnixNs{kT0});
  store.save(NtpTimestamp{99}, 8, UnixNs{kT0 + kS});
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.transmit_time(NtpTimestamp{99}, 8), UnixNs{kT0 + kS});
  EXPECT_EQ(store.transmit_time(NtpTimestamp{99}, 7), std::nullopt);
}

TEST(InterleaveStoreTest, OneBucketEvictsItsOldestEntry) {
  // Capacity kWays: a single bucket, so the eviction order is exact FIFO.
  InterleaveStore store(InterleaveStore::kWays, 5);
  ASSERT_EQ(store.capacity(), InterleaveStore::kWays);
  for (std::uint64_t key = 1; key <= InterleaveStore::kWays + 2; ++key) {
    store.save(NtpTimestamp{key}, 1, UnixNs{kT0 + static_cast<std::int64_t>(key)});
  }
  EXPECT_EQ(store.size(), InterleaveStore::kWays);
  EXPECT_EQ(store.transmit_time(NtpTimestamp{1}, 1), std::nullopt);
  EXPECT_EQ(store.transmit_time(NtpTimestamp{2}, 1), std::nullopt);
  for (std::uint64_t key = 3; key <= InterleaveStore::kWays + 2; ++key) {
    EXPECT_TRUE(store.transmit_time(NtpTimestamp{key}, 1).has_value()) << key;
  }
}

TEST(InterleaveStoreTest, ManyInsertsNeverGrowBeyondCapacity) {
  InterleaveStore store(1000, 3);
  const std::size_t capacity = store.capacity();
  EXPECT_GE(capacity, 1000u);
  for (std::uint64_t key = 1; key <= 50'000; ++key) {
    store.save(NtpTimestamp{key * 0x9e3779b97f4a7c15ULL}, key, UnixNs{kT0});
  }
  EXPECT_EQ(store.capacity(), capacity);
  EXPECT_LE(store.size(), capacity);
  // The most recent entries survive.
  const std::uint64_t last = 50'000;
  EXPECT_TRUE(store.transmit_time(NtpTimestamp{last * 0x9e3779b97f4a7c15ULL}, last).has_value());
}

TEST(InterleaveStoreTest, RefineAcceptsOnlyAPlausibleKernelTime) {
  InterleaveStore store(64, 1);
  const NtpTimestamp key{42};
  store.save(key, 1, UnixNs{kT0});
  EXPECT_FALSE(store.refine(key, UnixNs{kT0 - 1}, 0, kS));   // before the user-space stamp
  EXPECT_FALSE(store.refine(key, UnixNs{kT0 + kS}, 0, kS));  // a second later
  EXPECT_FALSE(store.refine(NtpTimestamp{43}, UnixNs{kT0 + 5}, 0, kS));  // unknown key
  EXPECT_EQ(store.transmit_time(key, 1), UnixNs{kT0});
  EXPECT_TRUE(store.refine(key, UnixNs{kT0 + 3 * kMs}, 0, kS));
  EXPECT_EQ(store.transmit_time(key, 1), UnixNs{kT0 + 3 * kMs});
}

}  // namespace
}  // namespace ntpd::net
