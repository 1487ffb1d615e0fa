// MessageValidator: every field of every net-to-clock message is checked,
// and rates are bounded. Table-driven over the ways a sample can be wrong.
#include "ntpd-clock/validate.h"

#include <gtest/gtest.h>
#include <syslog.h>

#include <functional>
#include <limits>

#include "tests/unit/test_envelopes.h"

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;

RejectKind rejection_of(const Verdict& v) {
  const auto* r = std::get_if<Rejected>(&v);
  return r == nullptr ? static_cast<RejectKind>(-1) : r->kind;
}

TEST(MessageValidator, AcceptsAValidSample) {
  MessageValidator validator;
  const Verdict v = validator.check(testing::encode(testing::valid_sample()), kSecond);
  const auto* sample = std::get_if<ValidSample>(&v);
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(sample->offset_ns, 1'500'000);
  EXPECT_EQ(sample->stratum, 2u);
  EXPECT_EQ(sample->poll_log2s, 6);
  EXPECT_EQ(sample->age_ns, 0);  // absent (an older ntpd-net): just measured
}

TEST(MessageValidator, PassesTheSampleAgeAndNamesItWhenOutOfRange) {
  MessageValidator validator;
  ipc::Sample s = testing::valid_sample();
  s.set_age_ns(kMaxSampleAgeNs);
  const Verdict ok = validator.check(testing::encode(s), kSecond);
  ASSERT_NE(std::get_if<ValidSample>(&ok), nullptr);
  EXPECT_EQ(std::get<ValidSample>(ok).age_ns, kMaxSampleAgeNs);
  s.set_age_ns(-5);
  const Verdict bad = validator.check(testing::encode(s), 2 * kSecond);
  const auto* r = std::get_if<Rejected>(&bad);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->detail.find("age_ns -5"), std::string::npos) << r->detail;
}

struct BadSampleCase {
  const char* name;
  std::function<void(ipc::Sample&)> spoil;
  RejectKind expected;
};

TEST(MessageValidator, RejectsEveryBadSampleField) {
  const BadSampleCase cases[] = {
      {"offset max",
       [](ipc::Sample& s) { s.set_offset_ns(std::numeric_limits<std::int64_t>::max()); },
       RejectKind::kOutOfRange},
      {"offset min",
       [](ipc::Sample& s) { s.set_offset_ns(std::numeric_limits<std::int64_t>::min()); },
       RejectKind::kOutOfRange},
      {"offset just over", [](ipc::Sample& s) { s.set_offset_ns(kMaxSampleOffsetNs + 1); },
       RejectKind::kOutOfRange},
      {"negative delay", [](ipc::Sample& s) { s.set_delay_ns(-1); }, RejectKind::kOutOfRange},
      {"huge delay", [](ipc::Sample& s) { s.set_delay_ns(kMaxSampleDurationNs + 1); },
       RejectKind::kOutOfRange},
      {"negative dispersion", [](ipc::Sample& s) { s.set_dispersion_ns(-5); },
       RejectKind::kOutOfRange},
      {"negative jitter", [](ipc::Sample& s) { s.set_jitter_ns(-5); }, RejectKind::kOutOfRange},
      {"huge distance", [](ipc::Sample& s) { s.set_root_distance_ns(100 * kSecond); },
       RejectKind::kOutOfRange},
      {"stratum 16", [](ipc::Sample& s) { s.set_stratum(16); }, RejectKind::kOutOfRange},
      {"leap 3", [](ipc::Sample& s) { s.set_leap(3); }, RejectKind::kOutOfRange},
      {"poll 2", [](ipc::Sample& s) { s.set_poll_log2s(2); }, RejectKind::kOutOfRange},
      {"poll 99", [](ipc::Sample& s) { s.set_poll_log2s(99); }, RejectKind::kOutOfRange},
      {"no offset", [](ipc::Sample& s) { s.clear_offset_ns(); }, RejectKind::kMissingField},
      {"no delay", [](ipc::Sample& s) { s.clear_delay_ns(); }, RejectKind::kMissingField},
      {"no stratum", [](ipc::Sample& s) { s.clear_stratum(); }, RejectKind::kMissingField},
      {"no leap", [](ipc::Sample& s) { s.clear_leap(); }, RejectKind::kMissingField},
      {"no poll", [](ipc::Sample& s) { s.clear_poll_log2s(); }, RejectKind::kMissingField},
      {"no refid", [](ipc::Sample& s) { s.clear_refid(); }, RejectKind::kMissingField},
      {"negative age", [](ipc::Sample& s) { s.set_age_ns(-1); }, RejectKind::kOutOfRange},
      {"age over the bound", [](ipc::Sample& s) { s.set_age_ns(kMaxSampleAgeNs + 1); },
       RejectKind::kOutOfRange},
  };
  for (const auto& c : cases) {
    MessageValidator validator;
    ipc::Sample sample = testing::valid_sample();
    c.spoil(sample);
    EXPECT_EQ(rejection_of(validator.check(testing::encode(sample), kSecond)), c.expected)
        << c.name;
  }
}

TEST(MessageValidator, AWrongWireTypeForOffsetIsAMissingField) {
  // Field 1 of Sample sent as fixed64 holding a NaN bit pattern: protobuf
  // keeps it as an unknown field, so the offset is absent, not NaN or zero.
  ipc::Sample sample = testing::valid_sample();
  sample.clear_offset_ns();
  std::string inner;
  sample.SerializeToString(&inner);
  const std::uint8_t nan_field[] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
  inner.insert(0, reinterpret_cast<const char*>(nan_field), sizeof nan_field);
  std::vector<std::uint8_t> bytes = {0x08, 0x01, 0x62, static_cast<std::uint8_t>(inner.size())};
  bytes.insert(bytes.end(), inner.begin(), inner.end());
  MessageValidator validator;
  EXPECT_EQ(rejection_of(validator.check(bytes, kSecond)), RejectKind::kMissingField);
}

TEST(MessageValidator, RejectsClockToNetMessages) {
  ipc::Envelope envelope;
  envelope.mutable_clock_state()->set_sync_state(ipc::SYNC_STATE_SYNCHRONIZED);
  MessageValidator validator;
  EXPECT_EQ(rejection_of(validator.check(*common::encode_envelope(envelope), kSecond)),
            RejectKind::kUnexpectedType);
}

TEST(MessageValidator, RejectsGarbageAndTruncation) {
  MessageValidator validator;
  const std::vector<std::uint8_t> garbage = {0x12, 0x34, 0x56, 0xff, 0xff};
  EXPECT_EQ(rejection_of(validator.check(garbage, kSecond)), RejectKind::kUndecodable);
  auto bytes = testing::encode(testing::valid_sample());
  bytes.resize(bytes.size() - 3);
  EXPECT_EQ(rejection_of(validator.check(bytes, kSecond)), RejectKind::kUndecodable);
  EXPECT_EQ(rejection_of(MessageValidator::oversized()), RejectKind::kOversized);
}

TEST(MessageValidator, RateLimitsSamplesWithABurstOfEightThenOnePerSecond) {
  MessageValidator validator;
  const auto bytes = testing::encode(testing::valid_sample());
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    if (std::holds_alternative<ValidSample>(validator.check(bytes, 10 * kSecond))) ++accepted;
  }
  EXPECT_EQ(accepted, 8);
  EXPECT_EQ(rejection_of(validator.check(bytes, 10 * kSecond + kSecond / 2)),
            RejectKind::kRateLimited);
  EXPECT_TRUE(std::holds_alternative<ValidSample>(validator.check(bytes, 11 * kSecond)));
  EXPECT_EQ(rejection_of(validator.check(bytes, 11 * kSecond)), RejectKind::kRateLimited);
}

TEST(MessageValidator, SanitizesAndCapsLogText) {
  MessageValidator validator;
  const std::string text = "line\nwith\x1b[31m escapes\x7f" + std::string(5000, 'a');
  const Verdict v = validator.check(testing::encode_log(ipc::LOG_SEVERITY_WARNING, text), kSecond);
  const auto* log = std::get_if<ValidLog>(&v);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->priority, LOG_WARNING);
  EXPECT_EQ(log->text.size(), kMaxLogTextBytes);
  for (char c : log->text) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
  EXPECT_EQ(log->text.substr(0, 10), "line?with?");
}

TEST(MessageValidator, RejectsUnknownLogSeverity) {
  MessageValidator validator;
  EXPECT_EQ(rejection_of(validator.check(
                testing::encode_log(static_cast<ipc::LogSeverity>(42), "x"), kSecond)),
            RejectKind::kOutOfRange);
}

TEST(MessageValidator, ChecksSeccompReports) {
  MessageValidator validator;
  ipc::Envelope envelope;
  envelope.mutable_seccomp_violation()->set_syscall_nr(257);
  envelope.mutable_seccomp_violation()->set_arch(0xC000003E);
  const auto bytes = *common::encode_envelope(envelope);
  const Verdict v = validator.check(bytes, kSecond);
  ASSERT_TRUE(std::holds_alternative<SeccompReport>(v));
  EXPECT_EQ(std::get<SeccompReport>(v).syscall_nr, 257);
  envelope.mutable_seccomp_violation()->set_syscall_nr(-4);
  EXPECT_EQ(rejection_of(validator.check(*common::encode_envelope(envelope), kSecond)),
            RejectKind::kOutOfRange);
}

TEST(RejectionLogLimiter, LogsOncePerKindPerMinute) {
  RejectionLogLimiter limiter;
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.should_log(RejectKind::kOutOfRange, 0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.should_log(RejectKind::kOutOfRange, 10 * kSecond, &suppressed));
  EXPECT_FALSE(limiter.should_log(RejectKind::kOutOfRange, 59 * kSecond, &suppressed));
  EXPECT_TRUE(limiter.should_log(RejectKind::kUndecodable, 59 * kSecond, &suppressed));
  EXPECT_TRUE(limiter.should_log(RejectKind::kOutOfRange, 61 * kSecond, &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace ntpd::clock
