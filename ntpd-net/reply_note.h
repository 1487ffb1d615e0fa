// ReplyNote: what the server path decides about one request that the last
// step before sending still needs (the key to sign with, a crypto-NAK, the
// request's length for the no-amplification check). Kept per datagram so
// a batch of replies can be built first and stamped last (udp_io.h).
#pragma once

#include <cstddef>

#include "ntpd-net/interleave_server.h"

namespace ntpd::common {
struct SymmetricKey;
}

namespace ntpd::net {

struct ReplyNote {
  const common::SymmetricKey* sign_with = nullptr;  // append a MAC with this key
  bool crypto_nak = false;                          // append a crypto-NAK instead
  std::size_t request_length = 0;                   // the reply may not be longer
  InterleavePending xleave;                         // RFC 9769: what to remember once sent
};

}  // namespace ntpd::net
