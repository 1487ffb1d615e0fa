// The checks behind MessageValidator. Every field a handler reads must be
// present (proto3 `optional`) and in range, or the message is rejected.
#include "ntpd-clock/validate.h"

#include <syslog.h>

#include "common/log.h"

namespace ntpd::clock {
namespace {

// Samples: ntpd-net sends one per system update; with iburst that is a
// handful in the first seconds, then one per poll interval (>= 8 s).
constexpr int kSampleBurst = 8;
constexpr std::int64_t kSampleRefillNs = common::kNsPerSecond;
constexpr int kLogBurst = 50;
constexpr std::int64_t kLogRefillNs = common::kNsPerSecond / 10;
constexpr int kReportBurst = 2;
constexpr std::int64_t kReportRefillNs = 10 * common::kNsPerSecond;

Rejected reject(RejectKind kind, std::string detail) { return Rejected{kind, std::move(detail)}; }

bool in_range(std::int64_t value, std::int64_t low, std::int64_t high) {
  return value >= low && value <= high;
}

}  // namespace

const char* to_string(RejectKind kind) {
  switch (kind) {
    case RejectKind::kUndecodable:
      return "undecodable";
    case RejectKind::kOversized:
      return "oversized";
    case RejectKind::kUnexpectedType:
      return "unexpected type";
    case RejectKind::kMissingField:
      return "missing field";
    case RejectKind::kOutOfRange:
      return "out of range";
    case RejectKind::kRateLimited:
      return "rate limited";
  }
  return "unknown";
}

TokenBucket::TokenBucket(int capacity, std::int64_t refill_interval_ns)
    : capacity_(capacity), refill_interval_ns_(refill_interval_ns), tokens_(capacity) {}

bool TokenBucket::take(std::int64_t now_ns) {
  if (!started_) {
    started_ = true;
    last_refill_ns_ = now_ns;
  }
  if (now_ns > last_refill_ns_) {
    const std::int64_t earned = (now_ns - last_refill_ns_) / refill_interval_ns_;
    if (earned >= capacity_ - tokens_) {
      tokens_ = capacity_;
      last_refill_ns_ = now_ns;
    } else if (earned > 0) {
      tokens_ += static_cast<int>(earned);
      last_refill_ns_ += earned * refill_interval_ns_;
    }
  }
  if (tokens_ == 0) return false;
  --tokens_;
  return true;
}

MessageValidator::MessageValidator()
    : sample_bucket_(kSampleBurst, kSampleRefillNs),
      log_bucket_(kLogBurst, kLogRefillNs),
      report_bucket_(kReportBurst, kReportRefillNs) {}

void MessageValidator::reset() { *this = MessageValidator(); }

Verdict MessageValidator::oversized() {
  return reject(RejectKind::kOversized, "datagram larger than the IPC cap");
}

Verdict MessageValidator::check(std::span<const std::uint8_t> bytes, std::int64_t now_ns) {
  common::DecodeError error{};
  auto envelope = common::decode_envelope(bytes, &error);
  if (!envelope) {
    return reject(
        error == common::DecodeError::kTooLarge ? RejectKind::kOversized : RejectKind::kUndecodable,
        std::string(common::to_string(error)));
  }
  switch (envelope->body_case()) {
    case ipc::Envelope::kSample:
      return check_sample(envelope->sample(), now_ns);
    case ipc::Envelope::kLog:
      return check_log(envelope->log(), now_ns);
    case ipc::Envelope::kSeccompViolation:
      return check_seccomp(envelope->seccomp_violation(), now_ns);
    default:
      return reject(RejectKind::kUnexpectedType,
                    "body " + std::to_string(static_cast<int>(envelope->body_case())) +
                        " is not a net-to-clock message");
  }
}

Verdict MessageValidator::check_sample(const ipc::Sample& s, std::int64_t now_ns) {
  if (!s.has_offset_ns() || !s.has_delay_ns() || !s.has_dispersion_ns() || !s.has_jitter_ns() ||
      !s.has_root_distance_ns() || !s.has_stratum() || !s.has_leap() || !s.has_refid() ||
      !s.has_poll_log2s()) {
    return reject(RejectKind::kMissingField, "sample lacks a required field");
  }
  if (!in_range(s.offset_ns(), -kMaxSampleOffsetNs, kMaxSampleOffsetNs)) {
    return reject(RejectKind::kOutOfRange, "offset " + std::to_string(s.offset_ns()) + " ns");
  }
  for (std::int64_t duration :
       {s.delay_ns(), s.dispersion_ns(), s.jitter_ns(), s.root_distance_ns()}) {
    if (!in_range(duration, 0, kMaxSampleDurationNs)) {
      return reject(RejectKind::kOutOfRange,
                    "delay/dispersion/jitter/distance " + std::to_string(duration) + " ns");
    }
  }
  // A sample comes from a synchronized system peer: stratum 0..15 (0 only
  // for a reference clock), leap 0..2 (3 means unsynchronized).
  if (s.stratum() > 15)
    return reject(RejectKind::kOutOfRange, "stratum " + std::to_string(s.stratum()));
  if (s.leap() > 2) return reject(RejectKind::kOutOfRange, "leap " + std::to_string(s.leap()));
  if (!in_range(s.poll_log2s(), kMinPollLog2s, kMaxPollLog2s)) {
    return reject(RejectKind::kOutOfRange, "poll " + std::to_string(s.poll_log2s()));
  }
  // Optional (older ntpd-net builds do not send it): absent means "just
  // measured". The bound is eight clock-filter stages at the longest poll.
  if (s.has_age_ns() && !in_range(s.age_ns(), 0, kMaxSampleAgeNs)) {
    return reject(RejectKind::kOutOfRange, "age_ns " + std::to_string(s.age_ns()) +
                                               " (allowed 0.." + std::to_string(kMaxSampleAgeNs) +
                                               ")");
  }
  if (!sample_bucket_.take(now_ns)) return reject(RejectKind::kRateLimited, "samples too frequent");
  return ValidSample{s.offset_ns(),        s.delay_ns(), s.dispersion_ns(), s.jitter_ns(),
                     s.root_distance_ns(), s.stratum(),  s.leap(),          s.refid(),
                     s.poll_log2s(),       s.age_ns()};
}

Verdict MessageValidator::check_log(const ipc::LogRecord& log, std::int64_t now_ns) {
  if (!log.has_severity() || !log.has_text()) {
    return reject(RejectKind::kMissingField, "log record lacks severity or text");
  }
  int priority = LOG_DEBUG;
  switch (log.severity()) {
    case ipc::LOG_SEVERITY_DEBUG:
      priority = LOG_DEBUG;
      break;
    case ipc::LOG_SEVERITY_INFO:
      priority = LOG_INFO;
      break;
    case ipc::LOG_SEVERITY_NOTICE:
      priority = LOG_NOTICE;
      break;
    case ipc::LOG_SEVERITY_WARNING:
      priority = LOG_WARNING;
      break;
    case ipc::LOG_SEVERITY_ERROR:
      priority = LOG_ERR;
      break;
    default:
      return reject(RejectKind::kOutOfRange, "log severity " + std::to_string(log.severity()));
  }
  if (!log_bucket_.take(now_ns))
    return reject(RejectKind::kRateLimited, "log records too frequent");
  return ValidLog{priority, common::sanitize_log_text(log.text(), kMaxLogTextBytes)};
}

Verdict MessageValidator::check_seccomp(const ipc::SeccompViolation& report, std::int64_t now_ns) {
  if (!report.has_syscall_nr() || !report.has_arch()) {
    return reject(RejectKind::kMissingField, "seccomp report lacks syscall or arch");
  }
  if (!in_range(report.syscall_nr(), 0, 4095)) {
    return reject(RejectKind::kOutOfRange, "syscall " + std::to_string(report.syscall_nr()));
  }
  if (!report_bucket_.take(now_ns))
    return reject(RejectKind::kRateLimited, "seccomp reports too frequent");
  return SeccompReport{report.syscall_nr(), report.arch()};
}

}  // namespace ntpd::clock
