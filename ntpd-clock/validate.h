// Validation of every datagram ntpd-net sends to the clock process. ntpd-net
// is treated as hostile: a message is decoded, type-checked, range-checked
// and rate-checked here, and only a Verdict that is not Rejected reaches the
// rest of the clock process. Pure: bytes and a monotonic time in.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "common/ipc_codec.h"
#include "common/time_types.h"
#include "ntpd-clock/discipline_policy.h"
#include "ntpd-clock/log_gate.h"

namespace ntpd::clock {

// Hard bounds on a system sample (RFC 5905 section 11 quantities). Stricter
// policy (step threshold, panic) belongs to the discipline; these reject
// values no honest ntpd-net can produce.
inline constexpr std::int64_t kMaxSampleOffsetNs = std::int64_t{1} << 31 << 30;  // ~68 years
inline constexpr std::int64_t kMaxSampleDurationNs = 16 * common::kNsPerSecond;  // MAXDISP
inline constexpr std::int32_t kMinPollLog2s = 3;
inline constexpr std::int32_t kMaxPollLog2s = 17;
inline constexpr std::size_t kMaxLogTextBytes = 512;

struct ValidSample {
  std::int64_t offset_ns = 0;  // reference - local; positive: local clock behind
  std::int64_t delay_ns = 0;
  std::int64_t dispersion_ns = 0;
  std::int64_t jitter_ns = 0;
  std::int64_t root_distance_ns = 0;
  std::uint32_t stratum = 0;
  std::uint32_t leap = 0;
  std::uint32_t refid = 0;
  std::int32_t poll_log2s = 0;
  std::int64_t age_ns = 0;  // 0 .. kMaxSampleAgeNs (discipline_policy.h); absent: 0
};

struct ValidLog {
  int priority = 0;  // syslog priority
  std::string text;  // sanitized: printable ASCII, capped
};

struct SeccompReport {
  int syscall_nr = 0;
  std::uint32_t arch = 0;
};

enum class RejectKind {
  kUndecodable,
  kOversized,
  kUnexpectedType,
  kMissingField,
  kOutOfRange,
  kRateLimited,
};
inline constexpr int kRejectKindCount = 6;
const char* to_string(RejectKind kind);

struct Rejected {
  RejectKind kind;
  std::string detail;
};

using Verdict = std::variant<ValidSample, ValidLog, SeccompReport, Rejected>;

// A token bucket on a monotonic nanosecond clock.
class TokenBucket {
 public:
  TokenBucket(int capacity, std::int64_t refill_interval_ns);
  bool take(std::int64_t now_ns);

 private:
  int capacity_;
  std::int64_t refill_interval_ns_;
  int tokens_;
  std::int64_t last_refill_ns_ = 0;
  bool started_ = false;
};

class MessageValidator {
 public:
  MessageValidator();

  Verdict check(std::span<const std::uint8_t> bytes, std::int64_t now_ns);
  // For a datagram the channel had to discard as larger than the cap.
  static Verdict oversized();

  // A fresh ntpd-net gets fresh buckets.
  void reset();

 private:
  Verdict check_sample(const ipc::Sample& sample, std::int64_t now_ns);
  Verdict check_log(const ipc::LogRecord& log, std::int64_t now_ns);
  Verdict check_seccomp(const ipc::SeccompViolation& report, std::int64_t now_ns);

  TokenBucket sample_bucket_;
  TokenBucket log_bucket_;
  TokenBucket report_bucket_;
};

// "Log each rejection once per kind per minute" (log_gate.h).
using RejectionLogLimiter = KindLogGate<RejectKind, kRejectKindCount>;

}  // namespace ntpd::clock
