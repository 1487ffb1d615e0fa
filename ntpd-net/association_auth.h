// Symmetric-key authentication of one client or symmetric association
// (`server ... key N`, `peer ... key N`): every request carries the RFC
// 5905 section 7.3 MAC trailer made with key N, and a reply counts only if
// it carries a valid MAC made with that same key id (RFC 5905 A.5.1.1
// TEST5). Pure core for ntpd-net: bytes in, bytes and verdicts out; the
// shell (engine_shell.cc) signs, checks and logs around the Association.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/keys_file.h"
#include "common/time_types.h"
#include "ntpd-net/auth.h"

namespace ntpd::net {

// Why a configured `key N` cannot be used.
enum class KeyProblem : std::uint8_t {
  kNone,
  kNotInKeysFile,  // no key N was loaded
  kNotTrusted,     // key N is loaded but not in trustedkey (or -t)
};
std::string_view to_string(KeyProblem problem);

// The verdict on one reply.
enum class ReplyAuth : std::uint8_t {
  kOk,          // a valid MAC with our key id
  kUnsigned,    // no MAC at all
  kCryptoNak,   // the peer could not verify our request (ntpd's crypto-NAK)
  kWrongKeyId,  // a MAC made with another key id
  kBadMac,      // our key id, but the digest does not verify (or has the wrong length)
  kMalformed,   // not a packet parse_packet accepts
};
std::string_view to_string(ReplyAuth verdict);  // "unsigned", "crypto-NAK", ...

class AssociationAuth {
 public:
  // The authenticator for `key N`, or nullopt with *why set when key N is
  // not loaded or not trusted: such an association must never send a
  // request (an unauthenticated one would defeat the operator's intent).
  static std::optional<AssociationAuth> make(std::uint32_t key_id, const KeyStore& keys,
                                             const TrustedKeys& trusted, KeyProblem* why);

  std::uint32_t key_id() const { return key_.id; }
  common::KeyType key_type() const { return key_.type; }

  // Appends key id and MAC to the request in packet[0, length) (the MAC
  // covers the transmit timestamp: stamp it first). Returns the new length,
  // or 0 if the buffer is too small or OpenSSL failed (send nothing then).
  std::size_t sign(std::span<std::uint8_t> packet, std::size_t length) const;

  // RFC 5905 A.5.1.1 TEST5 for a reply; *reply_key_id (if non-null) gets
  // the key id the reply carries (0 when it has none).
  ReplyAuth check(std::span<const std::uint8_t> reply, std::uint32_t* reply_key_id) const;

 private:
  explicit AssociationAuth(common::SymmetricKey key);
  common::SymmetricKey key_;
  KeyStore store_;       // key_ alone, for verify()
  TrustedKeys trusted_;  // key_.id alone
};

// One log line per interval for a recurring event (a peer that keeps
// answering unsigned), counting what it held back. Pure: time comes in.
class LogThrottle {
 public:
  explicit LogThrottle(std::int64_t interval_ns) : interval_ns_(interval_ns) {}
  // True when a line is due at `now`; *held_back gets how many events since
  // the last line were not logged (then reset to zero).
  bool due(common::UnixNs now, std::uint64_t* held_back);

 private:
  std::int64_t interval_ns_;
  bool logged_ = false;
  common::UnixNs last_{0};
  std::uint64_t held_back_ = 0;
};

}  // namespace ntpd::net
