// AccessControl: what the server side does with a request before (and
// after) the reply is built: restrict flags (ignore, noserve, nopeer,
// version, notrust), rate limiting with the MRU list and KoD (limited,
// kod), and symmetric-key authentication of the request and the reply
// (RFC 5905 section 7.3 MAC, RFC 8573). Pure: bytes, addresses and times in.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/ntp_conf_types.h"
#include "ntpd-net/auth.h"
#include "ntpd-net/rate_limit.h"
#include "ntpd-net/restrict.h"

namespace ntpd::net {

struct AccessConfig {
  std::vector<common::RestrictRule> restrictions;  // numeric (hostnames already resolved)
  RateLimitConfig rate_limit;
  MruLimits mru;
  std::vector<common::SymmetricKey> keys;
  std::vector<std::uint32_t> trusted_keys;
};

enum class AccessAction : std::uint8_t {
  kDrop,       // no answer (ignore, noserve, over the limit, bad auth where a NAK is not due)
  kServe,      // answer; sign with `key` when set
  kKod,        // answer with a RATE kiss-o'-death instead
  kCryptoNak,  // answer, with a crypto-NAK trailer (unknown key or bad MAC)
};

struct AccessVerdict {
  AccessAction action = AccessAction::kDrop;
  const common::SymmetricKey* key = nullptr;  // kServe: the key the client used
  const char* reason = "";                    // for debug logs and counters
};

// The request's source as restrict and the MRU list see it (IPv4-mapped
// IPv6 addresses become IPv4).
std::optional<IpAddress> address_of(const sockaddr_storage& from, std::uint16_t* port);

class AccessControl {
 public:
  AccessControl(const AccessConfig& config, std::uint64_t hash_seed);

  AccessVerdict check(std::span<const std::uint8_t> request, const sockaddr_storage& from,
                      common::UnixNs now);
  const RateLimiter& rate_limiter() const { return limiter_; }
  const RestrictTable& restrictions() const { return table_; }
  // For "restrict source" entries as associations come and go.
  RestrictTable& mutable_restrictions() { return table_; }

 private:
  RestrictTable table_;
  RateLimiter limiter_;
  KeyStore keys_;
  TrustedKeys trusted_;
};

// A RATE kiss-o'-death for `request` (RFC 5905 section 7.4): LI 3, stratum
// 0, refid "RATE", the client's transmit timestamp as origin. Returns its
// length (48, never more than the request), or 0 if the request is not a
// client packet.
std::size_t build_rate_kod(std::span<const std::uint8_t> request, common::UnixNs now,
                           std::span<std::uint8_t> out);

}  // namespace ntpd::net
