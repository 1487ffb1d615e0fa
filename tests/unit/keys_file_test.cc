// Tests for common/keys_file: the ntp.keys(5) grammar as ntpd and ntpsec
// read it, the diagnostics (file:line:column, never a key's bytes), and
// SecretBytes' copy, move and wipe semantics.
#include "common/keys_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ntpd::common {
namespace {

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

std::vector<std::uint8_t> key_bytes(const SymmetricKey& key) {
  return {key.secret.bytes().begin(), key.secret.bytes().end()};
}

std::string all_diagnostics(const ParsedKeys& parsed) {
  std::string out;
  for (const auto& d : parsed.diagnostics) out += d.to_string() + "\n";
  return out;
}

TEST(KeysFileTest, ParsesEveryTypeAsciiAndHex) {
  const std::string text =
      "# ntp.keys\n"
      "\n"
      "1 MD5 NtpKey-Md5!        # an ASCII key\n"
      "2\tSHA1\t0102030405060708090a0b0c0d0e0f1011121314\n"
      "3 sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\r\n"
      "  4 AES128CMAC 000102030405060708090A0B0C0D0E0F\n"
      "65535 M x\n";
  const ParsedKeys parsed = parse_keys_file_text("ntp.keys", text);
  EXPECT_TRUE(parsed.diagnostics.empty()) << all_diagnostics(parsed);
  ASSERT_EQ(parsed.keys.size(), 5u);
  EXPECT_EQ(parsed.keys[0].id, 1);
  EXPECT_EQ(parsed.keys[0].type, KeyType::kMd5);
  EXPECT_EQ(key_bytes(parsed.keys[0]), bytes_of("NtpKey-Md5!"));
  EXPECT_EQ(parsed.keys[1].type, KeyType::kSha1);
  std::vector<std::uint8_t> sha1;
  for (std::uint8_t i = 1; i <= 20; ++i) sha1.push_back(i);
  EXPECT_EQ(key_bytes(parsed.keys[1]), sha1);
  EXPECT_EQ(parsed.keys[2].type, KeyType::kSha256);
  EXPECT_EQ(parsed.keys[2].secret.size(), 32u);
  EXPECT_EQ(parsed.keys[2].secret.bytes()[31], 0x3f);
  EXPECT_EQ(parsed.keys[3].type, KeyType::kAes128Cmac);
  EXPECT_EQ(parsed.keys[3].secret.size(), 16u);
  EXPECT_EQ(parsed.keys[3].secret.bytes()[15], 0x0f);
  EXPECT_EQ(parsed.keys[4].id, 65535);
  EXPECT_EQ(key_bytes(parsed.keys[4]), bytes_of("x"));
}

TEST(KeysFileTest, TypeSpellingsAreCaseInsensitive) {
  struct Case {
    std::string_view name;
    std::optional<KeyType> type;
  };
  const Case cases[] = {
      {"md5", KeyType::kMd5},
      {"M", KeyType::kMd5},
      {"Sha1", KeyType::kSha1},
      {"SHA-1", KeyType::kSha1},
      {"SHA256", KeyType::kSha256},
      {"sha-256", KeyType::kSha256},
      {"SHA2-256", KeyType::kSha256},
      {"AES", KeyType::kAes128Cmac},
      {"aes128cmac", KeyType::kAes128Cmac},
      {"AES-128", KeyType::kAes128Cmac},
      {"AES-128-CMAC", KeyType::kAes128Cmac},
      {"SHA", std::nullopt},
      {"MD4", std::nullopt},
      {"DES", std::nullopt},
      {"", std::nullopt},
      {"SHA512", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_key_type(c.name), c.type) << c.name;
  EXPECT_EQ(to_string(KeyType::kAes128Cmac), "AES128CMAC");
}

TEST(KeysFileTest, TwentyCharactersIsAsciiTwentyOneIsHex) {
  const ParsedKeys parsed = parse_keys_file_text(
      "k",
      "1 MD5 abcdefghijklmnopqrst\n2 MD5 abcdefghijklmnopqrstu\n3 MD5 0123456789abcdef01234\n");
  ASSERT_EQ(parsed.keys.size(), 2u);
  EXPECT_EQ(key_bytes(parsed.keys[0]), bytes_of("abcdefghijklmnopqrst"));
  EXPECT_EQ(parsed.keys[1].id, 3);  // 21 hex digits: the odd last one is dropped
  EXPECT_EQ(parsed.keys[1].secret.size(), 10u);
  ASSERT_EQ(parsed.diagnostics.size(), 2u);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            "k:2:7: error: key 2: a key longer than 20 characters must be hex digits; key not "
            "loaded");
  EXPECT_EQ(parsed.diagnostics[1].severity, KeysDiagnostic::Severity::kWarning);
  EXPECT_EQ(parsed.diagnostics[1].line, 3);
}

TEST(KeysFileTest, HashEndsTheLineEvenInsideAToken) {
  const ParsedKeys parsed = parse_keys_file_text("k", "7 MD5 abc#def ghi\n8 MD5#x\n");
  ASSERT_EQ(parsed.keys.size(), 1u);
  EXPECT_EQ(key_bytes(parsed.keys[0]), bytes_of("abc"));
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].to_string(), "k:2: error: key 8: missing the key after the type");
}

// Every bad line: skipped with an error at the right place, and the line's
// secret-looking tokens never appear in any message.
TEST(KeysFileTest, BadLinesNameFileLineColumnAndNeverTheKey) {
  struct Case {
    std::string line;
    int column;
    std::string_view message_part;
  };
  const Case cases[] = {
      {"0 MD5 SecretKeyZero", 1, "expected a key id from 1 to 65535"},
      {"65536 MD5 SecretKeyBig", 1, "expected a key id from 1 to 65535"},
      {"SecretKeyFirst MD5 1", 1, "expected a key id"},
      {"12x MD5 SecretKey12x", 1, "expected a key id"},
      {"5 SecretKeyAsType", 3, "key 5: unknown key type; expected MD5, SHA1, SHA256 or AES128CMAC"},
      {"5", 0, "key 5: missing key type"},
      {"5 SHA1", 0, "key 5: missing the key"},
      {"5 MD5 SecretKeyExtra 192.0.2.1", 22, "per-key address lists are not supported"},
      {"5 SHA1 SecretKeyNotHexButLong", 8, "must be hex digits"},
      {"5 SHA1 0102030405060708090a0b0c0d0e0f1011121g", 8, "must be hex digits"},
      {"5 MD5 Secret\x01Key", 7, "must be printable characters"},
      {"5 MD5 Secret\xc3\xa9", 7, "must be printable characters"},
  };
  for (const auto& c : cases) {
    const ParsedKeys parsed = parse_keys_file_text("/etc/ntpsec/ntp.keys", "# header\n" + c.line);
    EXPECT_TRUE(parsed.keys.empty()) << c.line;
    ASSERT_EQ(parsed.diagnostics.size(), 1u) << c.line;
    const KeysDiagnostic& d = parsed.diagnostics[0];
    EXPECT_EQ(d.severity, KeysDiagnostic::Severity::kError);
    EXPECT_EQ(d.file, "/etc/ntpsec/ntp.keys");
    EXPECT_EQ(d.line, 2);
    EXPECT_EQ(d.column, c.column) << c.line;
    EXPECT_NE(d.message.find(c.message_part), std::string::npos) << d.message;
    const std::string text = d.to_string();
    EXPECT_EQ(text.find("Secret"), std::string::npos) << text;
    EXPECT_EQ(text.find("0102"), std::string::npos) << text;
    EXPECT_EQ(text.find("192.0.2.1"), std::string::npos) << text;
    EXPECT_TRUE(parsed.has_errors());
  }
}

TEST(KeysFileTest, LongHexKeysAreTruncatedAsNtpsecDoes) {
  const std::string digits(70, 'a');
  const ParsedKeys parsed = parse_keys_file_text("k", "9 SHA256 " + digits + "\n");
  ASSERT_EQ(parsed.keys.size(), 1u);
  EXPECT_EQ(parsed.keys[0].secret.size(), kMaxKeyBytes);
  EXPECT_EQ(parsed.keys[0].secret.bytes()[0], 0xaa);
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].severity, KeysDiagnostic::Severity::kWarning);
  EXPECT_FALSE(parsed.has_errors());
  EXPECT_EQ(parsed.diagnostics[0].to_string().find("aaaa"), std::string::npos);
}

TEST(KeysFileTest, CmacKeysArePaddedOrTruncatedToSixteenBytes) {
  const ParsedKeys parsed =
      parse_keys_file_text("k", "1 AES short\n2 AES 0102030405060708090a0b0c0d0e0f1011121314\n");
  ASSERT_EQ(parsed.keys.size(), 2u);
  std::vector<std::uint8_t> padded = bytes_of("short");
  padded.resize(16, 0);
  EXPECT_EQ(key_bytes(parsed.keys[0]), padded);
  EXPECT_EQ(parsed.keys[1].secret.size(), 16u);
  EXPECT_EQ(parsed.keys[1].secret.bytes()[15], 0x10);
  ASSERT_EQ(parsed.diagnostics.size(), 2u);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            "k:1:7: warning: key 1: AES128CMAC key of 5 bytes padded with zeros to 16 bytes, as "
            "ntpd does");
  EXPECT_NE(parsed.diagnostics[1].message.find("20 bytes truncated"), std::string::npos);
}

TEST(KeysFileTest, LaterDefinitionWinsWithAWarning) {
  const ParsedKeys parsed = parse_keys_file_text("k", "3 MD5 first\n2 MD5 two\n3 SHA1 second\n");
  ASSERT_EQ(parsed.keys.size(), 2u);
  EXPECT_EQ(parsed.keys[0].id, 2);
  EXPECT_EQ(parsed.keys[1].id, 3);
  EXPECT_EQ(parsed.keys[1].type, KeyType::kSha1);
  EXPECT_EQ(key_bytes(parsed.keys[1]), bytes_of("second"));
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            "k:3:1: warning: key 3 is defined again; this line replaces line 1");
}

TEST(KeysFileTest, GoodLinesSurviveBadOnes) {
  const ParsedKeys parsed =
      parse_keys_file_text("k", "1 MD5 one\n2 BOGUS two\n3 MD5 three\n\n   \n# done");
  ASSERT_EQ(parsed.keys.size(), 2u);
  EXPECT_EQ(parsed.keys[0].id, 1);
  EXPECT_EQ(parsed.keys[1].id, 3);
  EXPECT_EQ(parsed.diagnostics.size(), 1u);
}

TEST(KeysFileTest, OversizedFileIsRejected) {
  const std::string text(kMaxKeysFileBytes + 1, '#');
  const ParsedKeys parsed = parse_keys_file_text("k", text);
  EXPECT_TRUE(parsed.keys.empty());
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].line, 0);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            "k: error: keys file larger than 1048576 bytes; no key loaded");
}

TEST(SecretBytesTest, CopyMoveAndCompare) {
  const std::vector<std::uint8_t> raw = bytes_of("secret");
  SecretBytes a(raw);
  SecretBytes b = a;
  EXPECT_EQ(a, b);
  SecretBytes c(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(c, b);
  SecretBytes d(bytes_of("other!"));
  EXPECT_FALSE(d == c);
  d = std::move(c);
  EXPECT_TRUE(c.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(d, b);
  d = SecretBytes(bytes_of("short"));
  EXPECT_EQ(d.size(), 5u);
  EXPECT_FALSE(d == b);
  SecretBytes& self = d;
  d = self;
  EXPECT_EQ(d.size(), 5u);
}

}  // namespace
}  // namespace ntpd::common
