// WakeupPacer: when a serving thread stops waking per datagram, how long
// its windows are, and when it goes back to blocking.
#include "ntpd-net/wakeup_pacer.h"

#include <gtest/gtest.h>

namespace ntpd::net {
namespace {

constexpr std::int64_t kUs = 1000;
constexpr std::int64_t kMin = WakeupPacer::kMinWindowNs;
constexpr std::int64_t kMax = WakeupPacer::kMaxWindowNs;

TEST(WakeupPacerTest, BlocksWhileRequestsComeSlowly) {
  WakeupPacer pacer;
  std::int64_t now = 1'000'000 * kUs;
  for (int i = 0; i < 100; ++i) {
    // One request per millisecond: 4x the minimum window apart.
    EXPECT_EQ(pacer.after_wakeup(now, 1), std::nullopt) << i;
    now += 4 * kMin;
  }
  EXPECT_FALSE(pacer.pacing());
}

TEST(WakeupPacerTest, TwoWakeupsWithinTheMinimumWindowStartPacing) {
  WakeupPacer pacer;
  const std::int64_t t0 = 5'000 * kUs;
  EXPECT_EQ(pacer.after_wakeup(t0, 1), std::nullopt);
  const auto deadline = pacer.after_wakeup(t0 + 100 * kUs, 1);
  ASSERT_TRUE(deadline.has_value());
  EXPECT_EQ(*deadline, t0 + 100 * kUs + kMin);
  EXPECT_TRUE(pacer.pacing());
}

TEST(WakeupPacerTest, WakeupsThatReadNothingDoNotStartPacing) {
  WakeupPacer pacer;
  // Error-queue wakeups (transmit timestamps) read no datagram.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(pacer.after_wakeup(i * kUs, 0), std::nullopt);
  EXPECT_EQ(pacer.after_wakeup(20 * kUs, 1), std::nullopt);
  EXPECT_FALSE(pacer.pacing());
}

TEST(WakeupPacerTest, WindowGrowsTowardTheTargetBatchAndStaysBounded) {
  WakeupPacer pacer;
  std::int64_t now = 0;
  pacer.after_wakeup(now, 1);
  auto deadline = pacer.after_wakeup(now += 50 * kUs, 1);
  ASSERT_TRUE(deadline);
  // 30000 requests/s: a 250 us window holds 7 or 8.
  now = *deadline;
  deadline = pacer.after_wakeup(now, 8);
  ASSERT_TRUE(deadline);
  EXPECT_EQ(pacer.window_ns(), kMin * 64 / 8);  // 2 ms: about 64 per window
  EXPECT_EQ(*deadline, now + pacer.window_ns());
  now = *deadline;
  pacer.after_wakeup(now, 60);
  EXPECT_EQ(pacer.window_ns(), 2'000 * kUs * 64 / 60);
  // A trickle (2 per window) would ask for a long window: capped.
  now += pacer.window_ns();
  pacer.after_wakeup(now, 2);
  EXPECT_EQ(pacer.window_ns(), kMax);
  // A flood shrinks it, but not below the minimum.
  now += pacer.window_ns();
  pacer.after_wakeup(now, 5000);
  EXPECT_EQ(pacer.window_ns(), kMin);
}

TEST(WakeupPacerTest, WindowsFollowEachOtherAndALateOneStartsNow) {
  WakeupPacer pacer;
  pacer.after_wakeup(0, 1);
  const auto first = pacer.after_wakeup(10 * kUs, 1);
  ASSERT_TRUE(first);
  // Woken 30 us late: the next window still ends one window after the first.
  const auto second = pacer.after_wakeup(*first + 30 * kUs, 64);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, *first + kMin);
  // Answering took 3 windows: no catching up, the next look is at once.
  const std::int64_t late = *second + 3 * kMin;
  const auto third = pacer.after_wakeup(late, 64);
  ASSERT_TRUE(third);
  EXPECT_EQ(*third, late);
}

TEST(WakeupPacerTest, AnEmptyWindowEndsPacingAndItStartsAgainOnlyUnderLoad) {
  WakeupPacer pacer;
  pacer.after_wakeup(0, 1);
  const auto deadline = pacer.after_wakeup(10 * kUs, 1);
  ASSERT_TRUE(deadline);
  EXPECT_EQ(pacer.after_wakeup(*deadline, 0), std::nullopt);
  EXPECT_FALSE(pacer.pacing());
  // The next single wakeup blocks again; a close second one paces.
  const std::int64_t later = *deadline + 10 * kMax;
  EXPECT_EQ(pacer.after_wakeup(later, 1), std::nullopt);
  ASSERT_TRUE(pacer.after_wakeup(later + kMin - 1, 1));
  EXPECT_EQ(pacer.window_ns(), kMin);  // starts short again
}

TEST(WakeupPacerTest, DisabledAlwaysBlocks) {
  WakeupPacer pacer(false);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(pacer.after_wakeup(i, 64), std::nullopt);
  EXPECT_FALSE(pacer.pacing());
}

}  // namespace
}  // namespace ntpd::net
