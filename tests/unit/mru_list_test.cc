// Tests for ntpd-net/mru_list: ntp.conf "mru" limits, MRU order, ntpsec's
// recycling rules (mindepth, maxage, minage), and bounded memory: a million
// distinct sources never take the list above maxmem.
#include "ntpd-net/mru_list.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <vector>

namespace ntpd::net {
namespace {

using common::AddressFamily;
using common::UnixNs;

constexpr std::int64_t kSecond = common::kNsPerSecond;

IpAddress v4(std::uint32_t n) {
  IpAddress a;
  a.family = AddressFamily::kIpv4;
  for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  return a;
}

IpAddress v6(std::uint32_t n) {
  IpAddress a;
  a.family = AddressFamily::kIpv6;
  a.bytes[0] = 0x20;
  a.bytes[1] = 0x01;
  for (int i = 0; i < 4; ++i) a.bytes[12 + i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  return a;
}

UnixNs at(std::int64_t ns) { return UnixNs{1'700'000'000 * kSecond + ns}; }

MruLimits small_limits(std::size_t max_entries, std::size_t min_entries) {
  MruLimits limits;
  limits.max_entries = max_entries;
  limits.min_entries = min_entries;
  limits.max_age_ns = 3600 * kSecond;
  limits.min_age_ns = 64 * kSecond;
  return limits;
}

std::vector<IpAddress> newest_first(const MruList& list) {
  std::vector<IpAddress> out;
  list.for_each_newest_first([&](const MruEntry& e) { out.push_back(e.address); });
  return out;
}

TEST(MruLimitsTest, DefaultsAreNtpsecs) {
  const MruLimits limits = mru_limits_from_config(std::nullopt);
  EXPECT_EQ(limits.max_bytes, 1024u * 1024u);
  EXPECT_EQ(limits.max_entries, MruList::entries_for_bytes(1024 * 1024));
  EXPECT_GT(limits.max_entries, 10'000u);
  EXPECT_EQ(limits.min_entries, 600u);
  EXPECT_EQ(limits.max_age_ns, 3600 * kSecond);
  EXPECT_EQ(limits.min_age_ns, 64 * kSecond);
}

TEST(MruLimitsTest, MaxmemMaxdepthAndAges) {
  common::MruConfig config;
  config.maxdepth = 100;
  MruLimits limits = mru_limits_from_config(config);
  EXPECT_EQ(limits.max_entries, 100u);
  EXPECT_EQ(limits.max_bytes, 0u);

  config.maxmem_kib = 4;  // fewer entries than maxdepth: maxmem wins
  limits = mru_limits_from_config(config);
  EXPECT_EQ(limits.max_bytes, 4096u);
  EXPECT_EQ(MruList(limits, 1).capacity(), MruList::entries_for_bytes(4096));
  EXPECT_LT(MruList(limits, 1).capacity(), 100u);

  config = common::MruConfig{};
  config.maxmem_kib = 64;
  config.mindepth = 10;
  config.maxage_s = 100;
  config.minage_s = -5;
  limits = mru_limits_from_config(config);
  EXPECT_EQ(limits.max_bytes, 65536u);
  EXPECT_EQ(limits.min_entries, 10u);
  EXPECT_EQ(limits.max_age_ns, 100 * kSecond);
  EXPECT_EQ(limits.min_age_ns, 0);
}

TEST(MruListTest, MemoryNeverExceedsMaxmem) {
  for (const std::size_t kib : {1, 4, 64, 1024, 10240}) {
    MruLimits limits;
    limits.max_bytes = kib * 1024;
    limits.max_entries = MruList::entries_for_bytes(limits.max_bytes);
    const MruList list(limits, 42);
    EXPECT_LE(list.memory_bytes(), limits.max_bytes) << kib;
    EXPECT_EQ(list.capacity(), limits.max_entries);
  }
}

TEST(MruListTest, TouchCountsAndOrdersMostRecentFirst) {
  MruList list(small_limits(10, 10), 7);
  auto t = list.touch(v4(1), 1000, at(0));
  ASSERT_NE(t.entry, nullptr);
  EXPECT_TRUE(t.created);
  list.touch(v4(2), 1000, at(kSecond));
  list.touch(v6(3), 1000, at(2 * kSecond));
  t = list.touch(v4(1), 2000, at(5 * kSecond));
  EXPECT_FALSE(t.created);
  EXPECT_EQ(t.elapsed_ns, 5 * kSecond);
  EXPECT_EQ(t.entry->count, 2u);
  EXPECT_EQ(t.entry->port, 2000);
  EXPECT_EQ(t.entry->first, at(0));
  EXPECT_EQ(t.entry->last, at(5 * kSecond));
  EXPECT_EQ(newest_first(list), (std::vector<IpAddress>{v4(1), v6(3), v4(2)}));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list.find(v4(9)), nullptr);
  ASSERT_NE(list.find(v6(3)), nullptr);
  EXPECT_EQ(list.stats().exists, 1u);
  EXPECT_EQ(list.stats().created, 3u);
}

TEST(MruListTest, MappedAddressIsTheIPv4Entry) {
  MruList list(small_limits(10, 10), 7);
  list.touch(v4(0xc0000201), 1, at(0));
  IpAddress mapped;
  mapped.family = AddressFamily::kIpv6;
  mapped.bytes[10] = mapped.bytes[11] = 0xff;
  mapped.bytes[12] = 192;
  mapped.bytes[15] = 0x01;
  mapped.bytes[14] = 2;
  const auto t = list.touch(mapped, 1, at(kSecond));
  EXPECT_FALSE(t.created);
  EXPECT_EQ(t.entry->address, v4(0xc0000201));
}

TEST(MruListTest, ClockStepBackwardsIsNoElapsedTime) {
  MruList list(small_limits(10, 10), 7);
  list.touch(v4(1), 1, at(10 * kSecond));
  EXPECT_EQ(list.touch(v4(1), 1, at(0)).elapsed_ns, 0);
}

// ntpsec ntp_monitor(): below mindepth always a new slot; then the oldest
// if older than maxage; then a new slot while below the limit; then the
// oldest if older than minage; else the source is not tracked.
TEST(MruListTest, RecyclingFollowsNtpsec) {
  MruLimits limits = small_limits(4, 2);
  limits.max_age_ns = 100 * kSecond;
  limits.min_age_ns = 10 * kSecond;
  MruList list(limits, 7);
  list.touch(v4(1), 1, at(0));
  list.touch(v4(2), 1, at(1 * kSecond));
  // Above mindepth, the oldest (v4 1, 150 s) is older than maxage: reused.
  list.touch(v4(3), 1, at(150 * kSecond));
  EXPECT_EQ(list.stats().recycled_old, 1u);
  EXPECT_EQ(list.find(v4(1)), nullptr);
  EXPECT_EQ(list.size(), 2u);
  list.touch(v4(2), 1, at(150 * kSecond));  // refreshed: v4 3 is now the oldest
  list.touch(v4(4), 1, at(151 * kSecond));
  list.touch(v4(5), 1, at(152 * kSecond));
  EXPECT_EQ(list.size(), 4u);  // new slots up to the limit
  EXPECT_EQ(list.stats().created, 4u);
  // Full, oldest (v4 3, 5 s) younger than minage: the source is not tracked.
  const auto none = list.touch(v4(7), 1, at(155 * kSecond));
  EXPECT_EQ(none.entry, nullptr);
  EXPECT_EQ(list.stats().none, 1u);
  // Full, oldest (20 s) older than minage: recycled because the list is full.
  const auto reused = list.touch(v4(8), 1, at(170 * kSecond));
  ASSERT_NE(reused.entry, nullptr);
  EXPECT_TRUE(reused.created);
  EXPECT_EQ(list.stats().recycled_full, 1u);
  EXPECT_EQ(list.find(v4(3)), nullptr);
  EXPECT_EQ(newest_first(list), (std::vector<IpAddress>{v4(8), v4(5), v4(4), v4(2)}));
  // Oldest (v4 2, 150 s) older than maxage: recycled as old.
  list.touch(v4(9), 1, at(300 * kSecond));
  EXPECT_EQ(list.stats().recycled_old, 2u);
  EXPECT_EQ(list.find(v4(2)), nullptr);
}

TEST(MruListTest, ZeroCapacityTracksNothing) {
  MruList list(small_limits(0, 600), 7);
  EXPECT_EQ(list.touch(v4(1), 1, at(0)).entry, nullptr);
  EXPECT_EQ(list.size(), 0u);
}

TEST(MruListTest, ClearKeepsTheStorage) {
  MruList list(small_limits(100, 10), 7);
  for (std::uint32_t i = 0; i < 50; ++i) list.touch(v4(i), 1, at(i));
  const std::size_t bytes = list.memory_bytes();
  list.clear();
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.find(v4(3)), nullptr);
  EXPECT_EQ(list.memory_bytes(), bytes);
  EXPECT_TRUE(list.touch(v4(3), 1, at(100)).created);
}

// The acceptance test: a million distinct sources through the core.
TEST(MruListTest, MillionDistinctSourcesStayWithinMaxmem) {
  const MruLimits limits = mru_limits_from_config(std::nullopt);  // maxmem 1024 KiB
  const std::size_t heap_before = mallinfo2().uordblks;
  MruList list(limits, 0x5eed);
  const std::size_t bytes_warm = list.memory_bytes();
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    // 10 ms apart, so the full list's oldest entry is past minage (64 s) and
    // gets recycled; a quarter IPv6.
    const IpAddress source = i % 4 == 0 ? v6(i) : v4(0x0a000000 + i);
    ASSERT_NE(list.touch(source, static_cast<std::uint16_t>(i), at(i * 10'000'000LL)).entry,
              nullptr)
        << i;
    ASSERT_LE(list.size(), list.capacity());
  }
  const std::size_t heap_after = mallinfo2().uordblks;
  EXPECT_LE(list.memory_bytes(), limits.max_bytes);
  EXPECT_EQ(list.memory_bytes(), bytes_warm);  // no growth after construction
  EXPECT_LE(heap_after - std::min(heap_after, heap_before), limits.max_bytes);
  EXPECT_EQ(list.size(), list.capacity());
  EXPECT_GT(list.stats().recycled_full + list.stats().recycled_old, 900'000u);
  // Every listed entry is findable: hash chains and MRU links agree.
  std::size_t listed = 0;
  list.for_each_newest_first([&](const MruEntry& e) {
    ++listed;
    EXPECT_EQ(list.find(e.address), &e);
  });
  EXPECT_EQ(listed, list.size());
  EXPECT_NE(list.find(v4(0x0a000000 + 999'999)), nullptr);
  EXPECT_EQ(list.find(v4(0x0a000000 + 1)), nullptr);
}

// A spoofed flood of new sources in one instant cannot evict young entries.
TEST(MruListTest, FloodOfNewSourcesInOneInstantIsUntracked) {
  MruList list(small_limits(1000, 600), 99);
  for (std::uint32_t i = 0; i < 100'000; ++i) list.touch(v4(i), 1, at(0));
  EXPECT_EQ(list.size(), 1000u);
  EXPECT_EQ(list.stats().none, 99'000u);
  EXPECT_NE(list.find(v4(0)), nullptr);
}

}  // namespace
}  // namespace ntpd::net
