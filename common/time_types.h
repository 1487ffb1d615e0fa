// Time types shared by both processes, and THE sign convention:
//   offset = reference - local; positive means the local clock is behind.
// Durations are signed nanoseconds (int64: +-292 years), frequencies are
// parts per billion. NTP wire formats (RFC 5905 section 6) convert here.
#pragma once

#include <compare>
#include <cstdint>

namespace ntpd::common {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;
// Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970).
inline constexpr std::int64_t kNtpToUnixSeconds = 2'208'988'800;

// A time as nanoseconds since the Unix epoch (UTC, like CLOCK_REALTIME).
struct UnixNs {
  std::int64_t ns = 0;
  friend constexpr bool operator==(UnixNs, UnixNs) = default;
  friend constexpr auto operator<=>(UnixNs, UnixNs) = default;
};

// RFC 5905 64-bit timestamp: 32 bits of seconds since the start of the
// current era, 32 bits of fraction. Zero means "unknown / not set".
struct NtpTimestamp {
  std::uint64_t raw = 0;

  constexpr std::uint32_t seconds() const { return static_cast<std::uint32_t>(raw >> 32); }
  constexpr std::uint32_t fraction() const { return static_cast<std::uint32_t>(raw); }
  constexpr bool is_zero() const { return raw == 0; }
  friend constexpr bool operator==(NtpTimestamp, NtpTimestamp) = default;

  static constexpr NtpTimestamp from_parts(std::uint32_t seconds, std::uint32_t fraction) {
    return NtpTimestamp{(std::uint64_t{seconds} << 32) | fraction};
  }
};

// RFC 5905 32-bit short format: 16.16 seconds (root delay, root dispersion).
struct NtpShort {
  std::uint32_t raw = 0;
  friend constexpr bool operator==(NtpShort, NtpShort) = default;
};

// Converts a Unix time to an NTP timestamp (era is implicit: wraps mod 2^32 s).
constexpr NtpTimestamp to_ntp(UnixNs t) {
  const std::int64_t ntp_seconds_total = t.ns / kNsPerSecond + kNtpToUnixSeconds;
  std::int64_t rem_ns = t.ns % kNsPerSecond;
  std::int64_t secs = ntp_seconds_total;
  if (rem_ns < 0) {
    rem_ns += kNsPerSecond;
    secs -= 1;
  }
  const auto fraction =
      static_cast<std::uint32_t>((static_cast<std::uint64_t>(rem_ns) << 32) / kNsPerSecond);
  return NtpTimestamp::from_parts(static_cast<std::uint32_t>(secs), fraction);
}

// Converts an NTP timestamp to Unix time, choosing the era that puts the
// result nearest to `pivot` (RFC 5905 section 6: eras are resolved against
// a known approximate time), so it works across the 2036 rollover.
constexpr UnixNs from_ntp(NtpTimestamp ts, UnixNs pivot) {
  const std::int64_t pivot_ntp_s = pivot.ns / kNsPerSecond + kNtpToUnixSeconds;
  // Signed distance from the pivot's low 32 bits to the timestamp's seconds.
  const auto delta =
      static_cast<std::int32_t>(ts.seconds() - static_cast<std::uint32_t>(pivot_ntp_s));
  const std::int64_t ntp_s = pivot_ntp_s + delta;
  const auto frac_ns =
      static_cast<std::int64_t>((std::uint64_t{ts.fraction()} * kNsPerSecond + (1ULL << 31)) >> 32);
  return UnixNs{(ntp_s - kNtpToUnixSeconds) * kNsPerSecond + frac_ns};
}

// Nanoseconds <-> NTP short format (negative durations clamp to zero).
constexpr NtpShort to_ntp_short(std::int64_t duration_ns) {
  if (duration_ns <= 0) return NtpShort{0};
  const std::int64_t max_ns = (std::int64_t{0xffff} + 1) * kNsPerSecond - 1;
  if (duration_ns > max_ns) return NtpShort{0xffffffffu};
  return NtpShort{
      static_cast<std::uint32_t>((static_cast<std::uint64_t>(duration_ns) << 16) / kNsPerSecond)};
}

constexpr std::int64_t from_ntp_short(NtpShort s) {
  return static_cast<std::int64_t>((std::uint64_t{s.raw} * kNsPerSecond) >> 16);
}

}  // namespace ntpd::common
