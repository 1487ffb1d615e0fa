// Unit tests for ntpd-net/packet: header round trips, a hand-computed byte
// vector, length/version rejection, RFC 7822 extension field bounds, MAC
// and crypto-NAK trailers. Byte vectors are written out, not generated.
#include "ntpd-net/packet.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ntpd::net {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A valid 48-byte header: LI 0, VN `version`, mode 3, the rest zero but
// a recognizable transmit timestamp.
Bytes header(std::uint8_t version = 4, std::uint8_t mode = 3) {
  Bytes b(kHeaderBytes, 0);
  b[0] = static_cast<std::uint8_t>((version << 3) | mode);
  for (std::size_t i = 40; i < 48; ++i) b[i] = static_cast<std::uint8_t>(0xa0 + i);
  return b;
}

// Appends an extension field with the given type and declared length,
// followed by `actual_body` bytes of body (defaults to length - 4).
void add_field(Bytes& b, std::uint16_t type, std::uint16_t length, int actual_body = -1) {
  b.push_back(static_cast<std::uint8_t>(type >> 8));
  b.push_back(static_cast<std::uint8_t>(type));
  b.push_back(static_cast<std::uint8_t>(length >> 8));
  b.push_back(static_cast<std::uint8_t>(length));
  const std::size_t body = actual_body >= 0 ? static_cast<std::size_t>(actual_body)
                           : length >= 4    ? length - 4u
                                            : 0u;
  b.insert(b.end(), body, 0x5a);
}

void add_mac(Bytes& b, std::uint32_t key_id, std::size_t digest_bytes) {
  for (int shift = 24; shift >= 0; shift -= 8)
    b.push_back(static_cast<std::uint8_t>(key_id >> shift));
  for (std::size_t i = 0; i < digest_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i + 1));
}

std::optional<NtpPacket> parse(const Bytes& b, ParseError* why) {
  return parse_packet(std::span<const std::uint8_t>(b.data(), b.size()), why);
}

TEST(PacketTest, KnownByteVectorParsesAndRebuilds) {
  const Bytes wire = {
      0xe4,                                            // LI 3, VN 4, mode 4
      0x02,                                            // stratum 2
      0x06,                                            // poll 2^6
      0xec,                                            // precision 2^-20
      0x00, 0x01, 0x80, 0x00,                          // root delay 1.5 s
      0x00, 0x00, 0x40, 0x00,                          // root dispersion 0.25 s
      0xc0, 0x00, 0x02, 0x01,                          // refid 192.0.2.1
      0xe9, 0x3c, 0x7f, 0x00, 0x80, 0x00, 0x00, 0x00,  // reference 3913056000.5
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // origin
      0xe9, 0x3c, 0x7f, 0x01, 0x00, 0x00, 0x00, 0x01,  // receive
      0xe9, 0x3c, 0x7f, 0x01, 0xff, 0xff, 0xff, 0xff,  // transmit
  };
  ParseError why = ParseError::kTooLong;
  const auto p = parse(wire, &why);
  ASSERT_TRUE(p.has_value()) << to_string(why);
  EXPECT_EQ(why, ParseError::kNone);
  EXPECT_EQ(p->leap, 3);
  EXPECT_EQ(p->version, 4);
  EXPECT_EQ(p->mode, 4);
  EXPECT_EQ(p->stratum, 2);
  EXPECT_EQ(p->poll_log2s, 6);
  EXPECT_EQ(p->precision_log2s, -20);
  EXPECT_EQ(p->root_delay.raw, 0x00018000u);
  EXPECT_EQ(p->root_dispersion.raw, 0x00004000u);
  EXPECT_EQ(p->refid, 0xc0000201u);
  EXPECT_EQ(p->reference_time, common::NtpTimestamp::from_parts(3'913'056'000u, 0x80000000u));
  EXPECT_EQ(p->origin_time.raw, 0x0102030405060708u);
  EXPECT_EQ(p->receive_time, common::NtpTimestamp::from_parts(3'913'056'001u, 1));
  EXPECT_EQ(p->transmit_time, common::NtpTimestamp::from_parts(3'913'056'001u, 0xffffffffu));
  EXPECT_EQ(p->authenticated_bytes, 48);
  EXPECT_EQ(p->extension_count, 0);
  EXPECT_EQ(p->mac_kind, MacKind::kNone);

  Bytes out(48, 0);
  ASSERT_EQ(build_packet(*p, out), 48u);
  EXPECT_EQ(out, wire);
}

TEST(PacketTest, EveryFieldRoundTrips) {
  auto base = [] {
    NtpPacket p;
    p.leap = 1;
    p.version = 4;
    p.mode = 3;
    p.stratum = 3;
    p.poll_log2s = 10;
    p.precision_log2s = -23;
    p.root_delay = common::NtpShort{0x12345678u};
    p.root_dispersion = common::NtpShort{0x9abcdef0u};
    p.refid = refid_from_ascii("GPS");
    p.reference_time = common::NtpTimestamp{0x1111111122222222u};
    p.origin_time = common::NtpTimestamp{0x3333333344444444u};
    p.receive_time = common::NtpTimestamp{0x5555555566666666u};
    p.transmit_time = common::NtpTimestamp{0x7777777788888888u};
    return p;
  };
  std::vector<NtpPacket> cases;
  for (std::uint8_t v = 0; v < 4; ++v) {
    auto p = base();
    p.leap = v;
    cases.push_back(p);
  }
  for (std::uint8_t v = 1; v <= 4; ++v) {
    auto p = base();
    p.version = v;
    cases.push_back(p);
  }
  for (std::uint8_t v = 0; v < 8; ++v) {
    auto p = base();
    p.mode = v;
    cases.push_back(p);
  }
  for (const std::uint8_t s : std::initializer_list<std::uint8_t>{0, 1, 15, 16, 255}) {
    auto p = base();
    p.stratum = s;
    cases.push_back(p);
  }
  for (const std::int8_t s : std::initializer_list<std::int8_t>{-128, -6, 0, 17, 127}) {
    auto p = base();
    p.poll_log2s = s;
    p.precision_log2s = static_cast<std::int8_t>(-s - 1);
    cases.push_back(p);
  }
  for (const std::uint64_t t : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}}) {
    auto p = base();
    p.root_delay = common::NtpShort{static_cast<std::uint32_t>(t)};
    p.root_dispersion = common::NtpShort{static_cast<std::uint32_t>(t >> 1)};
    p.refid = static_cast<std::uint32_t>(t);
    p.reference_time = common::NtpTimestamp{t};
    p.origin_time = common::NtpTimestamp{t};
    p.receive_time = common::NtpTimestamp{t >> 1};
    p.transmit_time = common::NtpTimestamp{t};
    cases.push_back(p);
  }
  for (const auto& c : cases) {
    std::uint8_t buf[48];
    ASSERT_EQ(build_packet(c, buf), 48u);
    ParseError why;
    const auto back = parse_packet(buf, &why);
    ASSERT_TRUE(back.has_value()) << to_string(why);
    EXPECT_TRUE(same_header(c, *back));
    EXPECT_EQ(c, *back);  // trailer description is the default too
  }
}

TEST(PacketTest, BuildMasksFieldsAndNeedsRoom) {
  NtpPacket p;
  p.leap = 0xff;
  p.version = 0xff;
  p.mode = 0xff;
  std::uint8_t buf[48] = {};
  ASSERT_EQ(build_packet(p, buf), 48u);
  EXPECT_EQ(buf[0], 0xff);
  std::uint8_t small[47];
  EXPECT_EQ(build_packet(p, small), 0u);
}

TEST(PacketTest, RefidFromAscii) {
  EXPECT_EQ(refid_from_ascii("INIT"), 0x494e4954u);
  EXPECT_EQ(refid_from_ascii("GPS"), 0x47505300u);
  EXPECT_EQ(refid_from_ascii(""), 0u);
}

struct LengthCase {
  const char* name;
  std::size_t size;
  bool ok;
  ParseError error;
};

TEST(PacketTest, LengthRules) {
  const LengthCase cases[] = {
      {"empty", 0, false, ParseError::kTooShort},
      {"one byte", 1, false, ParseError::kTooShort},
      {"47 bytes", 47, false, ParseError::kTooShort},
      {"48 bytes", 48, true, ParseError::kNone},
      {"49 bytes", 49, false, ParseError::kNotWordAligned},
      {"50 bytes", 50, false, ParseError::kNotWordAligned},
      {"51 bytes", 51, false, ParseError::kNotWordAligned},
      {"cap plus 4", kMaxPacketBytes + 4, false, ParseError::kTooLong},
      {"cap plus 1", kMaxPacketBytes + 1, false, ParseError::kTooLong},
      {"64 KiB", 65536, false, ParseError::kTooLong},
  };
  for (const auto& c : cases) {
    Bytes b = header();
    b.resize(c.size, 0);
    ParseError why = ParseError::kNone;
    EXPECT_EQ(parse(b, &why).has_value(), c.ok) << c.name;
    EXPECT_EQ(why, c.error) << c.name;
  }
}

TEST(PacketTest, LargestPacketWithExtensionFieldsParses) {
  Bytes b = header();
  add_field(b, 0x0104, static_cast<std::uint16_t>(kMaxPacketBytes - 48 - 24));
  add_mac(b, 7, 20);
  ASSERT_EQ(b.size(), kMaxPacketBytes);
  ParseError why;
  const auto p = parse(b, &why);
  ASSERT_TRUE(p.has_value()) << to_string(why);
  EXPECT_EQ(p->mac_kind, MacKind::kDigest);
}

TEST(PacketTest, VersionRules) {
  for (std::uint8_t v = 0; v < 8; ++v) {
    ParseError why;
    const bool ok = parse(header(v), &why).has_value();
    EXPECT_EQ(ok, v >= 1 && v <= 4) << int{v};
    if (!ok) {
      EXPECT_EQ(why, ParseError::kBadVersion);
    }
  }
}

TEST(PacketTest, NullWhyPointerIsAllowed) {
  Bytes b = header(0);
  EXPECT_FALSE(parse_packet(b, nullptr).has_value());
  EXPECT_TRUE(parse_packet(header(), nullptr).has_value());
}

struct TrailerCase {
  const char* name;
  Bytes bytes;
  ParseError error;  // kNone = accepted
};

std::vector<TrailerCase> extension_cases() {
  std::vector<TrailerCase> cases;
  auto add = [&](const char* name, ParseError error, auto&& fill, std::uint8_t version = 4) {
    Bytes b = header(version);
    fill(b);
    cases.push_back({name, b, error});
  };
  add("ef length 0", ParseError::kExtensionTooShort, [](Bytes& b) { add_field(b, 1, 0, 28); });
  add("ef length 4", ParseError::kExtensionTooShort, [](Bytes& b) { add_field(b, 1, 4, 28); });
  add("ef length 12", ParseError::kExtensionTooShort, [](Bytes& b) { add_field(b, 1, 12, 28); });
  add("ef length 30", ParseError::kExtensionNotWordAligned,
      [](Bytes& b) { add_field(b, 1, 30, 28); });
  add("ef length 17", ParseError::kExtensionNotWordAligned,
      [](Bytes& b) { add_field(b, 1, 17, 28); });
  add("ef past end", ParseError::kExtensionPastEnd, [](Bytes& b) { add_field(b, 1, 36, 28); });
  add("ef 0xfffc", ParseError::kExtensionPastEnd, [](Bytes& b) { add_field(b, 1, 0xfffc, 28); });
  add("second ef past end", ParseError::kExtensionPastEnd, [](Bytes& b) {
    add_field(b, 1, 16);
    add_field(b, 2, 64, 24);
  });
  // RFC 7822: without a MAC the last field must be >= 28 bytes, else the
  // remainder is ambiguous with a MAC. 8..16 left over is no valid trailer.
  add("lone 16-byte ef", ParseError::kBadTrailer, [](Bytes& b) { add_field(b, 1, 16); });
  add("ef then 12 bytes", ParseError::kBadTrailer, [](Bytes& b) {
    add_field(b, 1, 16);
    add_field(b, 2, 16, 8);
  });
  add("ef then crypto-nak", ParseError::kBadTrailer, [](Bytes& b) {
    add_field(b, 1, 28);
    add_mac(b, 0, 0);
  });
  add("8-byte trailer", ParseError::kBadTrailer, [](Bytes& b) { add_mac(b, 1, 4); });
  add("12-byte trailer (DES)", ParseError::kBadTrailer, [](Bytes& b) { add_mac(b, 1, 8); });
  add("16-byte trailer", ParseError::kBadTrailer, [](Bytes& b) { add_mac(b, 1, 12); });
  add(
      "v3 with 28-byte trailer", ParseError::kExtensionInOldVersion,
      [](Bytes& b) { add_field(b, 1, 28); }, 3);
  add(
      "v3 with 16-byte trailer", ParseError::kBadTrailer, [](Bytes& b) { add_field(b, 1, 16); }, 3);
  add(
      "v1 with ef", ParseError::kExtensionInOldVersion, [](Bytes& b) { add_field(b, 1, 64); }, 1);
  // Accepted layouts.
  add("lone 28-byte ef", ParseError::kNone, [](Bytes& b) { add_field(b, 1, 28); });
  add("16 + 28 ef", ParseError::kNone, [](Bytes& b) {
    add_field(b, 1, 16);
    add_field(b, 2, 28);
  });
  add("16 ef + md5 mac", ParseError::kNone, [](Bytes& b) {
    add_field(b, 1, 16);
    add_mac(b, 5, 16);
  });
  add("28 ef + sha1 mac", ParseError::kNone, [](Bytes& b) {
    add_field(b, 1, 28);
    add_mac(b, 5, 20);
  });
  return cases;
}

TEST(PacketTest, ExtensionFieldAndTrailerBounds) {
  for (const auto& c : extension_cases()) {
    ParseError why = ParseError::kTooLong;
    const auto p = parse(c.bytes, &why);
    EXPECT_EQ(p.has_value(), c.error == ParseError::kNone) << c.name;
    EXPECT_EQ(why, c.error) << c.name << ": " << to_string(why);
  }
}

TEST(PacketTest, ExtensionLayoutIsReported) {
  Bytes b = header();
  add_field(b, 0x0104, 16);
  add_field(b, 0x0204, 32);
  add_mac(b, 0x01020304u, 20);
  ParseError why;
  const auto p = parse(b, &why);
  ASSERT_TRUE(p.has_value()) << to_string(why);
  EXPECT_EQ(p->extension_count, 2);
  EXPECT_EQ(p->extensions, (ByteRange{48, 48}));
  EXPECT_EQ(p->authenticated_bytes, 96);
  EXPECT_EQ(p->mac_kind, MacKind::kDigest);
  EXPECT_EQ(p->mac_key_id, 0x01020304u);
  EXPECT_EQ(p->mac_digest, (ByteRange{100, 20}));

  const auto first = extension_at(b, p->extensions.offset);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, 0x0104);
  EXPECT_EQ(first->length, 16);
  EXPECT_EQ(first->body, (ByteRange{52, 12}));
  const auto second = extension_at(b, p->extensions.offset + first->length);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->type, 0x0204);
  EXPECT_EQ(second->body, (ByteRange{68, 28}));
  // The MAC is not an extension field, and offsets past the end fail.
  EXPECT_FALSE(extension_at(b, 96).has_value());
  EXPECT_FALSE(extension_at(b, b.size()).has_value());
  EXPECT_FALSE(extension_at(b, b.size() + 100).has_value());
}

struct MacCase {
  const char* name;
  std::uint8_t version;
  std::uint32_t key_id;
  std::size_t digest_bytes;
  MacKind kind;
};

TEST(PacketTest, MacAndCryptoNak) {
  const MacCase cases[] = {
      {"v4 md5", 4, 1, 16, MacKind::kDigest},
      {"v4 sha1", 4, 65535, 20, MacKind::kDigest},
      {"v3 md5", 3, 42, 16, MacKind::kDigest},
      {"v3 sha1", 3, 0xffffffffu, 20, MacKind::kDigest},
      {"v2 md5", 2, 3, 16, MacKind::kDigest},
      {"v4 crypto-nak key 0", 4, 0, 0, MacKind::kCryptoNak},
      {"v4 crypto-nak key 9", 4, 9, 0, MacKind::kCryptoNak},
      {"v3 crypto-nak", 3, 0, 0, MacKind::kCryptoNak},
  };
  for (const auto& c : cases) {
    Bytes b = header(c.version);
    add_mac(b, c.key_id, c.digest_bytes);
    ParseError why;
    const auto p = parse(b, &why);
    ASSERT_TRUE(p.has_value()) << c.name << ": " << to_string(why);
    EXPECT_EQ(p->mac_kind, c.kind) << c.name;
    EXPECT_EQ(p->mac_key_id, c.key_id) << c.name;
    EXPECT_EQ(p->authenticated_bytes, 48) << c.name;
    EXPECT_EQ(p->extension_count, 0) << c.name;
    const ByteRange digest = c.digest_bytes == 0
                                 ? ByteRange{}
                                 : ByteRange{52, static_cast<std::uint16_t>(c.digest_bytes)};
    EXPECT_EQ(p->mac_digest, digest) << c.name;
  }
}

TEST(PacketTest, ErrorsHaveDistinctNames) {
  const ParseError all[] = {
      ParseError::kNone,
      ParseError::kTooShort,
      ParseError::kTooLong,
      ParseError::kNotWordAligned,
      ParseError::kBadVersion,
      ParseError::kBadTrailer,
      ParseError::kExtensionInOldVersion,
      ParseError::kExtensionTooShort,
      ParseError::kExtensionNotWordAligned,
      ParseError::kExtensionPastEnd,
  };
  for (const auto a : all) {
    EXPECT_FALSE(to_string(a).empty());
    for (const auto b : all) {
      if (a != b) {
        EXPECT_NE(to_string(a), to_string(b));
      }
    }
  }
}

}  // namespace
}  // namespace ntpd::net
