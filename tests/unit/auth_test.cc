// Tests for ntpd-net/auth: known answers from the standards (RFC 1321,
// FIPS 180 "abc", RFC 4493 AES-CMAC) and from `openssl dgst` / `openssl
// mac` run on the fixed packet below, then append/verify round trips and
// every AuthStatus.
#include "ntpd-net/auth.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ntpd::net {
namespace {

using common::KeyType;
using common::SymmetricKey;

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

SymmetricKey make_key(std::uint16_t id, KeyType type, const std::vector<std::uint8_t>& secret) {
  return SymmetricKey{id, type, common::SecretBytes(secret)};
}

SymmetricKey ascii_key(std::uint16_t id, KeyType type, std::string_view secret) {
  return make_key(id, type, std::vector<std::uint8_t>(secret.begin(), secret.end()));
}

// A client request: 0x23 (LI 0, v4, mode 3), then byte i = 7i + 3.
std::vector<std::uint8_t> test_packet() {
  std::vector<std::uint8_t> p(kHeaderBytes);
  p[0] = 0x23;
  for (std::size_t i = 1; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

std::vector<std::uint8_t> mac_of(const SymmetricKey& key, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out(kMaxMacDigestBytes);
  out.resize(compute_mac(key, data, out));
  return out;
}

const std::vector<std::uint8_t> kSha1Key = from_hex("0102030405060708090a0b0c0d0e0f1011121314");
const std::vector<std::uint8_t> kSha256Key =
    from_hex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
const std::vector<std::uint8_t> kCmacKey = from_hex("000102030405060708090a0b0c0d0e0f");

TEST(AuthTest, DigestLengthsPerType) {
  EXPECT_EQ(mac_digest_bytes(KeyType::kMd5), 16u);
  EXPECT_EQ(mac_digest_bytes(KeyType::kSha1), 20u);
  EXPECT_EQ(mac_digest_bytes(KeyType::kSha256), 20u);
  EXPECT_EQ(mac_digest_bytes(KeyType::kAes128Cmac), 16u);
}

// digest(key || data): key "ab" and data "c" hash "abc", the standard vector.
TEST(AuthTest, KeyIsPrependedToTheData) {
  const std::vector<std::uint8_t> c{'c'};
  EXPECT_EQ(mac_of(ascii_key(1, KeyType::kMd5, "ab"), c),
            from_hex("900150983cd24fb0d6963f7d28e17f72"));  // RFC 1321 A.5
  EXPECT_EQ(mac_of(ascii_key(1, KeyType::kSha1, "ab"), c),
            from_hex("a9993e364706816aba3e25717850c26c9cd0d89d"));  // FIPS 180-2 B.1
  EXPECT_EQ(mac_of(ascii_key(1, KeyType::kSha256, "ab"), c),        // FIPS 180-2 B.1, first 20
            from_hex("ba7816bf8f01cfea414140de5dae2223b00361a3"));
}

TEST(AuthTest, CmacMatchesRfc4493) {
  const auto key = make_key(1, KeyType::kAes128Cmac, from_hex("2b7e151628aed2a6abf7158809cf4f3c"));
  EXPECT_EQ(mac_of(key, {}), from_hex("bb1d6929e95937287fa37d129b756746"));  // example 1
  EXPECT_EQ(mac_of(key, from_hex("6bc1bee22e409f96e93d7e117393172a")),       // example 2
            from_hex("070a16b46b4d4144f79bdd9dd04a287c"));
}

// Expected digests from the OpenSSL command line over key || packet
// (digests) or the packet (CMAC); see the file comment.
TEST(AuthTest, AppendMacKnownAnswers) {
  struct Case {
    SymmetricKey key;
    std::string_view digest_hex;
  };
  const Case cases[] = {
      {ascii_key(1, KeyType::kMd5, "NtpKey-Md5!"), "6cdc62914043af36c6a471a8e21d5e54"},
      {make_key(2, KeyType::kSha1, kSha1Key), "0ba61234487deabea23bb0dfdf910aafa7557f33"},
      {make_key(3, KeyType::kSha256, kSha256Key), "ee090acb8acbecd8f520bad5d3c0f9ac552f20df"},
      {make_key(258, KeyType::kAes128Cmac, kCmacKey), "2f9123149b040341a800fc2fe5e762ca"},
  };
  for (const auto& c : cases) {
    auto packet = test_packet();
    packet.resize(kMaxPacketBytes, 0xee);
    const auto digest = from_hex(c.digest_hex);
    const std::size_t length = append_mac(packet, kHeaderBytes, c.key);
    ASSERT_EQ(length, kHeaderBytes + 4 + digest.size());
    EXPECT_EQ(load_be32(packet, kHeaderBytes), c.key.id);
    EXPECT_EQ(std::vector<std::uint8_t>(packet.begin() + 52, packet.begin() + length), digest)
        << common::to_string(c.key.type);
    EXPECT_EQ(packet[length], 0xee);  // nothing written past the MAC
  }
}

TEST(AuthTest, AppendMacRejectsBadLengthsAndSmallBuffers) {
  const auto key = ascii_key(1, KeyType::kMd5, "k");
  auto packet = test_packet();
  packet.resize(kHeaderBytes + 19);
  EXPECT_EQ(append_mac(packet, kHeaderBytes, key), 0u);  // needs 20 bytes
  packet.resize(kHeaderBytes + 20);
  EXPECT_EQ(append_mac(packet, kHeaderBytes, key), kHeaderBytes + 20);
  EXPECT_EQ(append_mac(packet, kHeaderBytes - 4, key), 0u);
  EXPECT_EQ(append_mac(packet, kHeaderBytes + 2, key), 0u);
  EXPECT_EQ(append_mac(packet, packet.size() + 4, key), 0u);
  EXPECT_EQ(append_crypto_nak(packet, kHeaderBytes), kHeaderBytes + 4);
  EXPECT_EQ(load_be32(packet, kHeaderBytes), 0u);
  EXPECT_EQ(append_crypto_nak(packet, kHeaderBytes + 20), 0u);
}

class VerifyTest : public ::testing::Test {
 protected:
  VerifyTest() {
    keys_.add(ascii_key(1, KeyType::kMd5, "NtpKey-Md5!"));
    keys_.add(make_key(2, KeyType::kSha1, kSha1Key));
    keys_.add(make_key(3, KeyType::kSha256, kSha256Key));
    keys_.add(make_key(4, KeyType::kAes128Cmac, kCmacKey));
    keys_.add(ascii_key(5, KeyType::kMd5, "untrusted"));
    const std::uint32_t trusted[] = {1, 2, 3, 4, 99};
    trusted_ = TrustedKeys(trusted);
  }

  AuthResult verify_bytes(const std::vector<std::uint8_t>& bytes) {
    const auto parsed = parse_packet(bytes, nullptr);
    EXPECT_TRUE(parsed.has_value());
    if (!parsed) return AuthResult{AuthStatus::kBadMac, 0};
    return verify(bytes, *parsed, keys_, trusted_);
  }

  std::vector<std::uint8_t> signed_packet(std::uint32_t key_id) {
    auto packet = test_packet();
    packet.resize(kHeaderBytes + 24);
    packet.resize(append_mac(packet, kHeaderBytes, *keys_.find(key_id)));
    return packet;
  }

  KeyStore keys_;
  TrustedKeys trusted_;
};

TEST_F(VerifyTest, EveryTypeRoundTrips) {
  for (std::uint32_t id = 1; id <= 4; ++id) {
    EXPECT_EQ(verify_bytes(signed_packet(id)), (AuthResult{AuthStatus::kOk, id})) << id;
  }
}

TEST_F(VerifyTest, NoMacAndCryptoNak) {
  EXPECT_EQ(verify_bytes(test_packet()), AuthResult{});
  auto nak = test_packet();
  nak.resize(kHeaderBytes + 4);
  EXPECT_EQ(append_crypto_nak(nak, kHeaderBytes), nak.size());
  EXPECT_EQ(verify_bytes(nak), (AuthResult{AuthStatus::kCryptoNak, 0}));
}

TEST_F(VerifyTest, UnknownAndUntrustedKeys) {
  auto packet = signed_packet(1);
  store_be32(packet, kHeaderBytes, 77);
  EXPECT_EQ(verify_bytes(packet), (AuthResult{AuthStatus::kUnknownKey, 77}));
  store_be32(packet, kHeaderBytes, 99);  // trusted but not loaded
  EXPECT_EQ(verify_bytes(packet), (AuthResult{AuthStatus::kUnknownKey, 99}));
  store_be32(packet, kHeaderBytes, 0x10001);  // above 65535
  EXPECT_EQ(verify_bytes(packet), (AuthResult{AuthStatus::kUnknownKey, 0x10001}));
  EXPECT_EQ(verify_bytes(signed_packet(5)), (AuthResult{AuthStatus::kUntrustedKey, 5}));
}

TEST_F(VerifyTest, AnyFlippedBitIsABadMac) {
  for (std::uint32_t id = 1; id <= 4; ++id) {
    const auto good = signed_packet(id);
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
      if (byte >= kHeaderBytes && byte < kHeaderBytes + 4) continue;  // the key id
      auto bad = good;
      bad[byte] ^= 0x10;
      const auto parsed = parse_packet(bad, nullptr);
      if (!parsed) continue;  // e.g. the version bits
      EXPECT_EQ(verify(bad, *parsed, keys_, trusted_), (AuthResult{AuthStatus::kBadMac, id}))
          << "key " << id << " byte " << byte;
    }
  }
}

TEST_F(VerifyTest, DigestLengthMustFitTheKeyType) {
  auto md5_as_sha1 = signed_packet(2);  // 20-byte digest
  store_be32(md5_as_sha1, kHeaderBytes, 1);
  EXPECT_EQ(verify_bytes(md5_as_sha1), (AuthResult{AuthStatus::kBadMac, 1}));
  auto sha1_as_md5 = signed_packet(1);  // 16-byte digest
  store_be32(sha1_as_md5, kHeaderBytes, 2);
  EXPECT_EQ(verify_bytes(sha1_as_md5), (AuthResult{AuthStatus::kBadMac, 2}));
}

TEST_F(VerifyTest, MacCoversExtensionFields) {
  auto packet = test_packet();
  const std::uint8_t field[16] = {0x01, 0x04, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  packet.insert(packet.end(), std::begin(field), std::end(field));
  const std::size_t body = packet.size();
  packet.resize(body + 24);
  packet.resize(append_mac(packet, body, *keys_.find(2)));
  const auto parsed = parse_packet(packet, nullptr);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->extension_count, 1);
  EXPECT_EQ(verify(packet, *parsed, keys_, trusted_), (AuthResult{AuthStatus::kOk, 2}));
  packet[kHeaderBytes + 8] ^= 1;
  EXPECT_EQ(verify_bytes(packet), (AuthResult{AuthStatus::kBadMac, 2}));
}

TEST_F(VerifyTest, InconsistentPacketDescriptionIsBad) {
  const auto packet = signed_packet(1);
  auto parsed = parse_packet(packet, nullptr);
  ASSERT_TRUE(parsed.has_value());
  NtpPacket lying = *parsed;
  lying.mac_digest.offset = 60;
  EXPECT_EQ(verify(packet, lying, keys_, trusted_).status, AuthStatus::kBadMac);
  lying = *parsed;
  lying.authenticated_bytes = 200;
  EXPECT_EQ(verify(packet, lying, keys_, trusted_).status, AuthStatus::kBadMac);
  const std::span<const std::uint8_t> truncated(packet.data(), 60);
  EXPECT_EQ(verify(truncated, *parsed, keys_, trusted_).status, AuthStatus::kBadMac);
}

TEST(KeyStoreTest, LookupAndReplace) {
  std::vector<SymmetricKey> keys;
  keys.push_back(ascii_key(9, KeyType::kMd5, "nine"));
  keys.push_back(ascii_key(3, KeyType::kMd5, "three"));
  keys.push_back(ascii_key(9, KeyType::kSha1, "nine again"));
  const KeyStore store(std::move(keys));
  EXPECT_EQ(store.size(), 2u);
  ASSERT_NE(store.find(9), nullptr);
  EXPECT_EQ(store.find(9)->type, KeyType::kSha1);
  EXPECT_NE(store.find(3), nullptr);
  EXPECT_EQ(store.find(0), nullptr);
  EXPECT_EQ(store.find(4), nullptr);
  EXPECT_EQ(store.find(9 + 65536), nullptr);
}

TEST(KeyStoreTest, KeysFromAKeysFileSignLikeHandMadeOnes) {
  const auto parsed = common::parse_keys_file_text(
      "ntp.keys", "1 MD5 NtpKey-Md5!\n4 AES128CMAC 000102030405060708090a0b0c0d0e0f\n");
  ASSERT_FALSE(parsed.has_errors());
  const KeyStore store(parsed.keys);
  const auto packet = test_packet();
  EXPECT_EQ(mac_of(*store.find(1), packet), from_hex("6cdc62914043af36c6a471a8e21d5e54"));
  EXPECT_EQ(mac_of(*store.find(4), packet), from_hex("2f9123149b040341a800fc2fe5e762ca"));
}

TEST(TrustedKeysTest, OnlyValidIds) {
  const std::uint32_t ids[] = {0, 1, 65535, 65536, 0xffffffff};
  const TrustedKeys trusted(ids);
  EXPECT_FALSE(trusted.contains(0));
  EXPECT_TRUE(trusted.contains(1));
  EXPECT_TRUE(trusted.contains(65535));
  EXPECT_FALSE(trusted.contains(65536));
  EXPECT_FALSE(trusted.contains(0xffffffff));
  EXPECT_FALSE(TrustedKeys().contains(1));
}

}  // namespace
}  // namespace ntpd::net
