// The simulated network and servers: each one-way delay is a fixed base
// (1 ms) plus an exponential random part whose standard deviation is the
// jitter, plus half the asymmetry on the way out and minus half on the way
// back; packets are lost independently or during outages. A server answers
// with its own clock, which is exact unless it is a falseticker.
#pragma once

#include <optional>
#include <vector>

#include "tests/sim/sim_random.h"

namespace ntpd::sim {

struct Outage {
  double start_s = 0;
  double duration_s = 0;
};

struct NetworkConfig {
  double base_delay_s = 1e-3;
  double jitter_s = 0;
  double asymmetry_s = 0;  // out - back: biases the measured offset by half of it
  double loss = 0;         // probability that one packet (either way) is lost
  std::vector<Outage> outages;
};

struct SimServer {
  double clock_error_s = 0;  // server clock - true time (falsetickers only)
  bool falseticker = false;
};

// One client/server exchange as the client computes it (RFC 5905 section 8).
struct Exchange {
  double offset_s;  // reference - local
  double delay_s;
};

// The two one-way delays of one exchange.
struct Delays {
  double out_s;   // client -> server
  double back_s;  // server -> client
};

class Network {
 public:
  Network(const NetworkConfig& config, Rng& rng) : config_(config), rng_(&rng) {}
  // An exchange started at true time `t_s`; `offset_at` gives the client's
  // true offset (reference - local) `dt` seconds later. Nullopt when lost.
  template <typename OffsetAt>
  std::optional<Exchange> exchange(double t_s, const SimServer& server, OffsetAt offset_at);
  // The delays of an exchange started at true time `t_s`; nullopt when
  // either packet is lost or the network is out.
  std::optional<Delays> delays(double t_s);
  bool in_outage(double t_s) const;

 private:
  double one_way(double shift_s);
  NetworkConfig config_;
  Rng* rng_;
};

template <typename OffsetAt>
std::optional<Exchange> Network::exchange(double t_s, const SimServer& server, OffsetAt offset_at) {
  const auto d = delays(t_s);
  if (!d) return std::nullopt;
  const double d1 = d->out_s;
  const double d2 = d->back_s;
  // t1 = T - theta(T); t2 = t3 = T + d1 + s; t4 = T + d1 + d2 - theta(T + d1 + d2).
  const double theta1 = offset_at(0.0);
  const double theta4 = offset_at(d1 + d2);
  const double s = server.clock_error_s;
  const double offset = ((d1 + s + theta1) + (s - d2 + theta4)) / 2;
  const double delay = (d1 + d2) - (theta4 - theta1);
  return Exchange{offset, delay};
}

}  // namespace ntpd::sim
