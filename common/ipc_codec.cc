// Envelope framing rules shared by both processes: cap, version, body present.
#include "common/ipc_codec.h"

namespace ntpd::common {

std::string_view to_string(DecodeError error) {
  switch (error) {
    case DecodeError::kEmpty:
      return "empty message";
    case DecodeError::kTooLarge:
      return "message larger than the IPC cap";
    case DecodeError::kMalformed:
      return "not a valid protobuf envelope";
    case DecodeError::kWrongVersion:
      return "missing or unsupported schema version";
    case DecodeError::kNoBody:
      return "envelope without a known body";
  }
  return "unknown decode error";
}

std::optional<ipc::Envelope> decode_envelope(std::span<const std::uint8_t> bytes,
                                             DecodeError* error) {
  auto fail = [error](DecodeError e) {
    if (error != nullptr) *error = e;
    return std::nullopt;
  };
  if (bytes.empty()) return fail(DecodeError::kEmpty);
  if (bytes.size() > kMaxIpcMessageBytes) return fail(DecodeError::kTooLarge);
  ipc::Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(DecodeError::kMalformed);
  }
  if (!envelope.has_schema_version() || envelope.schema_version() != ipc::SCHEMA_VERSION_1) {
    return fail(DecodeError::kWrongVersion);
  }
  if (envelope.body_case() == ipc::Envelope::BODY_NOT_SET) return fail(DecodeError::kNoBody);
  return envelope;
}

std::optional<std::vector<std::uint8_t>> encode_envelope(ipc::Envelope& envelope) {
  envelope.set_schema_version(ipc::SCHEMA_VERSION_1);
  const std::size_t size = envelope.ByteSizeLong();
  if (size > kMaxIpcMessageBytes) return std::nullopt;
  std::vector<std::uint8_t> out(size);
  if (!envelope.SerializeToArray(out.data(), static_cast<int>(out.size()))) return std::nullopt;
  return out;
}

namespace {

// Protobuf wire format by hand: varint and tag bytes (field << 3 | wire type).
struct RawWriter {
  std::span<std::uint8_t> out;
  std::size_t pos = 0;
  bool ok = true;

  void byte(std::uint8_t b) noexcept {
    if (pos >= out.size()) {
      ok = false;
      return;
    }
    out[pos++] = b;
  }
  void varint(std::uint64_t v) noexcept {
    while (v >= 0x80) {
      byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<std::uint8_t>(v));
  }
};

constexpr std::uint8_t kWireVarint = 0;
constexpr std::uint8_t kWireLengthDelimited = 2;
constexpr std::uint8_t tag(int field, std::uint8_t wire) {
  return static_cast<std::uint8_t>((field << 3) | wire);
}

}  // namespace

std::size_t encode_seccomp_violation_raw(int syscall_nr, std::uint32_t arch,
                                         std::span<std::uint8_t> out) noexcept {
  std::uint8_t inner_buffer[24];
  RawWriter inner{inner_buffer};
  inner.byte(tag(ipc::SeccompViolation::kSyscallNrFieldNumber, kWireVarint));
  // int32 fields are sign-extended to 64 bits on the wire.
  inner.varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(syscall_nr)));
  inner.byte(tag(ipc::SeccompViolation::kArchFieldNumber, kWireVarint));
  inner.varint(arch);
  RawWriter writer{out};
  writer.byte(tag(ipc::Envelope::kSchemaVersionFieldNumber, kWireVarint));
  writer.varint(ipc::SCHEMA_VERSION_1);
  writer.byte(tag(ipc::Envelope::kSeccompViolationFieldNumber, kWireLengthDelimited));
  writer.varint(inner.pos);
  for (std::size_t i = 0; i < inner.pos; ++i) writer.byte(inner_buffer[i]);
  return inner.ok && writer.ok ? writer.pos : 0;
}

}  // namespace ntpd::common
