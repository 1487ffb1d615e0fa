// The NTP packet codec: RFC 5905 section 7.3 header, RFC 7822 extension
// fields and the legacy MAC trailer, parsed and built with explicit bounds.
// Pure code for ntpd-net: it never allocates, reads a clock, does I/O, or
// throws, and it never decides what a packet means (see server.h, source.h).
// Every byte it reads is untrusted; every offset it returns is checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/time_types.h"

namespace ntpd::net {

inline constexpr std::size_t kHeaderBytes = 48;  // RFC 5905 section 7.3
// Cap on a datagram we parse: the header plus 1024 bytes of extension
// fields and MAC (chrony's NTP_MAX_EXTENSIONS_LENGTH; room for NTS).
inline constexpr std::size_t kMaxPacketBytes = kHeaderBytes + 1024;
inline constexpr std::size_t kMinExtensionBytes = 16;  // RFC 7822 section 3
inline constexpr std::size_t kCryptoNakBytes = 4;      // key id only
inline constexpr std::size_t kMacMd5Bytes = 4 + 16;    // also AES-128-CMAC
inline constexpr std::size_t kMacSha1Bytes = 4 + 20;   // RFC 7822: longest v4 MAC

inline constexpr std::uint8_t kMinVersion = 1;
inline constexpr std::uint8_t kMaxVersion = 4;

// RFC 5905 figure 10 (association modes).
enum class Mode : std::uint8_t {
  kReserved = 0,
  kSymmetricActive = 1,
  kSymmetricPassive = 2,
  kClient = 3,
  kServer = 4,
  kBroadcast = 5,
  kControl = 6,
  kPrivate = 7,
};

enum class ParseError : std::uint8_t {
  kNone = 0,
  kTooShort,               // fewer than 48 bytes
  kTooLong,                // more than kMaxPacketBytes
  kNotWordAligned,         // length not a multiple of 4
  kBadVersion,             // version 0 or 5..7
  kBadTrailer,             // bytes after the header/fields are not a MAC
  kExtensionInOldVersion,  // NTPv1..3 with a trailer that is not a MAC
  kExtensionTooShort,      // field length below 16 (includes zero)
  kExtensionNotWordAligned,
  kExtensionPastEnd,  // field length runs past the end of the datagram
};

std::string_view to_string(ParseError error);

// A byte range inside the datagram given to parse_packet.
struct ByteRange {
  std::uint16_t offset = 0;
  std::uint16_t length = 0;
  friend constexpr bool operator==(ByteRange, ByteRange) = default;
};

enum class MacKind : std::uint8_t {
  kNone,       // no trailer
  kCryptoNak,  // 4 bytes: key id only (ntpd's "crypto-NAK", usually key 0)
  kDigest,     // key id + 16-byte (MD5, AES-CMAC) or 20-byte (SHA1) digest
};

// refid as a host-order integer whose big-endian bytes are the wire bytes:
// "INIT" is 0x494e4954, IPv4 192.0.2.1 is 0xc0000201.
constexpr std::uint32_t refid_from_ascii(std::string_view four) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto byte = i < four.size() ? static_cast<std::uint8_t>(four[i]) : std::uint8_t{0};
    value = (value << 8) | byte;
  }
  return value;
}

// One NTP packet. Header fields are raw wire values: stratum 0 stays 0 (an
// unsynchronized sender's "16" is 0 on the wire, RFC 5905 figure 11), poll
// and precision are signed log2 seconds. The trailer fields describe the
// datagram parse_packet saw and are ignored by build_packet.
struct NtpPacket {
  std::uint8_t leap = 0;     // 0..3
  std::uint8_t version = 4;  // 1..4
  std::uint8_t mode = 3;     // 0..7, see Mode
  std::uint8_t stratum = 0;
  std::int8_t poll_log2s = 0;
  std::int8_t precision_log2s = 0;
  common::NtpShort root_delay;
  common::NtpShort root_dispersion;
  std::uint32_t refid = 0;  // see refid_from_ascii
  common::NtpTimestamp reference_time;
  common::NtpTimestamp origin_time;
  common::NtpTimestamp receive_time;
  common::NtpTimestamp transmit_time;

  // Filled by parse_packet. A MAC covers bytes [0, authenticated_bytes):
  // the header and every extension field.
  std::uint16_t authenticated_bytes = kHeaderBytes;
  ByteRange extensions{kHeaderBytes, 0};  // all extension fields, back to back
  std::uint16_t extension_count = 0;
  MacKind mac_kind = MacKind::kNone;
  std::uint32_t mac_key_id = 0;
  ByteRange mac_digest;  // empty for kNone and kCryptoNak

  friend constexpr bool operator==(const NtpPacket&, const NtpPacket&) = default;
};

// Parses one datagram. Returns nullopt and sets *why (if non-null) on any
// violation; never reads outside `bytes`. Trailer rules (RFC 7822 section 3,
// updating RFC 5905 section 7.5, as ntpd receive() and chrony parse_packet
// apply them): 4 bytes after the header is a crypto-NAK, 20 or 24 a MAC;
// NTPv4 parses extension fields while more than 24 bytes remain, then
// needs 0, 20 or 24 bytes left (so a last field without MAC is >= 28).
std::optional<NtpPacket> parse_packet(std::span<const std::uint8_t> bytes, ParseError* why);

// Writes the 48-byte header of `packet` (fields masked to their widths; no
// extension fields, no MAC) into out. Returns 48, or 0 if out is smaller.
std::size_t build_packet(const NtpPacket& packet, std::span<std::uint8_t> out);

// True when the header fields (not the trailer description) are equal.
bool same_header(const NtpPacket& a, const NtpPacket& b);

// One extension field at `offset` of a datagram parse_packet accepted,
// where offset walks packet.extensions: next offset = offset + length.
struct ExtensionField {
  std::uint16_t type = 0;
  std::uint16_t length = 0;  // whole field, 4-byte header included
  ByteRange body;            // value and padding
};
// Returns nullopt if the field at offset is not inside `bytes` or malformed.
std::optional<ExtensionField> extension_at(std::span<const std::uint8_t> bytes, std::size_t offset);

// Big-endian helpers for the wire format (bounds are the caller's: the
// span must hold the bytes at offset; packet.cc checks before calling).
std::uint16_t load_be16(std::span<const std::uint8_t> bytes, std::size_t offset);
std::uint32_t load_be32(std::span<const std::uint8_t> bytes, std::size_t offset);
std::uint64_t load_be64(std::span<const std::uint8_t> bytes, std::size_t offset);
void store_be32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value);
void store_be64(std::span<std::uint8_t> bytes, std::size_t offset, std::uint64_t value);

}  // namespace ntpd::net
