// Unit tests for common/time_types.h: Unix <-> NTP timestamp conversion
// (negative times, fraction rounding, the 2036 era pivot) and the 16.16
// short format. Pure arithmetic; no clock is read.
#include "common/time_types.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ntpd::common {
namespace {

constexpr std::int64_t kSec = kNsPerSecond;
// 2036-02-07T06:28:16Z: NTP era 1 starts (RFC 5905 section 6).
constexpr std::int64_t kEra1UnixSeconds = (std::int64_t{1} << 32) - kNtpToUnixSeconds;

struct ToNtpCase {
  const char* name;
  std::int64_t unix_ns;
  std::uint32_t seconds;
  std::uint32_t fraction;
};

TEST(TimeTypesTest, ToNtpKnownValues) {
  const ToNtpCase cases[] = {
      {"unix epoch", 0, 2'208'988'800u, 0},
      {"half second", kSec / 2, 2'208'988'800u, 0x80000000u},
      {"quarter second", kSec / 4, 2'208'988'800u, 0x40000000u},
      // 1 ns = 4.29 fraction units; to_ntp truncates.
      {"one ns truncates", 1, 2'208'988'800u, 4},
      {"minus one ns", -1, 2'208'988'799u, 0xfffffffbu},
      {"minus 1.5 s", -kSec - kSec / 2, 2'208'988'798u, 0x80000000u},
      {"ntp prime epoch", -kNtpToUnixSeconds * kSec, 0, 0},
      {"2024-01-01", 1'704'067'200 * kSec, 3'913'056'000u, 0},
      {"last second of era 0", (kEra1UnixSeconds - 1) * kSec, 0xffffffffu, 0},
      {"era 1 wraps to zero", kEra1UnixSeconds * kSec, 0, 0},
      {"era 1 plus 1.5 s", kEra1UnixSeconds * kSec + kSec + kSec / 2, 1, 0x80000000u},
  };
  for (const auto& c : cases) {
    const NtpTimestamp ts = to_ntp(UnixNs{c.unix_ns});
    EXPECT_EQ(ts.seconds(), c.seconds) << c.name;
    EXPECT_EQ(ts.fraction(), c.fraction) << c.name;
  }
}

struct FromNtpCase {
  const char* name;
  std::uint32_t seconds;
  std::uint32_t fraction;
  std::int64_t pivot_ns;
  std::int64_t expected_ns;
};

TEST(TimeTypesTest, FromNtpRoundsFractionAndPicksEra) {
  const std::int64_t now_2024 = 1'704'067'200 * kSec;
  const std::int64_t after_2036 = (kEra1UnixSeconds + 100) * kSec;
  const FromNtpCase cases[] = {
      {"unix epoch", 2'208'988'800u, 0, 0, 0},
      {"half", 2'208'988'800u, 0x80000000u, 0, kSec / 2},
      // 1 unit = 0.233 ns rounds down; 3 units = 0.698 ns rounds up.
      {"one unit rounds to 0", 2'208'988'800u, 1, 0, 0},
      {"three units round to 1", 2'208'988'800u, 3, 0, 1},
      // The largest fraction is 999999999.77 ns and rounds into the next
      // second (nanoseconds carry, so the result is still exact).
      {"max fraction carries", 2'208'988'800u, 0xffffffffu, 0, kSec},
      {"0xfffffffb is the last ns", 2'208'988'800u, 0xfffffffbu, 0, kSec - 1},
      {"2024 near pivot", 3'913'056'000u, 0, now_2024, now_2024},
      {"era 1 seconds 0 after 2036", 0, 0, after_2036, kEra1UnixSeconds * kSec},
      {"era 0 end seen from era 1", 0xffffffffu, 0, after_2036, (kEra1UnixSeconds - 1) * kSec},
      {"era 1 start seen from 2035", 5, 0, (kEra1UnixSeconds - 1000) * kSec,
       (kEra1UnixSeconds + 5) * kSec},
      {"1969 is negative", 2'208'988'799u, 0x80000000u, 0, -kSec / 2},
      {"1900 from a 1950 pivot", 0, 0, -631'152'000 * kSec, -kNtpToUnixSeconds * kSec},
  };
  for (const auto& c : cases) {
    const UnixNs t = from_ntp(NtpTimestamp::from_parts(c.seconds, c.fraction), UnixNs{c.pivot_ns});
    EXPECT_EQ(t.ns, c.expected_ns) << c.name;
  }
}

TEST(TimeTypesTest, RoundTripIsExactToTheNanosecond) {
  const std::int64_t values[] = {
      0,
      1,
      -1,
      999'999'999,
      -999'999'999,
      kSec / 3,
      -kSec / 3,
      1'704'067'200 * kSec + 123'456'789,
      -1'000'000 * kSec - 7,
      (kEra1UnixSeconds - 1) * kSec + 999'999'999,
      kEra1UnixSeconds * kSec,
      kEra1UnixSeconds * kSec + 1,
      (kEra1UnixSeconds + 86'400) * kSec + 500'000'001,
  };
  for (const std::int64_t ns : values) {
    // Pivot within half an era (68 years) of the value recovers it exactly.
    EXPECT_EQ(from_ntp(to_ntp(UnixNs{ns}), UnixNs{ns}).ns, ns) << ns;
    EXPECT_EQ(from_ntp(to_ntp(UnixNs{ns}), UnixNs{ns + 30LL * 365 * 86'400 * kSec}).ns, ns) << ns;
  }
  for (std::int64_t ns = 0; ns < 5000; ++ns) {
    ASSERT_EQ(from_ntp(to_ntp(UnixNs{ns}), UnixNs{0}).ns, ns);
  }
}

TEST(TimeTypesTest, NtpTimestampParts) {
  const NtpTimestamp ts = NtpTimestamp::from_parts(0x01020304u, 0x05060708u);
  EXPECT_EQ(ts.raw, 0x0102030405060708u);
  EXPECT_EQ(ts.seconds(), 0x01020304u);
  EXPECT_EQ(ts.fraction(), 0x05060708u);
  EXPECT_FALSE(ts.is_zero());
  EXPECT_TRUE(NtpTimestamp{}.is_zero());
}

struct ShortCase {
  const char* name;
  std::int64_t ns;
  std::uint32_t raw;
};

TEST(TimeTypesTest, ToNtpShortClamps) {
  const ShortCase cases[] = {
      {"negative clamps to zero", -5 * kSec, 0},
      {"minus one ns", -1, 0},
      {"zero", 0, 0},
      {"one second", kSec, 0x00010000u},
      {"1.5 s", kSec + kSec / 2, 0x00018000u},
      // 1/65536 s = 15258.79 ns; below that truncates to zero.
      {"one unit", 15'259, 1},
      {"below one unit", 15'258, 0},
      {"largest representable", 65'535 * kSec + (kSec - 1), 0xffffffffu},
      {"65536 s saturates", 65'536 * kSec, 0xffffffffu},
      {"huge saturates", INT64_MAX, 0xffffffffu},
  };
  for (const auto& c : cases) EXPECT_EQ(to_ntp_short(c.ns).raw, c.raw) << c.name;
}

TEST(TimeTypesTest, FromNtpShort) {
  EXPECT_EQ(from_ntp_short(NtpShort{0}), 0);
  EXPECT_EQ(from_ntp_short(NtpShort{0x00010000u}), kSec);
  EXPECT_EQ(from_ntp_short(NtpShort{0x00008000u}), kSec / 2);
  EXPECT_EQ(from_ntp_short(NtpShort{1}), 15'258);  // truncates 15258.79
  EXPECT_EQ(from_ntp_short(NtpShort{0xffffffffu}), 65'536 * kSec - 15'259);
}

}  // namespace
}  // namespace ntpd::common
