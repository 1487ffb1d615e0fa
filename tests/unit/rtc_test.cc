// RTC: /etc/adjtime as hwclock reads it, the time the RTC should hold, the
// 11-minute policy, and the shell against a regular file only. No test here
// opens a real /dev/rtc* or changes any clock.
#include "ntpd-clock/rtc.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace ntpd::clock {
namespace {

using common::kNsPerSecond;
using common::UnixNs;

UnixNs at(std::int64_t unix_s, std::int64_t extra_ns = 0) {
  return UnixNs{unix_s * kNsPerSecond + extra_ns};
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/rtc_test_XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct AdjtimeCase {
  const char* text;
  RtcTimescale timescale;
  bool warns;
};

TEST(AdjtimeTest, ThirdLineAsHwclockReadsIt) {
  const AdjtimeCase cases[] = {
      {"0.000000 1700000000 0.000000\n1700000000\nUTC\n", RtcTimescale::kUtc, false},
      {"0.000000 1700000000 0.000000\n1700000000\nLOCAL\n", RtcTimescale::kLocal, false},
      {"0.0 0 0.0\n0\nLOCAL", RtcTimescale::kLocal, false},  // no final newline
      {"0.0 0 0.0\n0\n", RtcTimescale::kUtc, false},         // old two-line file
      {"0.0 0 0.0\n0", RtcTimescale::kUtc, false},
      {"0.0 0 0.0\n", RtcTimescale::kUtc, false},
      {"", RtcTimescale::kUtc, false},
      {"0.0 0 0.0\n0\n\n", RtcTimescale::kUtc, false},
      {"0.0 0 0.0\n0\nlocal\n", RtcTimescale::kUtc, true},  // hwclock is case-sensitive
      {"0.0 0 0.0\n0\nLOCAL \n", RtcTimescale::kUtc, true},
      {"0.0 0 0.0\n0\nGMT\n", RtcTimescale::kUtc, true},
      {"0.0 0 0.0\n0\nUTC\nLOCAL\n", RtcTimescale::kUtc, false},  // only line 3 counts
  };
  for (const AdjtimeCase& c : cases) {
    std::string warning;
    EXPECT_EQ(parse_adjtime(c.text, &warning), c.timescale) << c.text;
    EXPECT_EQ(!warning.empty(), c.warns) << c.text << ": " << warning;
  }
}

TEST(AdjtimeTest, AbsentFileMeansUtcSilently) {
  std::string warning;
  EXPECT_EQ(load_adjtime("/nonexistent/adjtime", &warning), RtcTimescale::kUtc);
  EXPECT_TRUE(warning.empty()) << warning;

  const TempFile local("0.0 0 0.0\n0\nLOCAL\n");
  EXPECT_EQ(load_adjtime(local.path(), &warning), RtcTimescale::kLocal);
  EXPECT_TRUE(warning.empty());

  const TempFile odd("0.0 0 0.0\n0\nlocal\n");
  EXPECT_EQ(load_adjtime(odd.path(), &warning), RtcTimescale::kUtc);
  EXPECT_NE(warning.find(odd.path()), std::string::npos) << warning;

  EXPECT_EQ(load_adjtime("/tmp", &warning), RtcTimescale::kUtc);  // a directory
  EXPECT_NE(warning.find("using UTC"), std::string::npos) << warning;
}

struct RtcTimeCase {
  const char* name;
  UnixNs now;
  RtcTimescale timescale;
  int year, mon, mday, hour, min, sec, wday, yday;  // rtc_time conventions
};

TEST(RtcTimeForTest, ConvertsUtcAndLocalTime) {
  // 1709251199 is 2024-02-29 23:59:59 UTC, a Thursday.
  const UtcOffsetFn plus_one_hour = [](std::int64_t) { return std::int64_t{3600}; };
  const RtcTimeCase cases[] = {
      {"leap day", at(1709251199), RtcTimescale::kUtc, 124, 1, 29, 23, 59, 59, 4, 59},
      {"rounds down", at(1709251199, 499'999'999), RtcTimescale::kUtc, 124, 1, 29, 23, 59, 59, 4,
       59},
      {"rounds up", at(1709251199, 500'000'000), RtcTimescale::kUtc, 124, 2, 1, 0, 0, 0, 5, 60},
      {"local +1h", at(1709251199), RtcTimescale::kLocal, 124, 2, 1, 0, 59, 59, 5, 60},
      {"epoch", at(0), RtcTimescale::kUtc, 70, 0, 1, 0, 0, 0, 4, 0},
      {"new year's eve", at(1735687800), RtcTimescale::kUtc, 124, 11, 31, 23, 30, 0, 2, 365},
  };
  for (const RtcTimeCase& c : cases) {
    std::string error;
    const auto t = rtc_time_for(c.now, c.timescale, plus_one_hour, &error);
    ASSERT_TRUE(t) << c.name << ": " << error;
    EXPECT_EQ(t->tm_year, c.year) << c.name;
    EXPECT_EQ(t->tm_mon, c.mon) << c.name;
    EXPECT_EQ(t->tm_mday, c.mday) << c.name;
    EXPECT_EQ(t->tm_hour, c.hour) << c.name;
    EXPECT_EQ(t->tm_min, c.min) << c.name;
    EXPECT_EQ(t->tm_sec, c.sec) << c.name;
    EXPECT_EQ(t->tm_wday, c.wday) << c.name;
    EXPECT_EQ(t->tm_yday, c.yday) << c.name;
    EXPECT_EQ(t->tm_isdst, 0) << c.name;
  }
}

TEST(RtcTimeForTest, LocalTimeFollowsTheOffsetAtThatInstant) {
  // A US Eastern-like rule: -5 h in January, -4 h in July.
  const UtcOffsetFn eastern = [](std::int64_t unix_s) -> std::int64_t {
    return unix_s >= 1741503600 && unix_s < 1762063200 ? -4 * 3600 : -5 * 3600;
  };
  std::string error;
  const auto winter = rtc_time_for(at(1736942400), RtcTimescale::kLocal, eastern, &error);
  const auto summer = rtc_time_for(at(1752580800), RtcTimescale::kLocal, eastern, &error);
  ASSERT_TRUE(winter && summer) << error;
  EXPECT_EQ(winter->tm_hour, 7);  // 12:00 UTC
  EXPECT_EQ(summer->tm_hour, 8);
  // UTC ignores the offset function entirely, even a missing one.
  const auto utc = rtc_time_for(at(1736942400), RtcTimescale::kUtc, UtcOffsetFn{}, &error);
  ASSERT_TRUE(utc) << error;
  EXPECT_EQ(utc->tm_hour, 12);
}

TEST(RtcTimeForTest, RejectsWhatAnRtcShouldNotBeSetTo) {
  const UtcOffsetFn absurd = [](std::int64_t) { return std::int64_t{90'000}; };
  std::string error;
  EXPECT_FALSE(rtc_time_for(at(1709251199), RtcTimescale::kLocal, absurd, &error));
  EXPECT_NE(error.find("beyond a day"), std::string::npos) << error;
  EXPECT_FALSE(rtc_time_for(at(1709251199), RtcTimescale::kLocal, UtcOffsetFn{}, &error));
  EXPECT_FALSE(rtc_time_for(at(-1), RtcTimescale::kUtc, UtcOffsetFn{}, &error));
  EXPECT_NE(error.find("1969"), std::string::npos) << error;
  const UtcOffsetFn west = [](std::int64_t) { return std::int64_t{-3600}; };
  EXPECT_FALSE(rtc_time_for(at(1800), RtcTimescale::kLocal, west, &error));
  const auto last = rtc_time_for(UnixNs{INT64_MAX}, RtcTimescale::kUtc, UtcOffsetFn{}, &error);
  ASSERT_TRUE(last) << error;  // 2262-04-11 23:47:16.854775807 rounds up
  EXPECT_EQ(last->tm_year, 362);
  EXPECT_EQ(last->tm_sec, 17);
}

TEST(RtcTimeForTest, SystemOffsetUsesTheZoneRules) {
  const char* old_tz = ::getenv("TZ");
  const std::optional<std::string> saved =
      old_tz ? std::optional<std::string>(old_tz) : std::nullopt;
  ::setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);  // a POSIX rule: no zone file is read
  const UtcOffsetFn offset = system_utc_offset();
  EXPECT_EQ(offset(1736942400), -5 * 3600);
  EXPECT_EQ(offset(1752580800), -4 * 3600);
  if (saved) {
    ::setenv("TZ", saved->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

struct PolicyStep {
  bool synchronized;
  std::int64_t now_s;
  bool due;
};

TEST(RtcPolicyTest, AtMostEveryElevenMinutesWhileSynchronized) {
  const PolicyStep steps[] = {
      {false, 0, false},                                // not synchronized yet
      {true, 10, true},                                 // first chance once synchronized
      {true, 11, false},      {true, 10 + 659, false},  // 10:59 later
      {true, 10 + 660, true},                           // 11:00 later
      {false, 2000, false},                             // lost sync: never, however long ago
      {true, 2001, true},     {true, 2002, false},
  };
  RtcPolicy policy(true);
  for (const PolicyStep& step : steps) {
    EXPECT_EQ(policy.due(step.synchronized, step.now_s * kNsPerSecond), step.due)
        << "at " << step.now_s;
  }
}

TEST(RtcPolicyTest, DisabledOrDisabledLaterNeverDue) {
  RtcPolicy off(false);
  EXPECT_FALSE(off.due(true, 0));
  EXPECT_FALSE(off.due(true, RtcPolicy::kIntervalNs * 10));
  RtcPolicy on(true);
  EXPECT_TRUE(on.due(true, 0));
  on.disable();
  EXPECT_FALSE(on.enabled());
  EXPECT_FALSE(on.due(true, RtcPolicy::kIntervalNs * 10));
}

TEST(RtcShellTest, MissingDeviceIsReported) {
  std::string error;
  EXPECT_FALSE(Rtc::open("/nonexistent/rtc0", &error));
  EXPECT_EQ(error, std::string("cannot open /nonexistent/rtc0: ") + std::strerror(ENOENT));
}

TEST(RtcShellTest, NonRtcFdFailsWithEnotty) {
  const TempFile file("not an rtc");
  ASSERT_NE(file.path().rfind("/dev/rtc", 0), 0u);  // never a real RTC
  std::string error;
  auto rtc = Rtc::open(file.path(), &error);
  ASSERT_TRUE(rtc) << error;
  EXPECT_EQ(rtc->path(), file.path());
  const auto t = rtc_time_for(at(1709251199), RtcTimescale::kUtc, UtcOffsetFn{}, &error);
  ASSERT_TRUE(t);
  EXPECT_FALSE(rtc->set(*t, &error));
  EXPECT_EQ(error, "RTC_SET_TIME on " + file.path() + ": " + std::strerror(ENOTTY));
  std::ifstream in(file.path());
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "not an rtc");
}

}  // namespace
}  // namespace ntpd::clock
