// Rate limiting and KoD decisions for "restrict ... limited kod" with the
// "discard" knobs, as ntpd's ntp_monitor() and receive() decide them: a
// per-source leaky bucket kept in the MRU list, plus a global KoD budget
// so RATE kisses cannot be used to reflect traffic. Pure core for ntpd-net:
// time is an argument; it never reads a clock, sends, logs or allocates.
#pragma once

#include <cstdint>
#include <optional>

#include "common/ntp_conf_types.h"
#include "common/time_types.h"
#include "ntpd-net/mru_list.h"

namespace ntpd::net {

inline constexpr int kDefaultAverageLog2s = 3;  // ntpd NTP_MINPOLL: 8 s headway
inline constexpr int kDefaultMinimumS = 2;      // ntpd NTP_MINPKT
inline constexpr int kDefaultMonitor = 3000;    // ntpd mon_age; unused, as in ntpsec
inline constexpr int kNtpShift = 8;             // ntpd NTP_SHIFT: limit = 8 headways

struct RateLimitConfig {
  int average_log2s = kDefaultAverageLog2s;  // discard average, 0..17
  int minimum_s = kDefaultMinimumS;          // discard minimum, 0..255
  int monitor = kDefaultMonitor;             // discard monitor: accepted, no effect
  // Global KoD budget (not an ntpd knob): a token bucket over all sources.
  // Beyond it a KoD becomes a silent drop. 0 per second: never send KoD.
  std::uint32_t kod_per_second = 50;
  std::uint32_t kod_burst = 100;
};

// The "discard" line's values over the ntpd defaults (clamped to range).
RateLimitConfig rate_limit_config_from(const std::optional<common::DiscardConfig>& discard);

enum class RateDecision : std::uint8_t {
  kServe,  // answer normally
  kDrop,   // over the limit: no answer
  kKod,    // over the limit: answer with a RATE kiss-o'-death
};

struct RateRequest {
  IpAddress address;
  std::uint16_t port = 0;
  std::uint8_t mode = 3;  // recorded for ntpq mrulist
  std::uint8_t version = 4;
};

class RateLimiter {
 public:
  RateLimiter(const RateLimitConfig& config, const MruLimits& limits, std::uint64_t hash_seed);

  // Records one packet received at `now` and decides, given the restrict
  // flags of its source. Call it for every packet while monitoring is on
  // (ntpd: while any restrict entry has limited, or "enable monitor").
  // Per source (ntpd ntp_monitor, times exact instead of rounded to whole
  // seconds): the score decays by the time since the previous packet. A
  // packet at least `minimum` after the previous one (1 s grace) whose
  // score plus one headway (2^average s) stays below 8 headways is within
  // the limits, and the score grows by the headway less 2 s of grace.
  // Otherwise it is limited: with KoD if the score was below 8 headways
  // (the score becomes 9 headways), without KoD if not. So after a burst of
  // about 8 a source is served at most once per headway less 2 s, and gets
  // at most one KoD per headway. Limited means kDrop, or
  // kServe when flags.limited is off; kKod needs flags.kod and the global
  // budget. A new source, or one the full MRU list cannot track, is served.
  RateDecision check(const RateRequest& request, const common::RestrictFlags& flags,
                     common::UnixNs now);

  const MruList& mru() const { return mru_; }

  struct Stats {
    std::uint64_t served = 0;
    std::uint64_t dropped = 0;  // limited, no KoD due
    std::uint64_t kod_sent = 0;
    std::uint64_t kod_over_budget = 0;  // KoD due but the global budget was spent
  };
  const Stats& stats() const { return stats_; }

 private:
  bool spend_kod_budget(common::UnixNs now);

  RateLimitConfig config_;
  MruList mru_;
  std::int64_t kod_cost_ns_ = 0;    // credit one KoD costs
  std::int64_t kod_credit_ns_ = 0;  // 0 .. kod_burst * kod_cost_ns_
  std::optional<common::UnixNs> kod_refilled_;
  Stats stats_;
};

}  // namespace ntpd::net
