// One simulated run: oscillator, network, servers, ntpd-net's real core
// (sim_net_process.h) and the real Discipline, stepped one second at a time with no real clock
// (a day runs in well under a second). The result holds what chrony's
// check_sync asserts: time to sync, RMS and maximum offset, frequency error,
// steps, slew rate, and whether the daemon would have exited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ntpd-clock/discipline.h"
#include "tests/sim/network.h"
#include "tests/sim/oscillator.h"

namespace ntpd::sim {

// The local clock is set by someone else at `at_s` (true time).
struct ClockJump {
  double at_s = 0;
  double jump_s = 0;  // local += jump_s
};

struct ScenarioConfig {
  double offset_s = 0;  // initial reference - local
  OscillatorConfig oscillator;
  NetworkConfig network;
  int servers = 1;
  int falsetickers = 0;
  bool iburst = false;
  bool sample_age = true;  // false: the discipline gets Sample.age_ns = 0
  double duration_s = 3600;
  std::uint64_t seed = 1;
  std::optional<double> driftfile_ppm;  // the drift file's correction (ntpd's sign)
  clock::DisciplineConfig discipline;   // -g, -x, -q, tinker, poll range, kernel, loop
  std::vector<ClockJump> jumps;
};

struct ScenarioResult {
  std::optional<double> time_to_1ms_s;  // from then on |offset| < 1 ms until the end
  double rms_offset_s = 0;              // over the last half
  double max_offset_s = 0;              // over the last half
  double rms_freq_error_ppm = 0;        // over the last half
  int steps = 0;
  double max_slew_ppm = 0;  // largest phase-correction rate, whole run
  double max_rate_ppm = 0;  // largest total adjustment (frequency + slew), whole run
  bool exited = false;
  std::string exit_reason;  // "", "panic", "slew-limit", "quit-after-set"
  double exit_time_s = 0;
  double simulated_s = 0;
  std::uint64_t samples = 0;
  std::uint64_t rejected = 0;
  int final_poll_log2s = 0;
  double final_frequency_ppm = 0;
  std::vector<std::string> log;  // the discipline's messages, with times
};

// One point per simulated second, for tests that look inside a run.
struct TracePoint {
  double t_s;
  double offset_s;
  double frequency_error_ppm;
  double slew_ppm;
  int poll_log2s;
  clock::LoopState state;
};

ScenarioResult run_scenario(const ScenarioConfig& config, std::vector<TracePoint>* trace = nullptr);
std::string to_json(const ScenarioResult& result);

}  // namespace ntpd::sim
