// The broadcast server of RFC 5905 section 9 (mode 5; ntp.conf
// `broadcast ADDRESS`): when each packet is due and its bytes, built from
// the system variables. Pure ntpd-net core: time comes in as an argument,
// bytes go out; the shell (broadcast_shell.cc) owns the socket and the MAC.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/time_types.h"
#include "ntpd-net/packet.h"
#include "ntpd-net/server.h"

namespace ntpd::net {

struct BroadcastServerConfig {
  std::uint32_t id = 0;
  std::uint8_t version = 4;    // 1..4 (others become 4)
  std::int8_t poll_log2s = 6;  // ntpd: a broadcast server sends every 2^minpoll s
};

// A broadcast packet (mode 5): our system variables, no origin or receive
// timestamp (nobody asked), transmit = now. Returns 48, or 0 when `sys` is
// not synchronized: ntpd's transmit() sends nothing for a broadcast
// association while sys_leap is LEAP_NOTINSYNC, so clients never see an
// unsynchronized broadcaster.
std::size_t build_broadcast(const SystemVars& sys, std::uint8_t version, std::int8_t poll_log2s,
                            common::UnixNs now, std::span<std::uint8_t> out);

class BroadcastServer {
 public:
  // The first packet goes out first_delay_ns after `now` (the shell draws
  // a small random delay so restarts do not align).
  BroadcastServer(const BroadcastServerConfig& config, common::UnixNs now,
                  std::int64_t first_delay_ns);

  bool due(common::UnixNs now) const { return now >= next_; }
  common::UnixNs next() const { return next_; }
  // Builds the packet due at `now` and schedules the next one a poll
  // interval later (also when nothing was built, unsynchronized). Returns
  // the length written to out (0: send nothing).
  std::size_t transmit(const SystemVars& sys, common::UnixNs now, std::span<std::uint8_t> out);

  const BroadcastServerConfig& config() const { return config_; }
  std::uint64_t sent() const { return sent_; }

 private:
  BroadcastServerConfig config_;
  common::UnixNs next_;
  std::uint64_t sent_ = 0;
};

}  // namespace ntpd::net
