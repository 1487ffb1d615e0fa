// Tests for ntpd-net/rate_limit: discard defaults, ntpd's leaky bucket per
// source, KoD at most once per headway and within the global budget, and
// the flood scenario of issue 6: one source flooding is capped and other
// sources are still served.
#include "ntpd-net/rate_limit.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ntpd::net {
namespace {

using common::AddressFamily;
using common::RestrictFlags;
using common::UnixNs;

constexpr std::int64_t kSecond = common::kNsPerSecond;
constexpr std::int64_t kMs = 1'000'000;

RateRequest from(std::uint32_t n) {
  RateRequest r;
  r.address.family = AddressFamily::kIpv4;
  for (int i = 0; i < 4; ++i) r.address.bytes[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  r.port = 40123;
  return r;
}

UnixNs at(std::int64_t ns) { return UnixNs{1'700'000'000 * kSecond + ns}; }

RestrictFlags limited_kod() {
  RestrictFlags f;
  f.limited = true;
  f.kod = true;
  return f;
}

RateLimiter limiter(RateLimitConfig config = {}) {
  return RateLimiter(config, mru_limits_from_config(std::nullopt), 12345);
}

struct Tally {
  int served = 0;
  int dropped = 0;
  int kod = 0;
  void add(RateDecision d) {
    (d == RateDecision::kServe ? served : d == RateDecision::kDrop ? dropped : kod)++;
  }
};

// One source sending every `interval_ns` for `duration_ns`.
Tally run_source(RateLimiter& rl, std::uint32_t source, std::int64_t interval_ns,
                 std::int64_t duration_ns, const RestrictFlags& flags) {
  Tally tally;
  for (std::int64_t t = 0; t < duration_ns; t += interval_ns)
    tally.add(rl.check(from(source), flags, at(t)));
  return tally;
}

TEST(RateLimitConfigTest, DiscardDefaultsAndOverrides) {
  RateLimitConfig config = rate_limit_config_from(std::nullopt);
  EXPECT_EQ(config.average_log2s, 3);
  EXPECT_EQ(config.minimum_s, 2);
  EXPECT_EQ(config.monitor, 3000);
  common::DiscardConfig discard;
  discard.average_log2s = 5;
  config = rate_limit_config_from(discard);
  EXPECT_EQ(config.average_log2s, 5);
  EXPECT_EQ(config.minimum_s, 2);
  discard.average_log2s = 40;
  discard.minimum_s = -1;
  discard.monitor_s = 10;
  config = rate_limit_config_from(discard);
  EXPECT_EQ(config.average_log2s, 17);
  EXPECT_EQ(config.minimum_s, 0);
  EXPECT_EQ(config.monitor, 10);
}

TEST(RateLimitTest, SecondPacketTooSoonIsLimited) {
  RestrictFlags none;
  RestrictFlags limited;
  limited.limited = true;
  RestrictFlags kod_only;
  kod_only.kod = true;
  struct Case {
    RestrictFlags flags;
    RateDecision second;
  };
  const Case cases[] = {{none, RateDecision::kServe},
                        {kod_only, RateDecision::kServe},
                        {limited, RateDecision::kDrop},
                        {limited_kod(), RateDecision::kKod}};
  for (const auto& c : cases) {
    RateLimiter rl = limiter();
    EXPECT_EQ(rl.check(from(1), c.flags, at(0)), RateDecision::kServe);
    EXPECT_EQ(rl.check(from(1), c.flags, at(100 * kMs)), c.second);
  }
}

TEST(RateLimitTest, PollingAtOrAboveTheAverageIsAlwaysServed) {
  for (const std::int64_t interval_s : {8, 16, 64, 1024}) {
    RateLimiter rl = limiter();
    const Tally t = run_source(rl, 7, interval_s * kSecond, 20'000 * kSecond, limited_kod());
    EXPECT_EQ(t.dropped + t.kod, 0) << interval_s;
  }
}

// ntpd's iburst: 8 packets 2 s apart, then normal polling, is served.
TEST(RateLimitTest, IburstIsServed) {
  RateLimiter rl = limiter();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(rl.check(from(3), limited_kod(), at(i * 2 * kSecond)), RateDecision::kServe) << i;
  }
  EXPECT_EQ(rl.check(from(3), limited_kod(), at(80 * kSecond)), RateDecision::kServe);
}

// Whatever its rate, after a bounded initial burst a source is served at
// most once per max(headway - 2 s, minimum - 1.5 s) (ntpd's graces), and
// gets at most one KoD per headway (2^average s).
TEST(RateLimitTest, RepliesAndKodsAreCappedPerHeadway) {
  constexpr std::int64_t kDuration = 1000 * kSecond;
  for (const int average : {0, 3, 6}) {
    RateLimitConfig config;
    config.average_log2s = average;
    const std::int64_t headway = kSecond << average;
    const std::int64_t serve_spacing =
        std::max(headway - 2 * kSecond, config.minimum_s * kSecond - 3 * kSecond / 2);
    const int max_served = static_cast<int>(kDuration / serve_spacing) + kNtpShift + 2;
    const int max_kod = static_cast<int>(kDuration / headway) + 1;
    for (const std::int64_t interval :
         {kMs, 100 * kMs, 500 * kMs, kSecond, 2 * kSecond, 3 * kSecond, 4 * kSecond}) {
      RateLimiter rl = limiter(config);
      const Tally t = run_source(rl, 9, interval, kDuration, limited_kod());
      EXPECT_LE(t.served, max_served) << average << " " << interval;
      EXPECT_LE(t.kod, max_kod) << average << " " << interval;
      EXPECT_EQ(t.served + t.dropped + t.kod, (kDuration + interval - 1) / interval);
    }
  }
}

// Issue 6: one source floods 100k requests over 10 s against "restrict
// default limited kod" while another sends an iburst-like train.
TEST(RateLimitTest, FloodFromOneSourceIsCappedOthersServed) {
  RateLimiter rl = limiter();
  Tally flood;
  Tally other;
  for (std::int64_t i = 0; i < 100'000; ++i) {
    const std::int64_t t = i * 100'000;  // every 100 us
    flood.add(rl.check(from(0xc6336401), limited_kod(), at(t)));
    if (i % 20'000 == 5) other.add(rl.check(from(0xc6336402), limited_kod(), at(t)));  // 2 s
  }
  EXPECT_EQ(flood.served, 1);  // the first packet, then nothing faster than 2 s
  EXPECT_GE(flood.kod, 1);
  EXPECT_LE(flood.kod, 2);  // one per 8 s headway
  EXPECT_EQ(flood.dropped, 100'000 - flood.served - flood.kod);
  EXPECT_EQ(other.served, 5);
  EXPECT_EQ(rl.stats().kod_sent, static_cast<std::uint64_t>(flood.kod));
}

// Spoofed floods from many addresses cannot turn KoDs into a reflector:
// the global budget caps them, the excess is dropped.
TEST(RateLimitTest, GlobalKodBudgetCapsReflection) {
  RateLimitConfig config;
  config.kod_per_second = 10;
  config.kod_burst = 20;
  RateLimiter rl = limiter(config);
  Tally total;
  for (std::int64_t i = 0; i < 200'000; ++i) {
    const std::int64_t t = i * 50'000;  // 20k packets/s for 10 s, 1000 sources
    total.add(
        rl.check(from(0x0a000000 + static_cast<std::uint32_t>(i % 1000)), limited_kod(), at(t)));
  }
  // Burst plus rate times duration bounds it; here every source is due a
  // KoD twice (at 50 ms and 8 s), and each time the bucket holds 20.
  EXPECT_LE(total.kod, 20 + 10 * 10 + 1);
  EXPECT_GE(total.kod, 40);
  EXPECT_GT(rl.stats().kod_over_budget, 0u);
  EXPECT_EQ(total.served, 1000);  // each source's first packet
}

TEST(RateLimitTest, ZeroKodBudgetNeverSendsKod) {
  RateLimitConfig config;
  config.kod_per_second = 0;
  RateLimiter rl = limiter(config);
  rl.check(from(1), limited_kod(), at(0));
  EXPECT_EQ(rl.check(from(1), limited_kod(), at(kMs)), RateDecision::kDrop);
  EXPECT_EQ(rl.stats().kod_over_budget, 1u);
}

TEST(RateLimitTest, UntrackedSourcesAreServedAsNtpsecDoes) {
  MruLimits limits;
  limits.max_entries = 2;
  limits.min_entries = 2;
  RateLimiter rl(RateLimitConfig{}, limits, 1);
  rl.check(from(1), limited_kod(), at(0));
  rl.check(from(2), limited_kod(), at(0));
  EXPECT_EQ(rl.check(from(3), limited_kod(), at(kMs)), RateDecision::kServe);
  EXPECT_EQ(rl.check(from(3), limited_kod(), at(2 * kMs)), RateDecision::kServe);
  EXPECT_EQ(rl.mru().stats().none, 2u);
}

TEST(RateLimitTest, MruRecordsModeAndVersion) {
  RateLimiter rl = limiter();
  RateRequest r = from(5);
  r.mode = 6;
  r.version = 2;
  rl.check(r, RestrictFlags{}, at(0));
  const MruEntry* e = rl.mru().find(r.address);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mode, 6);
  EXPECT_EQ(e->version, 2);
  r.mode = 3;
  rl.check(r, RestrictFlags{}, at(kSecond));
  EXPECT_EQ(rl.mru().find(r.address)->mode, 3);
  EXPECT_EQ(rl.mru().find(r.address)->count, 2u);
}

TEST(RateLimitTest, ClockStepBackwardsDoesNotReset) {
  RateLimiter rl = limiter();
  rl.check(from(1), limited_kod(), at(100 * kSecond));
  EXPECT_EQ(rl.check(from(1), limited_kod(), at(100 * kSecond + kMs)), RateDecision::kKod);
  EXPECT_EQ(rl.check(from(1), limited_kod(), at(0)), RateDecision::kDrop);
}

}  // namespace
}  // namespace ntpd::net
