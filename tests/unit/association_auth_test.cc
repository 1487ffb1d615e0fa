// Tests for ntpd-net/association_auth: which keys an association may use,
// signing requests, TEST5 on replies (good, unsigned, crypto-NAK, wrong key
// id, bad MAC) for every key type, a round trip through our own server
// path, and the log throttle.
#include "ntpd-net/association_auth.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "ntpd-net/server_path.h"

namespace ntpd::net {
namespace {

using common::KeyType;
using common::SymmetricKey;

SymmetricKey key_of(std::uint16_t id, KeyType type, std::string_view secret) {
  const std::vector<std::uint8_t> bytes(secret.begin(), secret.end());
  return SymmetricKey{id, type, common::SecretBytes(bytes)};
}

// A client request as make_request builds it: mode 3, version 4, a
// random-looking transmit timestamp.
std::vector<std::uint8_t> request_bytes() {
  NtpPacket p;
  p.mode = 3;
  p.transmit_time = common::NtpTimestamp{0x1234567890abcdefULL};
  std::vector<std::uint8_t> out(kHeaderBytes + kMacSha1Bytes);
  EXPECT_EQ(build_packet(p, out), kHeaderBytes);
  return out;
}

class AssociationAuthTest : public ::testing::Test {
 protected:
  AssociationAuthTest() {
    keys_.add(key_of(1, KeyType::kMd5, "md5-secret"));
    keys_.add(key_of(2, KeyType::kSha1, "sha1-secret"));
    keys_.add(key_of(3, KeyType::kSha256, "sha256-secret"));
    keys_.add(key_of(4, KeyType::kAes128Cmac, "0123456789abcdef"));
    keys_.add(key_of(5, KeyType::kMd5, "not trusted"));
    keys_.add(key_of(6, KeyType::kMd5, "md5-secret-other"));
    for (std::uint32_t id : {1, 2, 3, 4, 6}) trusted_.trust(id);
  }

  AssociationAuth auth_for(std::uint32_t id) {
    KeyProblem problem = KeyProblem::kNone;
    auto auth = AssociationAuth::make(id, keys_, trusted_, &problem);
    EXPECT_TRUE(auth.has_value()) << id << ": " << to_string(problem);
    return std::move(*auth);
  }

  // A reply signed with `id` (or unsigned when 0).
  std::vector<std::uint8_t> reply_signed_with(std::uint32_t id) {
    auto bytes = request_bytes();
    bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0xf8) | 4);  // mode 4
    if (id == 0) {
      bytes.resize(kHeaderBytes);
      return bytes;
    }
    bytes.resize(append_mac(bytes, kHeaderBytes, *keys_.find(id)));
    return bytes;
  }

  KeyStore keys_;
  TrustedKeys trusted_;
};

TEST_F(AssociationAuthTest, MissingOrUntrustedKeysCannotBeUsed) {
  struct Case {
    std::uint32_t id;
    KeyProblem expected;
  };
  for (const Case c :
       {Case{1, KeyProblem::kNone}, Case{4, KeyProblem::kNone}, Case{5, KeyProblem::kNotTrusted},
        Case{7, KeyProblem::kNotInKeysFile}, Case{0, KeyProblem::kNotInKeysFile},
        Case{65536 + 1, KeyProblem::kNotInKeysFile}}) {
    KeyProblem problem = KeyProblem::kNone;
    const auto auth = AssociationAuth::make(c.id, keys_, trusted_, &problem);
    EXPECT_EQ(auth.has_value(), c.expected == KeyProblem::kNone) << c.id;
    EXPECT_EQ(problem, c.expected) << c.id;
  }
  // Trusted but never loaded: still missing.
  trusted_.trust(9);
  KeyProblem problem = KeyProblem::kNone;
  EXPECT_FALSE(AssociationAuth::make(9, keys_, trusted_, &problem).has_value());
  EXPECT_EQ(problem, KeyProblem::kNotInKeysFile);
}

// Every key type: the signed request carries key id + digest of the right
// length and verifies with the server side's verify().
TEST_F(AssociationAuthTest, SignsRequestsWithEveryKeyType) {
  for (std::uint32_t id = 1; id <= 4; ++id) {
    const AssociationAuth auth = auth_for(id);
    auto bytes = request_bytes();
    const std::size_t length = auth.sign(bytes, kHeaderBytes);
    const std::size_t digest = mac_digest_bytes(keys_.find(id)->type);
    ASSERT_EQ(length, kHeaderBytes + kKeyIdBytes + digest) << id;
    bytes.resize(length);
    EXPECT_EQ(load_be32(bytes, kHeaderBytes), id);
    const auto parsed = parse_packet(bytes, nullptr);
    ASSERT_TRUE(parsed.has_value()) << id;
    EXPECT_EQ(verify(bytes, *parsed, keys_, trusted_), (AuthResult{AuthStatus::kOk, id}));
    // The association accepts its own key's MAC.
    std::uint32_t seen = 0;
    EXPECT_EQ(auth.check(bytes, &seen), ReplyAuth::kOk) << id;
    EXPECT_EQ(seen, id);
  }
}

TEST_F(AssociationAuthTest, SignRefusesABufferWithoutRoom) {
  const AssociationAuth auth = auth_for(2);  // SHA1: 24 bytes of trailer
  auto bytes = request_bytes();
  EXPECT_EQ(auth.sign(std::span(bytes).first(kHeaderBytes + 23), kHeaderBytes), 0u);
  EXPECT_EQ(auth.sign(bytes, 47), 0u);
}

TEST_F(AssociationAuthTest, ChecksRepliesForEveryKeyType) {
  struct Case {
    std::uint32_t association_key;
    std::uint32_t reply_key;  // 0: unsigned
    ReplyAuth expected;
  };
  const Case cases[] = {
      {1, 1, ReplyAuth::kOk},         {2, 2, ReplyAuth::kOk},
      {3, 3, ReplyAuth::kOk},         {4, 4, ReplyAuth::kOk},
      {1, 0, ReplyAuth::kUnsigned},   {2, 0, ReplyAuth::kUnsigned},
      {3, 0, ReplyAuth::kUnsigned},   {4, 0, ReplyAuth::kUnsigned},
      {1, 6, ReplyAuth::kWrongKeyId},  // same type, trusted, another id
      {2, 1, ReplyAuth::kWrongKeyId}, {4, 2, ReplyAuth::kWrongKeyId},
      {3, 5, ReplyAuth::kWrongKeyId},  // an untrusted key never authenticates
  };
  for (const Case& c : cases) {
    const AssociationAuth auth = auth_for(c.association_key);
    std::uint32_t seen = 99;
    EXPECT_EQ(auth.check(reply_signed_with(c.reply_key), &seen), c.expected)
        << "key " << c.association_key << ", reply " << c.reply_key;
    EXPECT_EQ(seen, c.reply_key);
  }
}

TEST_F(AssociationAuthTest, CryptoNakIsRefused) {
  for (std::uint32_t id = 1; id <= 4; ++id) {
    auto bytes = reply_signed_with(0);
    bytes.resize(kHeaderBytes + kCryptoNakBytes);
    ASSERT_EQ(append_crypto_nak(bytes, kHeaderBytes), bytes.size());
    EXPECT_EQ(auth_for(id).check(bytes, nullptr), ReplyAuth::kCryptoNak) << id;
  }
}

// Any changed bit in header or digest, a same-id key with another secret,
// and a digest whose length does not fit the key type: bad MAC.
TEST_F(AssociationAuthTest, TamperedRepliesHaveBadMacs) {
  for (std::uint32_t id = 1; id <= 4; ++id) {
    const AssociationAuth auth = auth_for(id);
    const auto good = reply_signed_with(id);
    for (std::size_t byte : {std::size_t{1}, std::size_t{40}, std::size_t{47}, good.size() - 1}) {
      auto bad = good;
      bad[byte] ^= 0x01;
      EXPECT_EQ(auth.check(bad, nullptr), ReplyAuth::kBadMac) << id << " byte " << byte;
    }
  }
  KeyStore other;
  other.add(key_of(1, KeyType::kMd5, "another-secret"));
  auto forged = reply_signed_with(0);
  forged.resize(kHeaderBytes + kMacMd5Bytes);
  ASSERT_NE(append_mac(forged, kHeaderBytes, *other.find(1)), 0u);
  EXPECT_EQ(auth_for(1).check(forged, nullptr), ReplyAuth::kBadMac);
  auto sha1_length = reply_signed_with(2);  // 20-byte digest under MD5 key 1
  store_be32(sha1_length, kHeaderBytes, 1);
  EXPECT_EQ(auth_for(1).check(sha1_length, nullptr), ReplyAuth::kBadMac);
}

TEST_F(AssociationAuthTest, MalformedRepliesAreRefused) {
  const auto good = reply_signed_with(1);
  EXPECT_EQ(auth_for(1).check(std::span(good).first(40), nullptr), ReplyAuth::kMalformed);
  EXPECT_EQ(auth_for(1).check(std::span(good).first(kHeaderBytes + 8), nullptr),
            ReplyAuth::kMalformed);
}

// End to end through the pure pieces: our signed request is served by our
// own server path (with the same keys), and its signed reply passes TEST5.
TEST_F(AssociationAuthTest, OurServerAnswersOurSignedRequest) {
  AccessConfig config;
  for (std::uint32_t id = 1; id <= 6; ++id) config.keys.push_back(*keys_.find(id));
  config.trusted_keys = {1, 2, 3, 4, 6};
  sockaddr_storage from{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&from);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(40000);
  v4->sin_addr.s_addr = htonl(0x7f000002);
  SystemVars sys;
  sys.synchronized = true;
  sys.leap = 0;
  sys.stratum = 3;
  const common::UnixNs now{1'700'000'000LL * common::kNsPerSecond};
  for (std::uint32_t id = 1; id <= 4; ++id) {
    ServerPath path(config, 1);
    const AssociationAuth auth = auth_for(id);
    auto request = request_bytes();
    request.resize(auth.sign(request, kHeaderBytes));
    std::vector<std::uint8_t> reply(kMaxPacketBytes);
    ReplyNote note;
    std::size_t length = path.handle(request, from, now, sys, reply, &note);
    ASSERT_GT(length, 0u) << id;
    length = path.finalize(reply, length, note, now);
    reply.resize(length);
    EXPECT_EQ(auth.check(reply, nullptr), ReplyAuth::kOk) << id;
    // Another association's key does not accept it.
    EXPECT_EQ(auth_for(id == 1 ? 2 : 1).check(reply, nullptr), ReplyAuth::kWrongKeyId);
  }
}

TEST(LogThrottleTest, OneLinePerIntervalCountingTheRest) {
  LogThrottle throttle(60 * common::kNsPerSecond);
  std::uint64_t held = 99;
  const auto at = [](std::int64_t s) { return common::UnixNs{s * common::kNsPerSecond}; };
  EXPECT_TRUE(throttle.due(at(1000), &held));
  EXPECT_EQ(held, 0u);
  EXPECT_FALSE(throttle.due(at(1001), &held));
  EXPECT_FALSE(throttle.due(at(1059), &held));
  EXPECT_TRUE(throttle.due(at(1060), &held));
  EXPECT_EQ(held, 2u);
  EXPECT_TRUE(throttle.due(at(500), &held));  // the clock went back: log
  EXPECT_EQ(held, 0u);
}

}  // namespace
}  // namespace ntpd::net
