// Envelope framing: cap, version, body, and the hand-encoded SIGSYS report.
#include "common/ipc_codec.h"

#include <gtest/gtest.h>

#include "tests/unit/test_envelopes.h"

namespace ntpd::common {
namespace {

TEST(IpcCodec, RoundTripsASample) {
  const auto bytes = testing::encode(testing::valid_sample());
  DecodeError error{};
  auto decoded = decode_envelope(bytes, &error);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->schema_version(), ipc::SCHEMA_VERSION_1);
  EXPECT_EQ(decoded->sample().offset_ns(), 1'500'000);
}

TEST(IpcCodec, RejectsEmptyOversizedGarbageAndVersionless) {
  DecodeError error{};
  EXPECT_FALSE(decode_envelope({}, &error));
  EXPECT_EQ(error, DecodeError::kEmpty);

  std::vector<std::uint8_t> big(kMaxIpcMessageBytes + 1, 0);
  EXPECT_FALSE(decode_envelope(big, &error));
  EXPECT_EQ(error, DecodeError::kTooLarge);

  const std::vector<std::uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_FALSE(decode_envelope(garbage, &error));
  EXPECT_EQ(error, DecodeError::kMalformed);

  ipc::Envelope no_version;
  *no_version.mutable_sample() = testing::valid_sample();
  std::string raw;
  no_version.SerializeToString(&raw);
  EXPECT_FALSE(
      decode_envelope({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, &error));
  EXPECT_EQ(error, DecodeError::kWrongVersion);

  ipc::Envelope future;
  future.set_schema_version(static_cast<ipc::SchemaVersion>(7));
  *future.mutable_sample() = testing::valid_sample();
  future.SerializeToString(&raw);
  EXPECT_FALSE(
      decode_envelope({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, &error));
  EXPECT_EQ(error, DecodeError::kWrongVersion);

  ipc::Envelope bodiless;
  bodiless.set_schema_version(ipc::SCHEMA_VERSION_1);
  bodiless.SerializeToString(&raw);
  EXPECT_FALSE(
      decode_envelope({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, &error));
  EXPECT_EQ(error, DecodeError::kNoBody);
}

TEST(IpcCodec, EncodeRefusesMessagesOverTheCap) {
  ipc::Envelope envelope;
  envelope.mutable_log()->set_severity(ipc::LOG_SEVERITY_INFO);
  envelope.mutable_log()->set_text(std::string(kMaxIpcMessageBytes, 'x'));
  EXPECT_FALSE(encode_envelope(envelope));
}

TEST(IpcCodec, RawSeccompReportDecodesAsProtobuf) {
  for (int nr : {0, 1, 257, 4095, -1}) {
    std::uint8_t buffer[32];
    const std::size_t n = encode_seccomp_violation_raw(nr, 0xC000003Eu, buffer);
    ASSERT_GT(n, 0u);
    DecodeError error{};
    auto decoded = decode_envelope({buffer, n}, &error);
    ASSERT_TRUE(decoded) << "nr " << nr;
    ASSERT_TRUE(decoded->has_seccomp_violation());
    EXPECT_EQ(decoded->seccomp_violation().syscall_nr(), nr);
    EXPECT_EQ(decoded->seccomp_violation().arch(), 0xC000003Eu);
  }
}

TEST(IpcCodec, RawSeccompReportRefusesSmallBuffers) {
  std::uint8_t buffer[4];
  EXPECT_EQ(encode_seccomp_violation_raw(257, 0xC000003Eu, buffer), 0u);
}

}  // namespace
}  // namespace ntpd::common
