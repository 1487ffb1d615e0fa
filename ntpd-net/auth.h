// Symmetric-key authentication: the RFC 5905 section 7.3 legacy MAC and the
// RFC 8573 AES-CMAC MAC, computed with OpenSSL libcrypto and compared in
// constant time. Pure core for ntpd-net: no I/O, clock or logging. Key bytes
// go only into OpenSSL; nothing here ever prints, logs or returns them.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/keys_file.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {

inline constexpr std::size_t kKeyIdBytes = 4;
// ntpsec MAX_BARE_MAC_LENGTH: longer digests (SHA256) are truncated to this,
// the longest MAC an NTPv4 trailer may carry (RFC 7822 section 3).
inline constexpr std::size_t kMaxMacDigestBytes = 20;

// Digest bytes the MAC of this key type carries on the wire: MD5 16,
// SHA1 20, SHA256 20 (the first 20 of 32, as ntpsec), AES-128-CMAC 16.
std::size_t mac_digest_bytes(common::KeyType type);

// Loads OpenSSL's configuration and every algorithm a MAC can need, by
// computing one MAC of each type with a throwaway key. Must run before the
// sandbox: OpenSSL reads its configuration file on first use, and the
// sandboxed process may not open any path. False if an algorithm is missing.
bool prepare_auth_before_sandbox();

// The keys ntpd-net knows (from the keys file, via the clock process).
class KeyStore {
 public:
  KeyStore() = default;
  // Later keys with the same id replace earlier ones.
  explicit KeyStore(std::vector<common::SymmetricKey> keys);

  void add(common::SymmetricKey key);
  // nullptr when key_id is 0, above 65535 or not loaded.
  const common::SymmetricKey* find(std::uint32_t key_id) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<common::SymmetricKey> keys_;  // sorted by id, unique
};

// trustedkey (and -t): the key ids that may authenticate. O(1) lookup.
class TrustedKeys {
 public:
  TrustedKeys() = default;                                   // trusts nothing
  explicit TrustedKeys(std::span<const std::uint32_t> ids);  // ids outside 1..65535 ignored

  void trust(std::uint32_t key_id);
  bool contains(std::uint32_t key_id) const;

 private:
  std::bitset<common::kMaxKeyId + 1> bits_;
};

// MD5/SHA1/SHA256: digest(key || data) (RFC 5905 section 7.3 / appendix
// A.2, ntpd's "key concatenated with packet"); AES-128-CMAC: CMAC(key, data)
// (RFC 8573 section 4, RFC 4493). Writes mac_digest_bytes(key.type) bytes to
// out and returns that count; 0 if out is too small or OpenSSL fails.
std::size_t compute_mac(const common::SymmetricKey& key, std::span<const std::uint8_t> data,
                        std::span<std::uint8_t> out);

// Appends key id (big-endian) and MAC over packet[0, length) at
// packet[length]. length must be >= 48 and a multiple of 4 (the header and
// any extension fields). Returns the new length, or 0 (writing nothing
// valid) if packet cannot hold the trailer or OpenSSL fails. Stamp the
// transmit time before calling: the MAC covers it.
std::size_t append_mac(std::span<std::uint8_t> packet, std::size_t length,
                       const common::SymmetricKey& key);

// Appends a crypto-NAK (a 4-byte zero key id, ntpd's reply to a request
// whose key it cannot use). Returns the new length, or 0 as append_mac.
std::size_t append_crypto_nak(std::span<std::uint8_t> packet, std::size_t length);

enum class AuthStatus : std::uint8_t {
  kNone,          // no MAC
  kOk,            // valid MAC with a trusted key
  kCryptoNak,     // a 4-byte trailer (key id only)
  kUnknownKey,    // MAC with a key id not in the KeyStore
  kUntrustedKey,  // key known but not trusted (ntpd treats it as unknown)
  kBadMac,        // wrong digest, or a digest length that does not fit the key type
};

std::string_view to_string(AuthStatus status);

struct AuthResult {
  AuthStatus status = AuthStatus::kNone;
  std::uint32_t key_id = 0;  // from the trailer (kNone: 0)
  friend bool operator==(const AuthResult&, const AuthResult&) = default;
};

// Checks the trailer parse_packet found in `bytes` (packet must be the
// result of parse_packet on these same bytes; inconsistent ranges give
// kBadMac). A server answers a client's kUnknownKey, kUntrustedKey and
// kBadMac with a crypto-NAK (ntpd receive(): AUTH_ERROR -> fast_xmit with
// key id 0); see access_control.cc.
AuthResult verify(std::span<const std::uint8_t> bytes, const NtpPacket& packet,
                  const KeyStore& keys, const TrustedKeys& trusted);

}  // namespace ntpd::net
