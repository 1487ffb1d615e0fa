// Rate limiting and KoD decisions (see rate_limit.h). All arithmetic is in
// int64 nanoseconds from bounded configuration (headway at most 2^17 s), so
// nothing here can overflow; a clock step backwards counts as no time.
#include "ntpd-net/rate_limit.h"

#include <algorithm>

namespace ntpd::net {
namespace {

constexpr std::int64_t kMinimumGraceNs = common::kNsPerSecond * 3 / 2;  // see check()
constexpr std::int64_t kHeadwayGraceNs = 2 * common::kNsPerSecond;

}  // namespace

RateLimitConfig rate_limit_config_from(const std::optional<common::DiscardConfig>& discard) {
  RateLimitConfig config;
  if (!discard) return config;
  config.average_log2s = std::clamp(discard->average_log2s.value_or(config.average_log2s), 0,
                                    common::kMaxPollLimitLog2s);
  config.minimum_s = std::clamp(discard->minimum_s.value_or(config.minimum_s), 0, 255);
  config.monitor = std::max(0, discard->monitor_s.value_or(config.monitor));
  return config;
}

RateLimiter::RateLimiter(const RateLimitConfig& config, const MruLimits& limits,
                         std::uint64_t hash_seed)
    : config_(config), mru_(limits, hash_seed) {
  config_.average_log2s = std::clamp(config_.average_log2s, 0, common::kMaxPollLimitLog2s);
  config_.minimum_s = std::clamp(config_.minimum_s, 0, 255);
  if (config_.kod_per_second > 0) {
    kod_cost_ns_ = common::kNsPerSecond / std::int64_t{config_.kod_per_second};
    kod_cost_ns_ = std::max<std::int64_t>(kod_cost_ns_, 1);
    kod_credit_ns_ = kod_cost_ns_ * std::int64_t{config_.kod_burst};
  }
}

bool RateLimiter::spend_kod_budget(common::UnixNs now) {
  if (config_.kod_per_second == 0 || config_.kod_burst == 0) return false;
  const std::int64_t cap = kod_cost_ns_ * std::int64_t{config_.kod_burst};
  if (kod_refilled_) {
    const std::int64_t elapsed = std::max<std::int64_t>(0, now.ns - kod_refilled_->ns);
    kod_credit_ns_ = elapsed >= cap ? cap : std::min(cap, kod_credit_ns_ + elapsed);
  }
  kod_refilled_ = now;
  if (kod_credit_ns_ < kod_cost_ns_) return false;
  kod_credit_ns_ -= kod_cost_ns_;
  return true;
}

RateDecision RateLimiter::check(const RateRequest& request, const common::RestrictFlags& flags,
                                common::UnixNs now) {
  const MruList::Touch touch = mru_.touch(request.address, request.port, now);
  if (touch.entry == nullptr || touch.created) {
    if (touch.entry != nullptr) {
      touch.entry->mode = request.mode;
      touch.entry->version = request.version;
    }
    ++stats_.served;
    return RateDecision::kServe;
  }
  MruEntry& entry = *touch.entry;
  entry.mode = request.mode;
  entry.version = request.version;

  // ntpd ntp_monitor(): head is the headway increment, limit the average
  // threshold. ntpd's "interval + 1 >= ntp_minpkt" on an interval rounded
  // to whole seconds is exactly "elapsed >= minimum - 1.5 s".
  const std::int64_t head = common::kNsPerSecond << config_.average_log2s;
  const std::int64_t limit = kNtpShift * head;
  entry.score_ns = std::max<std::int64_t>(0, entry.score_ns - touch.elapsed_ns);
  const std::int64_t leak = entry.score_ns + head;
  const bool spaced =
      touch.elapsed_ns + kMinimumGraceNs >= config_.minimum_s * common::kNsPerSecond;
  bool limited = true;
  bool kod = true;
  if (spaced && leak < limit) {
    entry.score_ns = leak - kHeadwayGraceNs;
    limited = kod = false;
  } else if (entry.score_ns < limit) {
    entry.score_ns = limit + head;
  } else {
    kod = false;
  }

  if (!limited || !flags.limited) {
    ++stats_.served;
    return RateDecision::kServe;
  }
  if (kod && flags.kod) {
    if (spend_kod_budget(now)) {
      ++stats_.kod_sent;
      return RateDecision::kKod;
    }
    ++stats_.kod_over_budget;
  }
  ++stats_.dropped;
  return RateDecision::kDrop;
}

}  // namespace ntpd::net
