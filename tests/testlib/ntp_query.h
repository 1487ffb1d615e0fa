// Test support: a minimal, independent NTP client (hand-built bytes, not
// the daemon's packet code) that sends one mode 3 request and decodes the
// reply, so tests check the daemon against RFC 5905 rather than itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ntpd::testlib {

struct NtpReply {
  int leap = 0;
  int version = 0;
  int mode = 0;
  int stratum = 0;
  int poll = 0;
  int precision = 0;
  std::uint32_t refid = 0;
  std::uint64_t origin = 0;  // must echo our transmit timestamp
  std::uint64_t receive = 0;
  std::uint64_t transmit = 0;
  std::uint64_t sent_transmit = 0;  // what we sent
  double offset_s = 0;              // ((T2 - T1) + (T3 - T4)) / 2
  double delay_s = 0;
  std::size_t length = 0;
};

// Sends one request to address:port (IPv4 or IPv6 literal) and waits up to
// timeout_ms for the matching reply. In the network namespace of
// `netns_pid` if it is > 0.
std::optional<NtpReply> query_ntp(const std::string& address, std::uint16_t port, int timeout_ms,
                                  pid_t netns_pid = -1, int version = 4);

std::string describe(const NtpReply& reply);  // one line of JSON

}  // namespace ntpd::testlib
