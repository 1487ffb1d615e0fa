// The scenario runner: an event loop in true time over ntpd-net's real core
// (SimNetProcess: its timer and the replies in flight), clock jumps and the
// clock process's once-a-second tick; feeds each system sample to the real
// Discipline, answers with ClockState, applies the Discipline's actions to
// the SimulatedClock and keeps statistics.
#include "tests/sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tests/sim/sim_net_process.h"
#include "tests/sim/simulated_clock.h"

namespace ntpd::sim {
namespace {

constexpr double kSyncThresholdS = 1e-3;

const char* exit_name(clock::ExitReason reason) {
  switch (reason) {
    case clock::ExitReason::kNone:
      return "";
    case clock::ExitReason::kPanic:
      return "panic";
    case clock::ExitReason::kSlewLimit:
      return "slew-limit";
    case clock::ExitReason::kQuitAfterSet:
      return "quit-after-set";
  }
  return "?";
}

std::vector<SimServer> make_servers(const ScenarioConfig& config) {
  std::vector<SimServer> servers(static_cast<std::size_t>(std::max(0, config.servers)));
  const int falsetickers = std::clamp(config.falsetickers, 0, config.servers);
  for (int i = 0; i < falsetickers; ++i) {
    // Wrong by 50 ms, -100 ms, 150 ms, ...: inside the step threshold, so
    // only selection keeps them out.
    const double sign = i % 2 == 0 ? 1.0 : -1.0;
    servers[static_cast<std::size_t>(i)] = SimServer{sign * 0.05 * (i + 1), true};
  }
  return servers;
}

class Runner {
 public:
  Runner(const ScenarioConfig& config, std::vector<TracePoint>* trace)
      : config_(config),
        trace_(trace),
        rng_(config.seed),
        clock_(config.offset_s, Oscillator(config.oscillator, rng_)),
        network_(config.network, rng_),
        net_(net_config(config), network_, rng_, clock_),
        discipline_(discipline_config(config), clock_.monotonic_ns()) {}

  ScenarioResult run();

 private:
  static clock::DisciplineConfig discipline_config(const ScenarioConfig& config) {
    clock::DisciplineConfig d = config.discipline;
    if (config.driftfile_ppm) d.initial_frequency_ppb = std::llround(*config.driftfile_ppm * 1e3);
    return d;
  }
  static SimNetConfig net_config(const ScenarioConfig& config) {
    return SimNetConfig{make_servers(config), config.iburst, config.discipline.min_poll_log2s,
                        config.discipline.max_poll_log2s, config.sample_age};
  }
  void feed(const std::optional<clock::DisciplineSample>& sample, double t_s);
  void handle(const clock::Decision& d, double t_s);
  void apply(const clock::ClockActions& actions);
  void record(double t_s);

  const ScenarioConfig& config_;
  std::vector<TracePoint>* trace_;
  Rng rng_;
  SimulatedClock clock_;
  Network network_;
  SimNetProcess net_;
  clock::Discipline discipline_;
  ScenarioResult result_;
  // Statistics over the last half.
  double sum_offset2_ = 0;
  double sum_freq2_ = 0;
  double n_stats_ = 0;
  double last_above_1ms_s_ = -1;
};

void Runner::apply(const clock::ClockActions& actions) {
  clock::apply_actions(clock_, actions);
  if (actions.kernel_pll) {
    discipline_.observe_kernel_frequency(std::llround(clock_.kernel_frequency() * 1e9));
  }
}

void Runner::handle(const clock::Decision& d, double t_s) {
  apply(d.actions);
  if (!d.message.empty()) {
    char when[32];
    std::snprintf(when, sizeof when, "t=%.0fs ", t_s);
    result_.log.push_back(when + d.message);
  }
  if (d.rejected) ++result_.rejected;
  if (d.exit != clock::ExitReason::kNone) {
    result_.exited = true;
    result_.exit_reason = exit_name(d.exit);
    result_.exit_time_s = t_s;
  }
}

// ntpd-net sends the sample, the clock process disciplines and answers
// with ClockState (stepped: every association restarts).
void Runner::feed(const std::optional<clock::DisciplineSample>& sample, double t_s) {
  if (!sample) return;
  ++result_.samples;
  const clock::Decision d = discipline_.update(*sample, clock_.monotonic_ns());
  handle(d, t_s);
  net_.on_clock_state(discipline_.status(), d.stepped);
}

void Runner::record(double t_s) {
  const double offset = clock_.offset_s();
  const double slew_ppm = std::abs(clock_.slew_rate()) * 1e6;
  result_.max_slew_ppm = std::max(result_.max_slew_ppm, slew_ppm);
  result_.max_rate_ppm = std::max(result_.max_rate_ppm, std::abs(clock_.adjustment_rate()) * 1e6);
  if (std::abs(offset) >= kSyncThresholdS) last_above_1ms_s_ = t_s;
  const double freq_ppm = clock_.frequency_error() * 1e6;
  if (t_s > config_.duration_s / 2) {
    sum_offset2_ += offset * offset;
    sum_freq2_ += freq_ppm * freq_ppm;
    n_stats_ += 1;
    result_.max_offset_s = std::max(result_.max_offset_s, std::abs(offset));
  }
  if (trace_ != nullptr) {
    const auto status = discipline_.status();
    trace_->push_back(TracePoint{t_s, offset, freq_ppm, slew_ppm, status.poll_log2s, status.state});
  }
}

ScenarioResult Runner::run() {
  apply(discipline_.start());
  std::vector<ClockJump> jumps = config_.jumps;
  std::sort(jumps.begin(), jumps.end(),
            [](const ClockJump& a, const ClockJump& b) { return a.at_s < b.at_s; });
  std::size_t next_jump = 0;
  const auto seconds = static_cast<std::int64_t>(std::ceil(config_.duration_s));
  for (std::int64_t sec = 0; sec < seconds && !result_.exited; ++sec) {
    const double end = static_cast<double>(sec + 1);
    // Events inside this second, in time order: jumps, replies, the timer.
    while (!result_.exited) {
      const double jump_at = next_jump < jumps.size() ? jumps[next_jump].at_s : 1e300;
      const double arrival = net_.next_arrival_s();
      const double timer = net_.next_timer_s();
      const double event = std::min({jump_at, arrival, timer});
      if (event >= end) break;
      clock_.advance(std::max(0.0, event - clock_.true_time_s()));
      if (jump_at == event) {
        clock_.jump(jumps[next_jump++].jump_s);
      } else if (arrival == event) {
        feed(net_.on_arrival(), event);
      } else {
        feed(net_.on_timer(), event);
      }
    }
    if (result_.exited) break;
    clock_.advance(end - clock_.true_time_s());
    apply(discipline_.tick(clock_.monotonic_ns()));
    record(end);
  }
  result_.simulated_s = clock_.true_time_s();
  result_.steps = clock_.steps();
  if (n_stats_ > 0) {
    result_.rms_offset_s = std::sqrt(sum_offset2_ / n_stats_);
    result_.rms_freq_error_ppm = std::sqrt(sum_freq2_ / n_stats_);
  }
  if (!result_.exited && std::abs(clock_.offset_s()) < kSyncThresholdS) {
    result_.time_to_1ms_s = last_above_1ms_s_ < 0 ? 0.0 : last_above_1ms_s_ + 1;
  }
  const auto status = discipline_.status();
  result_.final_poll_log2s = status.poll_log2s;
  result_.final_frequency_ppm = static_cast<double>(status.frequency_ppb) * 1e-3;
  return result_;
}

void append_number(std::string& out, const char* key, double value) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "\"%s\":%.9g,", key, value);
  out += buf;
}

}  // namespace

ScenarioResult run_scenario(const ScenarioConfig& config, std::vector<TracePoint>* trace) {
  Runner runner(config, trace);
  return runner.run();
}

std::string to_json(const ScenarioResult& r) {
  std::string out = "{";
  if (r.time_to_1ms_s) {
    append_number(out, "time_to_1ms_s", *r.time_to_1ms_s);
  } else {
    out += "\"time_to_1ms_s\":null,";
  }
  append_number(out, "rms_offset_s", r.rms_offset_s);
  append_number(out, "max_offset_s", r.max_offset_s);
  append_number(out, "rms_freq_error_ppm", r.rms_freq_error_ppm);
  append_number(out, "steps", r.steps);
  append_number(out, "max_slew_ppm", r.max_slew_ppm);
  append_number(out, "max_rate_ppm", r.max_rate_ppm);
  out += std::string("\"exited\":") + (r.exited ? "true" : "false") + ",";
  out += "\"exit_reason\":\"" + r.exit_reason + "\",";
  append_number(out, "exit_time_s", r.exit_time_s);
  append_number(out, "simulated_s", r.simulated_s);
  append_number(out, "samples", static_cast<double>(r.samples));
  append_number(out, "rejected", static_cast<double>(r.rejected));
  append_number(out, "final_poll_log2s", r.final_poll_log2s);
  append_number(out, "final_frequency_ppm", r.final_frequency_ppm);
  out.back() = '}';
  return out;
}

}  // namespace ntpd::sim
