// ntpd-net's real pure core in simulated time: the Engine (associations,
// clock filter, selection, clustering, combining) sends real request bytes;
// each simulated server answers with real reply bytes from ntpd-net's server
// core (respond), at its own clock, after the simulated network's delays;
// the Engine's system samples become the clock process's DisciplineSample.
// No socket, no real clock: local time is the SimulatedClock's.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "ntpd-clock/discipline.h"
#include "ntpd-net/engine.h"
#include "tests/sim/network.h"
#include "tests/sim/sim_random.h"
#include "tests/sim/simulated_clock.h"

namespace ntpd::sim {

struct SimNetConfig {
  std::vector<SimServer> servers;
  bool iburst = false;
  int min_poll_log2s = 6;
  int max_poll_log2s = 10;
  // false: drop Sample.age_ns (what a clock process that ignores it sees).
  bool sample_age = true;
};

class SimNetProcess {
 public:
  // Adds one association per server at true time 0, with the real shell's
  // randomized first poll (0..2 s).
  SimNetProcess(const SimNetConfig& config, Network& network, Rng& rng,
                const SimulatedClock& clock);

  // True time of the next timer (the shell's arm_timer: the Engine's
  // next_wakeup in local time, at least 1 ms away) and of the next reply
  // arriving (+inf when none is in flight).
  double next_timer_s() const { return next_timer_s_; }
  double next_arrival_s() const;

  // The clock is at next_timer_s(): poll (requests go out, servers answer,
  // replies are put in flight) and run the system process.
  std::optional<clock::DisciplineSample> on_timer();
  // The clock is at next_arrival_s(): the Engine receives the earliest reply
  // and runs the system process.
  std::optional<clock::DisciplineSample> on_arrival();
  // ClockState after a discipline update (ClockProcess::send_clock_state).
  void on_clock_state(const clock::DisciplineStatus& status, bool stepped);

  const net::Engine& engine() const { return engine_; }
  // The local clock as ntpd-net reads it (CLOCK_REALTIME).
  common::UnixNs local_now() const;

 private:
  struct InFlight {
    double arrival_s = 0;
    std::uint32_t association_id = 0;
    std::array<std::uint8_t, net::kHeaderBytes> bytes{};
    std::size_t length = 0;
  };
  std::optional<clock::DisciplineSample> run_system();
  void arm_timer();
  void send(const net::Outgoing& request);

  SimNetConfig config_;
  Network* network_;
  Rng* rng_;
  const SimulatedClock* clock_;
  net::Engine engine_;
  std::vector<std::uint32_t> ids_;  // association id of each server
  std::vector<InFlight> in_flight_;
  double next_timer_s_ = 0;
};

}  // namespace ntpd::sim
