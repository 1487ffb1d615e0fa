// Encoding and decoding of IPC envelopes (proto/ntpd.proto), with the size
// cap and schema-version check both processes apply. Pure: bytes in, bytes
// out. Decoding only proves the bytes are a well-formed envelope; each
// receiver still validates every field it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "proto/ntpd.pb.h"

namespace ntpd::common {

// The largest datagram either side sends or accepts.
inline constexpr std::size_t kMaxIpcMessageBytes = 64 * 1024;

enum class DecodeError { kEmpty, kTooLarge, kMalformed, kWrongVersion, kNoBody };
std::string_view to_string(DecodeError error);

std::optional<ipc::Envelope> decode_envelope(std::span<const std::uint8_t> bytes,
                                             DecodeError* error);

// Stamps the current schema version and serializes; nullopt if the result
// would exceed kMaxIpcMessageBytes.
std::optional<std::vector<std::uint8_t>> encode_envelope(ipc::Envelope& envelope);

// Writes an Envelope{seccomp_violation{nr, arch}} into `out` without
// allocating, for ntpd-net's SIGSYS handler (async-signal-safe). Returns the
// length, or 0 if `out` is too small (32 bytes always suffice).
std::size_t encode_seccomp_violation_raw(int syscall_nr, std::uint32_t arch,
                                         std::span<std::uint8_t> out) noexcept;

}  // namespace ntpd::common
