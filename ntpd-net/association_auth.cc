// Association authentication (see association_auth.h). The MAC itself is
// auth.cc's; this file only decides which key signs and which replies count.
#include "ntpd-net/association_auth.h"

#include <utility>

namespace ntpd::net {

std::string_view to_string(KeyProblem problem) {
  switch (problem) {
    case KeyProblem::kNone:
      return "usable";
    case KeyProblem::kNotInKeysFile:
      return "not in the keys file";
    case KeyProblem::kNotTrusted:
      return "not trusted (not in trustedkey)";
  }
  return "unknown";
}

std::string_view to_string(ReplyAuth verdict) {
  switch (verdict) {
    case ReplyAuth::kOk:
      return "authenticated";
    case ReplyAuth::kUnsigned:
      return "unsigned";
    case ReplyAuth::kCryptoNak:
      return "crypto-NAK";
    case ReplyAuth::kWrongKeyId:
      return "wrong key id";
    case ReplyAuth::kBadMac:
      return "bad MAC";
    case ReplyAuth::kMalformed:
      return "malformed";
  }
  return "unknown";
}

std::optional<AssociationAuth> AssociationAuth::make(std::uint32_t key_id, const KeyStore& keys,
                                                     const TrustedKeys& trusted, KeyProblem* why) {
  const common::SymmetricKey* key = keys.find(key_id);
  if (key == nullptr) {
    *why = KeyProblem::kNotInKeysFile;
    return std::nullopt;
  }
  // ntpd authhavekey(): an untrusted key is never used, for sending either.
  if (!trusted.contains(key_id)) {
    *why = KeyProblem::kNotTrusted;
    return std::nullopt;
  }
  *why = KeyProblem::kNone;
  return AssociationAuth(*key);
}

AssociationAuth::AssociationAuth(common::SymmetricKey key) : key_(std::move(key)) {
  store_.add(key_);
  trusted_.trust(key_.id);
}

std::size_t AssociationAuth::sign(std::span<std::uint8_t> packet, std::size_t length) const {
  return append_mac(packet, length, key_);
}

ReplyAuth AssociationAuth::check(std::span<const std::uint8_t> reply,
                                 std::uint32_t* reply_key_id) const {
  if (reply_key_id != nullptr) *reply_key_id = 0;
  const auto packet = parse_packet(reply, nullptr);
  if (!packet) return ReplyAuth::kMalformed;
  if (reply_key_id != nullptr) *reply_key_id = packet->mac_key_id;
  switch (packet->mac_kind) {
    case MacKind::kNone:
      return ReplyAuth::kUnsigned;
    case MacKind::kCryptoNak:
      // RFC 5905 section 7.3: a crypto-NAK tells us the peer could not
      // verify us; it is itself unauthenticated, so it changes nothing.
      return ReplyAuth::kCryptoNak;
    case MacKind::kDigest:
      break;
  }
  // A MAC with another key, even one we trust, does not authenticate this
  // association: the operator named the key that speaks for this server.
  if (packet->mac_key_id != key_.id) return ReplyAuth::kWrongKeyId;
  const AuthResult result = verify(reply, *packet, store_, trusted_);
  return result.status == AuthStatus::kOk ? ReplyAuth::kOk : ReplyAuth::kBadMac;
}

bool LogThrottle::due(common::UnixNs now, std::uint64_t* held_back) {
  std::int64_t since = 0;
  const bool elapsed = !logged_ || __builtin_sub_overflow(now.ns, last_.ns, &since) ||
                       since >= interval_ns_ || since < 0;
  if (!elapsed) {
    ++held_back_;
    return false;
  }
  *held_back = held_back_;
  held_back_ = 0;
  logged_ = true;
  last_ = now;
  return true;
}

}  // namespace ntpd::net
