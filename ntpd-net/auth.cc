// Symmetric-key MACs (see auth.h). OpenSSL 3 EVP APIs only: digests through
// EVP_MD_CTX, AES-CMAC through EVP_MAC. Algorithms are fetched once and kept
// for the life of the process; every context is owned by a unique_ptr.
// Digest buffers that held a MAC are cleansed before they go out of scope.
#include "ntpd-net/auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <memory>

namespace ntpd::net {
namespace {

using common::KeyType;
using common::SymmetricKey;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// Fetched once (thread-safe static init) and never freed: explicit fetches
// avoid OpenSSL 3's per-call implicit fetch on the packet path.
struct Algorithms {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MAC* cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
};

const Algorithms& algorithms() {
  static const Algorithms instance;
  return instance;
}

// A buffer for a full digest that is cleansed when it goes out of scope.
struct DigestBuffer {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> bytes{};
  ~DigestBuffer() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// RFC 5905 section 7.3 / ntpd digest_encrypt: digest(key || data).
bool digest_mac(const EVP_MD* md, const SymmetricKey& key, std::span<const std::uint8_t> data,
                DigestBuffer& out) {
  if (md == nullptr) return false;
  const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned int length = 0;
  const auto secret = key.secret.bytes();
  return ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()) == 1 &&
         EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out.bytes.data(), &length) == 1 &&
         length >= mac_digest_bytes(key.type);
}

// RFC 8573 section 4: AES-CMAC (RFC 4493) over the data with a 16-byte key.
bool cmac(const SymmetricKey& key, std::span<const std::uint8_t> data, DigestBuffer& out) {
  const auto secret = key.secret.bytes();
  if (algorithms().cmac == nullptr || secret.size() != common::kCmacKeyBytes) return false;
  const std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(algorithms().cmac));
  if (ctx == nullptr) return false;
  char cipher[] = "AES-128-CBC";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
      OSSL_PARAM_construct_end(),
  };
  std::size_t length = 0;
  return EVP_MAC_init(ctx.get(), secret.data(), secret.size(), params) == 1 &&
         EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1 &&
         EVP_MAC_final(ctx.get(), out.bytes.data(), &length, out.bytes.size()) == 1 &&
         length == mac_digest_bytes(key.type);
}

bool full_mac(const SymmetricKey& key, std::span<const std::uint8_t> data, DigestBuffer& out) {
  switch (key.type) {
    case KeyType::kMd5:
      return digest_mac(algorithms().md5, key, data, out);
    case KeyType::kSha1:
      return digest_mac(algorithms().sha1, key, data, out);
    case KeyType::kSha256:
      return digest_mac(algorithms().sha256, key, data, out);
    case KeyType::kAes128Cmac:
      return cmac(key, data, out);
  }
  return false;
}

}  // namespace

std::size_t mac_digest_bytes(KeyType type) {
  switch (type) {
    case KeyType::kMd5:
    case KeyType::kAes128Cmac:
      return 16;
    case KeyType::kSha1:
    case KeyType::kSha256:
      return kMaxMacDigestBytes;
  }
  return kMaxMacDigestBytes;
}

// ---- KeyStore, TrustedKeys ----

KeyStore::KeyStore(std::vector<SymmetricKey> keys) {
  for (auto& key : keys) add(std::move(key));
}

void KeyStore::add(SymmetricKey key) {
  const auto at =
      std::lower_bound(keys_.begin(), keys_.end(), key.id,
                       [](const SymmetricKey& k, std::uint16_t id) { return k.id < id; });
  if (at != keys_.end() && at->id == key.id) {
    *at = std::move(key);
  } else {
    keys_.insert(at, std::move(key));
  }
}

const SymmetricKey* KeyStore::find(std::uint32_t key_id) const {
  if (key_id == 0 || key_id > common::kMaxKeyId) return nullptr;
  const auto at =
      std::lower_bound(keys_.begin(), keys_.end(), key_id,
                       [](const SymmetricKey& k, std::uint32_t id) { return k.id < id; });
  return at != keys_.end() && at->id == key_id ? &*at : nullptr;
}

TrustedKeys::TrustedKeys(std::span<const std::uint32_t> ids) {
  for (const auto id : ids) trust(id);
}

void TrustedKeys::trust(std::uint32_t key_id) {
  if (key_id != 0 && key_id <= common::kMaxKeyId) bits_.set(key_id);
}

bool TrustedKeys::contains(std::uint32_t key_id) const {
  return key_id != 0 && key_id <= common::kMaxKeyId && bits_.test(key_id);
}

// ---- MACs ----

std::size_t compute_mac(const SymmetricKey& key, std::span<const std::uint8_t> data,
                        std::span<std::uint8_t> out) {
  const std::size_t length = mac_digest_bytes(key.type);
  if (out.size() < length || key.secret.empty()) return 0;
  DigestBuffer full;
  if (!full_mac(key, data, full)) return 0;
  std::copy_n(full.bytes.begin(), length, out.begin());
  return length;
}

std::size_t append_mac(std::span<std::uint8_t> packet, std::size_t length,
                       const SymmetricKey& key) {
  const std::size_t digest = mac_digest_bytes(key.type);
  if (length < kHeaderBytes || length % 4 != 0 || length > packet.size() ||
      packet.size() - length < kKeyIdBytes + digest) {
    return 0;
  }
  if (compute_mac(key, packet.first(length), packet.subspan(length + kKeyIdBytes, digest)) == 0) {
    return 0;
  }
  store_be32(packet, length, key.id);
  return length + kKeyIdBytes + digest;
}

std::size_t append_crypto_nak(std::span<std::uint8_t> packet, std::size_t length) {
  if (length < kHeaderBytes || length % 4 != 0 || length > packet.size() ||
      packet.size() - length < kCryptoNakBytes) {
    return 0;
  }
  store_be32(packet, length, 0);
  return length + kCryptoNakBytes;
}

std::string_view to_string(AuthStatus status) {
  switch (status) {
    case AuthStatus::kNone:
      return "none";
    case AuthStatus::kOk:
      return "ok";
    case AuthStatus::kCryptoNak:
      return "crypto-NAK";
    case AuthStatus::kUnknownKey:
      return "unknown key";
    case AuthStatus::kUntrustedKey:
      return "untrusted key";
    case AuthStatus::kBadMac:
      return "bad MAC";
  }
  return "unknown";
}

AuthResult verify(std::span<const std::uint8_t> bytes, const NtpPacket& packet,
                  const KeyStore& keys, const TrustedKeys& trusted) {
  switch (packet.mac_kind) {
    case MacKind::kNone:
      return AuthResult{};
    case MacKind::kCryptoNak:
      return AuthResult{AuthStatus::kCryptoNak, packet.mac_key_id};
    case MacKind::kDigest:
      break;
  }
  const std::uint32_t id = packet.mac_key_id;
  const SymmetricKey* key = keys.find(id);
  if (key == nullptr) return AuthResult{AuthStatus::kUnknownKey, id};
  // ntpd authhavekey(): an untrusted key is not used, not even computed.
  if (!trusted.contains(id)) return AuthResult{AuthStatus::kUntrustedKey, id};
  const ByteRange digest = packet.mac_digest;
  const std::size_t expected = mac_digest_bytes(key->type);
  // ntpsec digest_decrypt / cmac_decrypt: the MAC length must fit the key.
  if (digest.length != expected || packet.authenticated_bytes > bytes.size() ||
      digest.offset != std::size_t{packet.authenticated_bytes} + kKeyIdBytes ||
      std::size_t{digest.offset} + digest.length > bytes.size()) {
    return AuthResult{AuthStatus::kBadMac, id};
  }
  DigestBuffer computed;
  if (compute_mac(*key, bytes.first(packet.authenticated_bytes), computed.bytes) != expected) {
    return AuthResult{AuthStatus::kBadMac, id};
  }
  const bool equal =
      CRYPTO_memcmp(computed.bytes.data(), bytes.data() + digest.offset, expected) == 0;
  return AuthResult{equal ? AuthStatus::kOk : AuthStatus::kBadMac, id};
}

bool prepare_auth_before_sandbox() {
  const std::uint8_t secret[common::kCmacKeyBytes] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                      9, 10, 11, 12, 13, 14, 15, 16};
  const std::uint8_t data[kHeaderBytes] = {};
  std::uint8_t out[kMaxMacDigestBytes + 16] = {};
  bool ok = true;
  for (auto type : {common::KeyType::kMd5, common::KeyType::kSha1, common::KeyType::kSha256,
                    common::KeyType::kAes128Cmac}) {
    common::SymmetricKey key;
    key.id = 1;
    key.type = type;
    key.secret = common::SecretBytes(secret);
    ok = compute_mac(key, data, out) > 0 && ok;
  }
  return ok;
}

}  // namespace ntpd::net
