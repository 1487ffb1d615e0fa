// Randomness for the libevent shells (engine_shell, broadcast_shell): the
// cores take random values as arguments, the shells draw them here from
// getrandom(2) (allowed by the sandbox, see sandbox.cc).
#pragma once

#include <cstdint>

namespace ntpd::net {

// 64 random bits; retries until getrandom fills the value.
std::uint64_t random_u64();

// A random delay in [0, bound_ns) for a first poll or send, so a restart
// does not make every association transmit at once (RFC 5905 section 13).
// bound_ns must be positive.
std::int64_t random_delay_ns(std::int64_t bound_ns);

}  // namespace ntpd::net
