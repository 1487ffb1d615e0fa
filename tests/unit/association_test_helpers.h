// Shared pieces of the ntpd-net association unit tests (association,
// interleaved client, broadcast client): simulated time from a fixed
// origin, and request/reply bytes to and from NtpPacket.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "ntpd-net/association.h"

namespace ntpd::net::testutil {

inline constexpr std::int64_t kUs = 1'000;
inline constexpr std::int64_t kMs = 1'000'000;
inline constexpr std::int64_t kS = common::kNsPerSecond;
inline constexpr std::int64_t kT0 = 1'700'000'000 * kS;  // simulated time origin

inline common::UnixNs at(std::int64_t ns_after_t0) { return common::UnixNs{kT0 + ns_after_t0}; }

inline std::vector<std::uint8_t> encode(const NtpPacket& p) {
  std::vector<std::uint8_t> bytes(kHeaderBytes);
  build_packet(p, bytes);
  return bytes;
}

// The request a TransmitPlan carries (the plan must send one).
inline NtpPacket decode(const TransmitPlan& plan) {
  EXPECT_TRUE(plan.send);
  const auto p =
      parse_packet(std::span<const std::uint8_t>(plan.bytes.data(), plan.length), nullptr);
  EXPECT_TRUE(p.has_value());
  return p.value_or(NtpPacket{});
}

}  // namespace ntpd::net::testutil
