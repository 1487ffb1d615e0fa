// Server-side access decisions, in ntpd's order: restrict ignore first,
// then the service flags, then authentication, then rate limiting.
#include "ntpd-net/access_control.h"

#include <netinet/in.h>

#include <cstring>

namespace ntpd::net {

std::optional<IpAddress> address_of(const sockaddr_storage& from, std::uint16_t* port) {
  IpAddress address;
  if (from.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&from);
    address.family = common::AddressFamily::kIpv4;
    std::memcpy(address.bytes.data(), &v4->sin_addr, 4);
    *port = ntohs(v4->sin_port);
  } else if (from.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&from);
    address.family = common::AddressFamily::kIpv6;
    std::memcpy(address.bytes.data(), &v6->sin6_addr, 16);
    *port = ntohs(v6->sin6_port);
  } else {
    return std::nullopt;
  }
  return canonical_address(address);
}

AccessControl::AccessControl(const AccessConfig& config, std::uint64_t hash_seed)
    : table_(config.restrictions),
      limiter_(config.rate_limit, config.mru, hash_seed),
      trusted_(config.trusted_keys) {
  for (const auto& key : config.keys) {
    common::SymmetricKey copy;
    copy.id = key.id;
    copy.type = key.type;
    copy.secret = common::SecretBytes(key.secret.bytes());
    keys_.add(std::move(copy));
  }
}

AccessVerdict AccessControl::check(std::span<const std::uint8_t> request,
                                   const sockaddr_storage& from, common::UnixNs now) {
  std::uint16_t port = 0;
  const auto address = address_of(from, &port);
  if (!address) return {AccessAction::kDrop, nullptr, "unknown address family"};
  const common::RestrictFlags flags = table_.match(*address, port);
  if (flags.ignore) return {AccessAction::kDrop, nullptr, "restrict ignore"};
  ParseError why = ParseError::kNone;
  const auto packet = parse_packet(request, &why);
  if (!packet) return {AccessAction::kDrop, nullptr, "unparseable"};
  const auto mode = static_cast<Mode>(packet->mode);
  // RFC 5905 section 9.2: only client and symmetric-active requests are
  // served here; mode 6/7 belong to other modules.
  const bool client = mode == Mode::kClient || (packet->version == 1 && mode == Mode::kReserved);
  if (!client && mode != Mode::kSymmetricActive) return {AccessAction::kDrop, nullptr, "mode"};
  if (flags.noserve) return {AccessAction::kDrop, nullptr, "restrict noserve"};
  if (flags.version && packet->version != 4)
    return {AccessAction::kDrop, nullptr, "restrict version"};

  const AuthResult auth = verify(request, *packet, keys_, trusted_);
  const bool authenticated = auth.status == AuthStatus::kOk;
  if (mode == Mode::kSymmetricActive && flags.nopeer && !authenticated) {
    return {AccessAction::kDrop, nullptr, "restrict nopeer"};
  }
  if (flags.notrust && !authenticated) return {AccessAction::kDrop, nullptr, "restrict notrust"};

  const RateRequest rate{*address, port, packet->mode, packet->version};
  switch (limiter_.check(rate, flags, now)) {
    case RateDecision::kDrop:
      return {AccessAction::kDrop, nullptr, "rate limited"};
    case RateDecision::kKod:
      return {AccessAction::kKod, nullptr, "rate limited, KoD"};
    case RateDecision::kServe:
      break;
  }
  switch (auth.status) {
    case AuthStatus::kNone:
      return {AccessAction::kServe, nullptr, "served"};
    case AuthStatus::kOk:
      return {AccessAction::kServe, keys_.find(auth.key_id), "served, authenticated"};
    case AuthStatus::kCryptoNak:
      return {AccessAction::kDrop, nullptr, "crypto-NAK from a client"};
    case AuthStatus::kUnknownKey:
    case AuthStatus::kUntrustedKey:
    case AuthStatus::kBadMac:
      // ntpd answers a client whose MAC it cannot verify with a crypto-NAK.
      return {AccessAction::kCryptoNak, nullptr, "authentication failed"};
  }
  return {AccessAction::kDrop, nullptr, "unreachable"};
}

std::size_t build_rate_kod(std::span<const std::uint8_t> request, common::UnixNs now,
                           std::span<std::uint8_t> out) {
  const auto packet = parse_packet(request, nullptr);
  if (!packet || out.size() < kHeaderBytes || request.size() < kHeaderBytes) return 0;
  NtpPacket kod;
  kod.leap = 3;
  kod.version = packet->version;
  kod.mode = static_cast<std::uint8_t>(Mode::kServer);
  kod.stratum = 0;
  kod.poll_log2s = packet->poll_log2s;
  kod.precision_log2s = -20;
  kod.refid = refid_from_ascii("RATE");
  kod.origin_time = packet->transmit_time;
  kod.receive_time = common::to_ntp(now);
  kod.transmit_time = common::to_ntp(now);
  return build_packet(kod, out);
}

}  // namespace ntpd::net
