// The NTP packet codec (see packet.h). Bounds are checked before every
// read, lengths are computed in std::size_t from a capped datagram size,
// and nothing here allocates, logs, throws or reads a clock.
#include "ntpd-net/packet.h"

namespace ntpd::net {
namespace {

// Header byte offsets, RFC 5905 figure 8.
constexpr std::size_t kOffsetLiVnMode = 0;
constexpr std::size_t kOffsetStratum = 1;
constexpr std::size_t kOffsetPoll = 2;
constexpr std::size_t kOffsetPrecision = 3;
constexpr std::size_t kOffsetRootDelay = 4;
constexpr std::size_t kOffsetRootDispersion = 8;
constexpr std::size_t kOffsetRefid = 12;
constexpr std::size_t kOffsetReference = 16;
constexpr std::size_t kOffsetOrigin = 24;
constexpr std::size_t kOffsetReceive = 32;
constexpr std::size_t kOffsetTransmit = 40;
constexpr std::size_t kExtensionHeaderBytes = 4;

static_assert(kMaxPacketBytes <= 0xffff, "offsets are stored as uint16");

bool fail(ParseError error, ParseError* why) {
  if (why != nullptr) *why = error;
  return false;
}

std::nullopt_t reject(ParseError error, ParseError* why) {
  fail(error, why);
  return std::nullopt;
}

ByteRange range(std::size_t offset, std::size_t length) {
  return ByteRange{static_cast<std::uint16_t>(offset), static_cast<std::uint16_t>(length)};
}

NtpPacket parse_header(std::span<const std::uint8_t> bytes) {
  NtpPacket p;
  const std::uint8_t li_vn_mode = bytes[kOffsetLiVnMode];
  p.leap = static_cast<std::uint8_t>(li_vn_mode >> 6);
  p.version = static_cast<std::uint8_t>((li_vn_mode >> 3) & 0x7);
  p.mode = static_cast<std::uint8_t>(li_vn_mode & 0x7);
  p.stratum = bytes[kOffsetStratum];
  p.poll_log2s = static_cast<std::int8_t>(bytes[kOffsetPoll]);
  p.precision_log2s = static_cast<std::int8_t>(bytes[kOffsetPrecision]);
  p.root_delay = common::NtpShort{load_be32(bytes, kOffsetRootDelay)};
  p.root_dispersion = common::NtpShort{load_be32(bytes, kOffsetRootDispersion)};
  p.refid = load_be32(bytes, kOffsetRefid);
  p.reference_time = common::NtpTimestamp{load_be64(bytes, kOffsetReference)};
  p.origin_time = common::NtpTimestamp{load_be64(bytes, kOffsetOrigin)};
  p.receive_time = common::NtpTimestamp{load_be64(bytes, kOffsetReceive)};
  p.transmit_time = common::NtpTimestamp{load_be64(bytes, kOffsetTransmit)};
  return p;
}

bool is_mac_length(std::size_t remaining) {
  return remaining == kMacMd5Bytes || remaining == kMacSha1Bytes;
}

// Records a crypto-NAK or MAC of `remaining` bytes starting at `offset`.
void set_mac(std::span<const std::uint8_t> bytes, std::size_t offset, std::size_t remaining,
             NtpPacket& p) {
  p.mac_key_id = load_be32(bytes, offset);
  if (remaining == kCryptoNakBytes) {
    p.mac_kind = MacKind::kCryptoNak;
    return;
  }
  p.mac_kind = MacKind::kDigest;
  p.mac_digest = range(offset + 4, remaining - 4);
}

// Walks RFC 7822 extension fields from the end of the header, then the
// optional MAC. Fills the trailer description of p.
bool parse_v4_trailer(std::span<const std::uint8_t> bytes, NtpPacket& p, ParseError* why) {
  std::size_t offset = kHeaderBytes;
  // RFC 7822 section 3 (updating RFC 5905 section 7.5): an NTPv4 MAC is
  // at most 24 bytes and a last field without MAC at least 28, so while
  // more than 24 bytes remain the next bytes are an extension field
  // (ntpd receive() and chrony parse_packet walk the same way).
  while (bytes.size() - offset > kMacSha1Bytes) {
    const std::size_t remaining = bytes.size() - offset;
    const std::size_t length = load_be16(bytes, offset + 2);
    // RFC 7822 section 3: length counts the 4-byte field header and the
    // padding, is a multiple of 4 and at least 16.
    if (length < kMinExtensionBytes) return fail(ParseError::kExtensionTooShort, why);
    if (length % 4 != 0) return fail(ParseError::kExtensionNotWordAligned, why);
    if (length > remaining) return fail(ParseError::kExtensionPastEnd, why);
    offset += length;
    ++p.extension_count;
  }
  p.extensions = range(kHeaderBytes, offset - kHeaderBytes);
  p.authenticated_bytes = static_cast<std::uint16_t>(offset);
  const std::size_t remaining = bytes.size() - offset;
  if (remaining == 0) return true;
  // A crypto-NAK is only recognized directly after the header (as chrony);
  // after extension fields only a full MAC may follow (RFC 7822 section 3).
  const bool nak_allowed = p.extension_count == 0 && remaining == kCryptoNakBytes;
  if (!is_mac_length(remaining) && !nak_allowed) return fail(ParseError::kBadTrailer, why);
  set_mac(bytes, offset, remaining, p);
  return true;
}

// NTPv1..3 have no extension fields: the trailer is nothing or a MAC.
bool parse_old_trailer(std::span<const std::uint8_t> bytes, NtpPacket& p, ParseError* why) {
  const std::size_t remaining = bytes.size() - kHeaderBytes;
  if (remaining == 0) return true;
  if (!is_mac_length(remaining) && remaining != kCryptoNakBytes) {
    return fail(
        remaining > kMacSha1Bytes ? ParseError::kExtensionInOldVersion : ParseError::kBadTrailer,
        why);
  }
  set_mac(bytes, kHeaderBytes, remaining, p);
  return true;
}

}  // namespace

std::string_view to_string(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "ok";
    case ParseError::kTooShort:
      return "shorter than the 48-byte header";
    case ParseError::kTooLong:
      return "longer than the packet size cap";
    case ParseError::kNotWordAligned:
      return "length not a multiple of 4";
    case ParseError::kBadVersion:
      return "unsupported version";
    case ParseError::kBadTrailer:
      return "trailer is neither a MAC nor an extension field";
    case ParseError::kExtensionInOldVersion:
      return "extension fields in an NTPv1-3 packet";
    case ParseError::kExtensionTooShort:
      return "extension field shorter than 16 bytes";
    case ParseError::kExtensionNotWordAligned:
      return "extension field length not a multiple of 4";
    case ParseError::kExtensionPastEnd:
      return "extension field runs past the end";
  }
  return "unknown parse error";
}

std::optional<NtpPacket> parse_packet(std::span<const std::uint8_t> bytes, ParseError* why) {
  if (why != nullptr) *why = ParseError::kNone;
  // RFC 5905 section 7.3: the header is 48 bytes; everything after it
  // (extension fields, MAC) is made of 32-bit words.
  if (bytes.size() < kHeaderBytes) return reject(ParseError::kTooShort, why);
  if (bytes.size() > kMaxPacketBytes) return reject(ParseError::kTooLong, why);
  if (bytes.size() % 4 != 0) return reject(ParseError::kNotWordAligned, why);

  NtpPacket p = parse_header(bytes);
  // RFC 5905 section 7.3 defines version 4; ntpd receive() accepts 1..4
  // (NTP_OLDVERSION..NTP_VERSION). 0 and 5..7 are not NTP we speak.
  if (p.version < kMinVersion || p.version > kMaxVersion) {
    return reject(ParseError::kBadVersion, why);
  }
  const bool ok =
      p.version == 4 ? parse_v4_trailer(bytes, p, why) : parse_old_trailer(bytes, p, why);
  if (!ok) return std::nullopt;
  return p;
}

std::size_t build_packet(const NtpPacket& packet, std::span<std::uint8_t> out) {
  if (out.size() < kHeaderBytes) return 0;
  out[kOffsetLiVnMode] = static_cast<std::uint8_t>(
      ((packet.leap & 0x3) << 6) | ((packet.version & 0x7) << 3) | (packet.mode & 0x7));
  out[kOffsetStratum] = packet.stratum;
  out[kOffsetPoll] = static_cast<std::uint8_t>(packet.poll_log2s);
  out[kOffsetPrecision] = static_cast<std::uint8_t>(packet.precision_log2s);
  store_be32(out, kOffsetRootDelay, packet.root_delay.raw);
  store_be32(out, kOffsetRootDispersion, packet.root_dispersion.raw);
  store_be32(out, kOffsetRefid, packet.refid);
  store_be64(out, kOffsetReference, packet.reference_time.raw);
  store_be64(out, kOffsetOrigin, packet.origin_time.raw);
  store_be64(out, kOffsetReceive, packet.receive_time.raw);
  store_be64(out, kOffsetTransmit, packet.transmit_time.raw);
  return kHeaderBytes;
}

bool same_header(const NtpPacket& a, const NtpPacket& b) {
  return a.leap == b.leap && a.version == b.version && a.mode == b.mode && a.stratum == b.stratum &&
         a.poll_log2s == b.poll_log2s && a.precision_log2s == b.precision_log2s &&
         a.root_delay == b.root_delay && a.root_dispersion == b.root_dispersion &&
         a.refid == b.refid && a.reference_time == b.reference_time &&
         a.origin_time == b.origin_time && a.receive_time == b.receive_time &&
         a.transmit_time == b.transmit_time;
}

std::optional<ExtensionField> extension_at(std::span<const std::uint8_t> bytes,
                                           std::size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < kExtensionHeaderBytes) return std::nullopt;
  if (bytes.size() > kMaxPacketBytes) return std::nullopt;
  ExtensionField field;
  field.type = load_be16(bytes, offset);
  field.length = load_be16(bytes, offset + 2);
  if (field.length < kMinExtensionBytes || field.length % 4 != 0 ||
      field.length > bytes.size() - offset) {
    return std::nullopt;
  }
  field.body = range(offset + kExtensionHeaderBytes, field.length - kExtensionHeaderBytes);
  return field;
}

std::uint16_t load_be16(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

std::uint32_t load_be32(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return (std::uint32_t{load_be16(bytes, offset)} << 16) | load_be16(bytes, offset + 2);
}

std::uint64_t load_be64(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return (std::uint64_t{load_be32(bytes, offset)} << 32) | load_be32(bytes, offset + 4);
}

void store_be32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) {
    bytes[offset + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  }
}

void store_be64(std::span<std::uint8_t> bytes, std::size_t offset, std::uint64_t value) {
  store_be32(bytes, offset, static_cast<std::uint32_t>(value >> 32));
  store_be32(bytes, offset + 4, static_cast<std::uint32_t>(value));
}

}  // namespace ntpd::net
