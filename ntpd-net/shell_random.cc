// Shell randomness (see shell_random.h).
#include "ntpd-net/shell_random.h"

#include <sys/random.h>

namespace ntpd::net {

std::uint64_t random_u64() {
  std::uint64_t value = 0;
  while (getrandom(&value, sizeof value, 0) != sizeof value) {
  }
  return value;
}

std::int64_t random_delay_ns(std::int64_t bound_ns) {
  return static_cast<std::int64_t>(random_u64() % static_cast<std::uint64_t>(bound_ns));
}

}  // namespace ntpd::net
