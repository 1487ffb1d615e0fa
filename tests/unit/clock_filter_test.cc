// Unit tests for ntpd-net/clock_filter (RFC 5905 section 10): minimum-delay
// choice, dispersion weights and PHI aging, jitter, ntpd's "never an older
// sample" rule, popcorn suppression, dummies and the 8-stage bound.
#include "ntpd-net/clock_filter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace ntpd::net {
namespace {

using common::UnixNs;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kUs = 1'000;
constexpr std::int64_t kBase = 1'700'000'000 * common::kNsPerSecond;
constexpr std::int64_t kPrecisionNs = common::kNsPerSecond >> 20;  // 2^-20 s = 953 ns

UnixNs at_s(double seconds) { return UnixNs{kBase + static_cast<std::int64_t>(seconds * 1e9)}; }

FilterSample sample(double t_s, std::int64_t offset_ns, std::int64_t delay_ns,
                    std::int64_t disp_ns = 2 * kUs) {
  return FilterSample{offset_ns, delay_ns, disp_ns, at_s(t_s)};
}

constexpr FilterContext kSynced{6, true};
constexpr FilterContext kUnsynced{6, false};

// Sum of MAXDISP / 2^(i+1) for the stages i in [first, 8): empty stages.
std::int64_t empty_stage_weight(std::size_t first) {
  std::int64_t sum = 0;
  for (std::size_t i = first; i < kFilterStages; ++i) sum += kMaxDispersionNs >> (i + 1);
  return sum;
}

TEST(ClockFilterTest, FirstSampleIsPublishedWithPrecisionJitter) {
  ClockFilter f;
  EXPECT_FALSE(f.has_estimate());
  EXPECT_EQ(f.dispersion_ns(at_s(0)), kMaxDispersionNs);
  EXPECT_EQ(f.add(sample(0, 1 * kMs, 10 * kMs, 1000), kSynced), FilterUpdate::kPublished);
  EXPECT_TRUE(f.has_estimate());
  EXPECT_EQ(f.offset_ns(), 1 * kMs);
  EXPECT_EQ(f.delay_ns(), 10 * kMs);
  EXPECT_EQ(f.jitter_ns(), kPrecisionNs);
  // Weighted sum: the sample counts 1/2, the seven empty stages MAXDISP.
  EXPECT_EQ(f.dispersion_ns(at_s(0)), 1000 / 2 + empty_stage_weight(1));
  EXPECT_EQ(f.epoch(), at_s(0));
}

TEST(ClockFilterTest, PicksTheMinimumDelaySample) {
  ClockFilter f;
  const std::int64_t delays_ms[] = {30, 20, 50, 10, 40, 60, 70, 80};
  const FilterUpdate expected[] = {FilterUpdate::kPublished,     FilterUpdate::kPublished,
                                   FilterUpdate::kOlderThanLast, FilterUpdate::kPublished,
                                   FilterUpdate::kOlderThanLast, FilterUpdate::kOlderThanLast,
                                   FilterUpdate::kOlderThanLast, FilterUpdate::kOlderThanLast};
  for (int i = 0; i < 8; ++i) {
    const std::int64_t offset = 1 * kMs + delays_ms[i] * kUs;  // 1 ms + a tag
    EXPECT_EQ(f.add(sample(64.0 * i, offset, delays_ms[i] * kMs), kSynced), expected[i]) << i;
  }
  EXPECT_EQ(f.delay_ns(), 10 * kMs);
  EXPECT_EQ(f.offset_ns(), 1 * kMs + 10 * kUs);
  EXPECT_EQ(f.epoch(), at_s(64.0 * 3));
}

TEST(ClockFilterTest, NeverUsesAnOlderSampleOnceSynchronized) {
  ClockFilter synced;
  ASSERT_EQ(synced.add(sample(0, 5 * kMs, 10 * kMs), kSynced), FilterUpdate::kPublished);
  EXPECT_EQ(synced.add(sample(64, 6 * kMs, 20 * kMs), kSynced), FilterUpdate::kOlderThanLast);
  EXPECT_EQ(synced.offset_ns(), 5 * kMs);
  EXPECT_EQ(synced.epoch(), at_s(0));

  // RFC 5905 A.5.2: "anything goes before first synchronized".
  ClockFilter unsynced;
  ASSERT_EQ(unsynced.add(sample(0, 5 * kMs, 10 * kMs), kUnsynced), FilterUpdate::kPublished);
  EXPECT_EQ(unsynced.add(sample(64, 6 * kMs, 20 * kMs), kUnsynced), FilterUpdate::kPublished);
  EXPECT_EQ(unsynced.offset_ns(), 5 * kMs);  // still the minimum-delay sample
}

TEST(ClockFilterTest, JitterIsRmsOfOffsetsAgainstTheChosenSample) {
  ClockFilter f;
  f.add(sample(0, 3 * kMs, 30 * kMs), kUnsynced);
  f.add(sample(1, -3 * kMs, 20 * kMs), kUnsynced);
  f.add(sample(2, 4 * kMs, 40 * kMs), kUnsynced);
  ASSERT_EQ(f.add(sample(3, 0, 1 * kMs), kUnsynced), FilterUpdate::kPublished);
  EXPECT_EQ(f.offset_ns(), 0);
  const double expected = std::sqrt((9.0 + 9.0 + 16.0) / 3.0) * 1e6;
  EXPECT_NEAR(static_cast<double>(f.jitter_ns()), expected, 1.0);
}

TEST(ClockFilterTest, DispersionGrowsByPhiAndWeighsSortedStages) {
  ClockFilter f;
  f.add(sample(0, 0, 20 * kMs, 4 * kUs), kSynced);
  f.add(sample(10, 0, 10 * kMs, 2 * kUs), kSynced);
  // At t=10 the older stage has aged by PHI * 10 s = 150 us. Sorted by
  // delay: the new sample first (weight 1/2), the old one second (1/4).
  const std::int64_t at10 = 2 * kUs / 2 + (4 * kUs + 150 * kUs) / 4 + empty_stage_weight(2);
  EXPECT_EQ(f.dispersion_ns(at_s(10)), at10);
  EXPECT_EQ(f.dispersion_ns(at_s(1010)), at10 + 15 * kMs);  // 15 PPM of 1000 s
  EXPECT_EQ(f.dispersion_ns(at_s(1e7)), kMaxDispersionNs);  // capped at MAXDISP
}

TEST(ClockFilterTest, PopcornSpikeIsHeldBackForTwoPollIntervals) {
  ClockFilter f;
  for (int i = 0; i < 8; ++i) {  // each new sample the best: all published
    f.add(sample(64.0 * i, (i % 2 == 0 ? 10 : -10) * kUs, 10 * kMs - i * kUs), kSynced);
  }
  const std::int64_t settled = f.offset_ns();
  // A lower-delay sample 50 ms away: more than SGATE jitters, within 2 polls.
  EXPECT_EQ(f.add(sample(64.0 * 8, 50 * kMs, 9 * kMs), kSynced), FilterUpdate::kPopcorn);
  EXPECT_EQ(f.offset_ns(), settled);
  // Two poll intervals after the last used sample it is believed.
  const UnixNs last_used = f.epoch();
  const double later_s = static_cast<double>(last_used.ns - kBase) / 1e9 + 2 * 64 + 1;
  EXPECT_EQ(f.add(sample(later_s, 50 * kMs, 9 * kMs + 1), kSynced), FilterUpdate::kPublished);
  EXPECT_EQ(f.offset_ns(), 50 * kMs);
}

TEST(ClockFilterTest, NoPopcornBeforeTheFilterHasSettled) {
  ClockFilter f;  // two samples: dispersion is still above maxdist
  f.add(sample(0, 0, 10 * kMs), kSynced);
  EXPECT_EQ(f.add(sample(64, 50 * kMs, 9 * kMs), kSynced), FilterUpdate::kPublished);
}

TEST(ClockFilterTest, DummiesShiftOutSamplesAndRaiseDispersion) {
  ClockFilter f;
  f.add(sample(0, 1 * kMs, 10 * kMs), kSynced);
  const std::int64_t before = f.dispersion_ns(at_s(0));
  f.add_dummy(at_s(64));
  EXPECT_EQ(f.valid_samples(), 1u);
  EXPECT_GT(f.dispersion_ns(at_s(64)), before);
  for (int i = 2; i <= 8; ++i) f.add_dummy(at_s(64.0 * i));
  EXPECT_EQ(f.valid_samples(), 0u);
  EXPECT_EQ(f.dispersion_ns(at_s(512)), empty_stage_weight(0));
  EXPECT_TRUE(f.has_estimate());  // what was published stays; dispersion tells the age
}

TEST(ClockFilterTest, StaleSamplesStopCounting) {
  ClockFilter f;
  f.add(sample(0, 3 * kMs, 1 * kMs), kSynced);
  // 1.1e6 s later PHI has aged the first sample past MAXDISP.
  EXPECT_EQ(f.add(sample(1.1e6, 7 * kMs, 50 * kMs), kSynced), FilterUpdate::kPublished);
  EXPECT_EQ(f.offset_ns(), 7 * kMs);
  EXPECT_EQ(f.jitter_ns(), kPrecisionNs);
}

TEST(ClockFilterTest, HoldsAtMostEightStagesAndClears) {
  ClockFilter f;
  for (int i = 0; i < 20; ++i) f.add(sample(i, i * kUs, (20 - i) * kMs), kUnsynced);
  EXPECT_EQ(f.valid_samples(), kFilterStages);
  EXPECT_EQ(f.stages()[0].sample.time, at_s(19));
  EXPECT_EQ(f.stages()[7].sample.time, at_s(12));
  f.clear();
  EXPECT_EQ(f.valid_samples(), 0u);
  EXPECT_FALSE(f.has_estimate());
}

TEST(ClockFilterTest, InputsAreClamped) {
  ClockFilter f;
  EXPECT_EQ(f.add(FilterSample{INT64_MAX, -5, INT64_MAX, at_s(0)}, kSynced),
            FilterUpdate::kNoValidSample);  // dispersion at MAXDISP: unusable
  EXPECT_EQ(f.add(FilterSample{INT64_MIN, -5, 0, at_s(1)}, kSynced), FilterUpdate::kPublished);
  EXPECT_EQ(f.delay_ns(), 0);
  EXPECT_LT(f.offset_ns(), 0);
}

TEST(ClockFilterTest, Log2Conversion) {
  EXPECT_EQ(log2s_to_ns(0), common::kNsPerSecond);
  EXPECT_EQ(log2s_to_ns(6), 64 * common::kNsPerSecond);
  EXPECT_EQ(log2s_to_ns(-20), kPrecisionNs);
  EXPECT_EQ(log2s_to_ns(-128), 1);
  EXPECT_EQ(log2s_to_ns(127), common::kNsPerSecond << 30);
  EXPECT_EQ(phi_ns(common::kNsPerSecond), 15 * kUs);
  EXPECT_EQ(phi_ns(-1), 0);
  EXPECT_EQ(phi_ns(INT64_MAX), kMaxDispersionNs);
}

}  // namespace
}  // namespace ntpd::net
