// Implementation of ntp_query.h.
#include "tests/testlib/ntp_query.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"
#include "tests/testlib/namespace_launch.h"

namespace ntpd::testlib {
namespace {

constexpr std::uint64_t kUnixToNtp = 2208988800ULL;

std::uint64_t now_ntp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const std::uint64_t seconds = static_cast<std::uint64_t>(ts.tv_sec) + kUnixToNtp;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(ts.tv_nsec) << 32) / 1000000000ULL;
  return (seconds << 32) | fraction;
}

double ntp_to_seconds(std::uint64_t t) {
  return static_cast<double>(t >> 32) + static_cast<double>(t & 0xffffffffULL) / 4294967296.0;
}

std::uint64_t read64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void write64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

common::UniqueFd open_socket(const std::string& address, std::uint16_t port, sockaddr_storage* to,
                             socklen_t* to_length) {
  std::memset(to, 0, sizeof *to);
  auto* v4 = reinterpret_cast<sockaddr_in*>(to);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(to);
  int family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *to_length = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *to_length = sizeof *v6;
  } else {
    return {};
  }
  return common::UniqueFd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

}  // namespace

std::optional<NtpReply> query_ntp(const std::string& address, std::uint16_t port, int timeout_ms,
                                  pid_t netns_pid, int version) {
  sockaddr_storage to{};
  socklen_t to_length = 0;
  common::UniqueFd fd;
  if (netns_pid > 0) {
    if (!with_network_namespace_of(netns_pid,
                                   [&] { fd = open_socket(address, port, &to, &to_length); })) {
      return std::nullopt;
    }
  } else {
    fd = open_socket(address, port, &to, &to_length);
  }
  if (!fd) return std::nullopt;
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&to), to_length) != 0) return std::nullopt;
  std::uint8_t request[48] = {};
  request[0] = static_cast<std::uint8_t>((0 << 6) | (version << 3) | 3);
  // A random transmit timestamp, as RFC 9109 clients do; it is only echoed.
  std::uint64_t cookie = 0;
  if (getrandom(&cookie, sizeof cookie, 0) != sizeof cookie) cookie = 0x5eed;
  const std::uint64_t t1 = now_ntp();
  write64(request + 40, cookie | 1);
  if (send(fd.get(), request, sizeof request, 0) != sizeof request) return std::nullopt;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long elapsed_ms =
        (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed_ms >= timeout_ms) return std::nullopt;
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout_ms - elapsed_ms)) <= 0) return std::nullopt;
    std::uint8_t reply[1024];
    const ssize_t n = recv(fd.get(), reply, sizeof reply, 0);
    const std::uint64_t t4 = now_ntp();
    if (n < 48) continue;
    NtpReply r;
    r.length = static_cast<std::size_t>(n);
    r.leap = reply[0] >> 6;
    r.version = (reply[0] >> 3) & 7;
    r.mode = reply[0] & 7;
    r.stratum = reply[1];
    r.poll = static_cast<std::int8_t>(reply[2]);
    r.precision = static_cast<std::int8_t>(reply[3]);
    r.refid = (std::uint32_t{reply[12]} << 24) | (std::uint32_t{reply[13]} << 16) |
              (std::uint32_t{reply[14]} << 8) | reply[15];
    r.origin = read64(reply + 24);
    r.receive = read64(reply + 32);
    r.transmit = read64(reply + 40);
    r.sent_transmit = cookie | 1;
    if (r.origin != r.sent_transmit) continue;  // not the reply to our request
    const double d1 = ntp_to_seconds(t1), d2 = ntp_to_seconds(r.receive),
                 d3 = ntp_to_seconds(r.transmit), d4 = ntp_to_seconds(t4);
    r.offset_s = ((d2 - d1) + (d3 - d4)) / 2;
    r.delay_s = (d4 - d1) - (d3 - d2);
    return r;
  }
}

std::string describe(const NtpReply& r) {
  char text[320];
  std::snprintf(text, sizeof text,
                "{\"leap\":%d,\"version\":%d,\"mode\":%d,\"stratum\":%d,\"poll\":%d,"
                "\"precision\":%d,\"refid\":\"%08x\",\"offset_s\":%.6f,\"delay_s\":%.6f,"
                "\"length\":%zu}",
                r.leap, r.version, r.mode, r.stratum, r.poll, r.precision, r.refid, r.offset_s,
                r.delay_s, r.length);
  return text;
}

}  // namespace ntpd::testlib
