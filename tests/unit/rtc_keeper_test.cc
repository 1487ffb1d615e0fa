// RtcKeeper through a fake RtcWriter: when the RTC is set, to what, and what
// is logged. No test here opens a real /dev/rtc* or changes any clock.
#include "ntpd-clock/rtc_keeper.h"

#include <gtest/gtest.h>
#include <syslog.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ntpd-clock/startup_config.h"

namespace ntpd::clock {
namespace {

using common::kNsPerSecond;

struct Recorded {
  std::vector<rtc_time> sets;
  std::vector<std::pair<int, std::string>> logs;
  int opens = 0;
  bool fail_sets = false;
};

class FakeRtc final : public RtcWriter {
 public:
  explicit FakeRtc(Recorded* out) : out_(out) {}
  bool set(const rtc_time& time, std::string* error) override {
    if (out_->fail_sets) {
      *error = "RTC_SET_TIME on /dev/fake: Invalid argument";
      return false;
    }
    out_->sets.push_back(time);
    return true;
  }

 private:
  Recorded* out_;
};

RtcKeeper make_keeper(Recorded* r, RtcKeeperConfig config, bool open_fails = false) {
  return RtcKeeper(
      std::move(config),
      [r, open_fails](std::string* error) -> std::unique_ptr<RtcWriter> {
        ++r->opens;
        if (open_fails) {
          *error = "cannot open /dev/rtc0: No such file or directory";
          return nullptr;
        }
        return std::make_unique<FakeRtc>(r);
      },
      [r](int priority, const std::string& text) { r->logs.emplace_back(priority, text); });
}

// 2026-03-01 12:00:00 UTC, a Sunday; day 59 of the year.
constexpr std::int64_t kStartUnixS = 1'772'366'400;

// One tick a second for `seconds`, as the clock loop does.
void run(RtcKeeper& keeper, int seconds, bool synchronized) {
  for (int s = 0; s < seconds; ++s) {
    const std::int64_t mono = (1000 + s) * kNsPerSecond;
    keeper.tick(synchronized, mono, common::UnixNs{(kStartUnixS + s) * kNsPerSecond});
  }
}

TEST(RtcKeeper, SynchronizedFor30MinutesSetsThreeTimesToUtc) {
  Recorded r;
  RtcKeeper keeper = make_keeper(&r, {});
  run(keeper, 30 * 60, true);
  ASSERT_EQ(r.sets.size(), 3u);  // at 0, 11 and 22 minutes
  EXPECT_EQ(keeper.sets(), 3u);
  const int minutes[] = {0, 11, 22};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.sets[i].tm_year, 126);
    EXPECT_EQ(r.sets[i].tm_mon, 2);
    EXPECT_EQ(r.sets[i].tm_mday, 1);
    EXPECT_EQ(r.sets[i].tm_hour, 12);
    EXPECT_EQ(r.sets[i].tm_min, minutes[i]);
    EXPECT_EQ(r.sets[i].tm_sec, 0);
    EXPECT_EQ(r.sets[i].tm_wday, 0);
    EXPECT_EQ(r.sets[i].tm_yday, 59);
  }
  ASSERT_EQ(r.logs.size(), 1u);  // "set", once
  EXPECT_EQ(r.logs[0].first, LOG_INFO);
}

TEST(RtcKeeper, LocalTimescaleUsesTheZoneOffset) {
  Recorded r;
  RtcKeeper keeper =
      make_keeper(&r, {true, RtcTimescale::kLocal, [](std::int64_t) { return 3600; }});
  run(keeper, 1, true);
  ASSERT_EQ(r.sets.size(), 1u);
  EXPECT_EQ(r.sets[0].tm_hour, 13);
}

TEST(RtcKeeper, UnsynchronizedNeverSets) {
  Recorded r;
  RtcKeeper keeper = make_keeper(&r, {});
  run(keeper, 30 * 60, false);
  EXPECT_TRUE(r.sets.empty());
  EXPECT_TRUE(keeper.active());
}

TEST(RtcKeeper, DisabledNeitherOpensNorSets) {
  Recorded r;
  RtcKeeper keeper = make_keeper(&r, {false, RtcTimescale::kUtc, {}});
  run(keeper, 30 * 60, true);
  EXPECT_EQ(r.opens, 0);
  EXPECT_TRUE(r.sets.empty());
  EXPECT_TRUE(r.logs.empty());
  EXPECT_FALSE(keeper.active());
}

TEST(RtcKeeper, NoRtcIsLoggedOnceAndTheDaemonCarriesOn) {
  Recorded r;
  RtcKeeper keeper = make_keeper(&r, {}, /*open_fails=*/true);
  run(keeper, 30 * 60, true);
  EXPECT_EQ(r.opens, 1);
  EXPECT_TRUE(r.sets.empty());
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_NE(r.logs[0].second.find("cannot open /dev/rtc0"), std::string::npos);
  EXPECT_FALSE(keeper.active());
}

TEST(RtcKeeper, AFailingSetIsLoggedAndRetriedAfterTheInterval) {
  Recorded r;
  r.fail_sets = true;
  RtcKeeper keeper = make_keeper(&r, {});
  run(keeper, 12 * 60, true);
  ASSERT_EQ(r.logs.size(), 2u);  // at 0 and 11 minutes
  EXPECT_EQ(r.logs[0].first, LOG_WARNING);
  EXPECT_NE(r.logs[0].second.find("Invalid argument"), std::string::npos);
  EXPECT_EQ(keeper.sets(), 0u);
}

TEST(RtcKeeper, EnabledByDefaultNeverWithoutClockControlOrQuit) {
  Options options;
  common::NtpConfig config;
  EXPECT_TRUE(rtc_enabled(options, config));
  config.flags.rtc = false;
  EXPECT_FALSE(rtc_enabled(options, config));
  config.flags.rtc = true;
  options.no_clock_control = true;
  EXPECT_FALSE(rtc_enabled(options, config));
  options.no_clock_control = false;
  options.quit_after_set = true;
  EXPECT_FALSE(rtc_enabled(options, config));
}

}  // namespace
}  // namespace ntpd::clock
