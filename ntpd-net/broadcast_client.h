// A broadcast-client association (RFC 5905 sections 8 and 9.2, mode 5 in;
// ntpd's MODE_BCLIENT): mobilized by the shell on a broadcast packet that
// passed restrict and authentication, it turns each mode 5 packet into an
// offset sample for the clock filter. There is no origin to match, so the
// one-way delay is either calibrated at mobilization by a short
// client/server volley (ntpd's default) or the configured broadcastdelay
// (novolley). Pure ntpd-net core: time, bytes and randomness are arguments.
#pragma once

#include <cstdint>
#include <span>

#include "ntpd-net/association.h"

namespace ntpd::net {

inline constexpr int kVolleyPackets = kIburstPackets;                // requests sent, 2 s apart
inline constexpr int kVolleyReplies = 3;                             // enough replies to stop early
inline constexpr std::int64_t kDefaultBroadcastDelayNs = 4'000'000;  // ntpd broadcastdelay

struct BroadcastClientConfig {
  std::uint32_t id = 0;                              // set by the engine
  bool volley = true;                                // false: broadcastclient novolley
  std::int64_t delay_ns = kDefaultBroadcastDelayNs;  // one-way, used without a volley; 0..1 s
  std::uint8_t version = 4;
  std::int8_t precision_log2s = -20;
  std::int64_t max_distance_ns = 3 * common::kNsPerSecond / 2;
  std::uint32_t source_address_hash = 0;  // our address toward the server (loop test)
  std::uint32_t address_refid = 0;        // the server's address as a refid
};

class BroadcastClient {
 public:
  BroadcastClient(const BroadcastClientConfig& config, common::UnixNs now,
                  std::int64_t startup_delay_ns);

  // The calibration volley: client requests to the broadcaster's address,
  // answered on a socket of the shell's. Never due once calibrated.
  Poll poll_due(common::UnixNs now) const;
  TransmitPlan make_request(common::UnixNs now, std::uint64_t random_cookie);
  // A mode 4 reply to a volley request (the on-wire tests of association.h).
  ReceiveResult on_reply(std::span<const std::uint8_t> bytes, common::UnixNs receive_time,
                         common::UnixNs now);
  // A mode 5 packet from the broadcaster. Tests: mode 5, TEST1 (transmit
  // seen before) extended to any transmit not after the last one (a replay
  // of an old broadcast), TEST3 (zero transmit), TEST6/7 (header), TEST11
  // (distance). Dropped while the volley still runs (ntpd waits for it).
  ReceiveResult on_broadcast(std::span<const std::uint8_t> bytes, common::UnixNs receive_time,
                             common::UnixNs now);

  void set_system(const SystemVars& sys);
  // The clock was stepped: forget samples; a calibrated delay is kept.
  void reset(common::UnixNs now, std::int64_t startup_delay_ns);

  // The reach register counts a broadcast interval (the server's poll) with
  // no packet as a miss, so a silent broadcaster becomes unreachable.
  PeerSummary summary(common::UnixNs now) const;

  bool calibrating() const { return calibrating_; }
  std::int64_t one_way_delay_ns() const { return delay_ns_; }
  const BroadcastClientConfig& config() const { return config_; }

 private:
  void finish_volley();

  BroadcastClientConfig config_;
  SystemVars system_;
  Association volley_;  // client mode, used only while calibrating
  ClockFilter filter_;
  bool calibrating_ = false;
  int volley_sent_ = 0;
  int volley_replies_ = 0;
  std::int64_t min_round_trip_ns_ = 0;  // smallest volley delay seen (0: none)
  std::int64_t delay_ns_ = 0;           // one-way delay in use

  common::NtpTimestamp last_transmit_;
  common::UnixNs last_receive_{0};
  std::uint8_t reach_ = 0;
  std::int8_t server_poll_log2s_ = 6;
  std::uint8_t leap_ = 3;
  std::uint8_t stratum_ = 16;
  std::uint32_t refid_ = 0;
  std::int64_t root_delay_ns_ = 0;
  std::int64_t root_dispersion_ns_ = 0;
};

}  // namespace ntpd::net
