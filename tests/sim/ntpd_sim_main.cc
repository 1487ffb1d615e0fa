// ntpd-sim: runs one simulated scenario through the real Discipline and
// prints one JSON object (issue 5). No real clock is read or changed; a day
// of simulated time takes well under a second.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/sim/scenario.h"

namespace {

using ntpd::sim::ScenarioConfig;

constexpr const char* kUsage =
    "usage: ntpd-sim [options]          (prints one JSON object)\n"
    "  --offset SECONDS        initial offset, reference - local (0)\n"
    "  --freq PPM              oscillator frequency error, + runs fast (0)\n"
    "  --wander PPB_PER_S      random-walk frequency wander: sd per second (0)\n"
    "  --temp-ppm PPM          temperature-like sinusoidal drift amplitude (0)\n"
    "  --temp-period SECONDS   its period (86400)\n"
    "  --jitter SECONDS        sd of each one-way delay's exponential part (0)\n"
    "  --base-delay SECONDS    fixed one-way delay (0.001)\n"
    "  --asymmetry SECONDS     outbound minus return delay (0)\n"
    "  --loss FRACTION         packet loss probability, each way (0)\n"
    "  --outage START:SECONDS  no packets in this window (repeatable)\n"
    "  --jump AT:SECONDS       someone sets the local clock by SECONDS (repeatable)\n"
    "  --servers N             servers (1)\n"
    "  --falsetickers N        of which wrong by 50 ms, -100 ms, 150 ms, ... (0)\n"
    "  --iburst                8 polls 2 s apart at start and after a step\n"
    "  --no-sample-age         the discipline ignores Sample.age_ns (as before it existed)\n"
    "  --minpoll N --maxpoll N poll exponent range (6, 10)\n"
    "  --duration SECONDS      simulated time (86400)\n"
    "  --seed N                random seed (1)\n"
    "  --driftfile-ppm PPM     drift file value, ntpd's sign: -FREQ is right\n"
    "  --tinker-freq PPM       tinker freq (wins over the drift file)\n"
    "  --step S --stepout S --panic S --huffpuff S   tinker (0.128 900 1000 0)\n"
    "  --loop regression|rfc5905   the discipline's loop (regression)\n"
    "  --kernel | --no-kernel  enable/disable kernel (enabled: kernel PLL with rfc5905)\n"
    "  -g -x -q                ntpd's panic gate, slew only, quit after set\n"
    "  --log                   print the discipline's log lines to stderr\n"
    "  --trace SECONDS         print the true offset every SECONDS to stderr\n";

bool parse_double(const char* text, double* out) {
  if (text == nullptr) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_pair(const char* text, double* a, double* b) {
  if (text == nullptr) return false;
  const char* colon = std::strchr(text, ':');
  if (colon == nullptr) return false;
  const std::string first(text, colon);
  return parse_double(first.c_str(), a) && parse_double(colon + 1, b);
}

std::int64_t to_ns(double s) { return std::llround(s * 1e9); }

struct Cli {
  ScenarioConfig config;
  bool print_log = false;
  double trace_every_s = 0;
  std::optional<double> tinker_freq_ppm;
};

// Options that take a number: the range check, then the assignment (never
// a conversion of an unchecked value).
std::map<std::string_view, std::function<bool(double)>> numeric_options(Cli& cli) {
  ScenarioConfig& c = cli.config;
  auto& d = c.discipline;
  using Check = std::function<bool(double)>;
  auto option = [](Check ok, std::function<void(double)> set) -> Check {
    return [ok, set](double v) {
      if (!ok(v)) return false;
      set(v);
      return true;
    };
  };
  auto at_least = [](double low) { return [low](double v) { return v >= low; }; };
  auto within = [](double low, double high) {
    return [low, high](double v) { return v >= low && v <= high; };
  };
  auto integer = [](double low, double high) {
    return [low, high](double v) { return v == std::floor(v) && v >= low && v <= high; };
  };
  auto as_int = [](double v) { return static_cast<int>(v); };
  return {
      {"--offset", option(within(-1e9, 1e9), [&c](double v) { c.offset_s = v; })},
      {"--freq", option(within(-1e4, 1e4), [&c](double v) { c.oscillator.frequency_ppm = v; })},
      {"--wander", option(within(0, 1e6), [&c](double v) { c.oscillator.wander_ppb_per_s = v; })},
      {"--temp-ppm", option(within(-1e4, 1e4), [&c](double v) { c.oscillator.temp_ppm = v; })},
      {"--temp-period", option(within(1, 1e9), [&c](double v) { c.oscillator.temp_period_s = v; })},
      {"--jitter", option(within(0, 10), [&c](double v) { c.network.jitter_s = v; })},
      {"--base-delay", option(within(0, 10), [&c](double v) { c.network.base_delay_s = v; })},
      {"--asymmetry", option(within(-10, 10), [&c](double v) { c.network.asymmetry_s = v; })},
      {"--loss", option(within(0, 1), [&c](double v) { c.network.loss = v; })},
      {"--servers", option(integer(1, 64), [&c, as_int](double v) { c.servers = as_int(v); })},
      {"--falsetickers",
       option(integer(0, 64), [&c, as_int](double v) { c.falsetickers = as_int(v); })},
      {"--minpoll",
       option(integer(3, 17), [&d, as_int](double v) { d.min_poll_log2s = as_int(v); })},
      {"--maxpoll",
       option(integer(3, 17), [&d, as_int](double v) { d.max_poll_log2s = as_int(v); })},
      {"--duration", option(within(1, 1e8), [&c](double v) { c.duration_s = v; })},
      {"--seed",
       option(integer(0, 9e15), [&c](double v) { c.seed = static_cast<std::uint64_t>(v); })},
      {"--driftfile-ppm", option(within(-1e4, 1e4), [&c](double v) { c.driftfile_ppm = v; })},
      {"--tinker-freq", option(within(-1e4, 1e4), [&cli](double v) { cli.tinker_freq_ppm = v; })},
      {"--step", option(within(0, 1e6), [&d](double v) { d.step_threshold_ns = to_ns(v); })},
      {"--stepout", option(within(0, 1e6), [&d](double v) { d.stepout_ns = to_ns(v); })},
      {"--panic", option(within(0, 1e9), [&d](double v) { d.panic_threshold_ns = to_ns(v); })},
      {"--huffpuff", option(within(0, 1e6), [&d](double v) { d.huffpuff_ns = to_ns(v); })},
      {"--trace", option(at_least(1), [&cli](double v) { cli.trace_every_s = v; })},
  };
}

std::map<std::string_view, std::function<void()>> flag_options(Cli& cli) {
  ScenarioConfig& c = cli.config;
  auto& d = c.discipline;
  return {
      {"--kernel", [&d] { d.kernel = true; }},
      {"--no-kernel", [&d] { d.kernel = false; }},
      {"--iburst", [&c] { c.iburst = true; }},
      {"--no-sample-age", [&c] { c.sample_age = false; }},
      {"-g", [&d] { d.allow_big_first_step = true; }},
      {"-x", [&d] { d.slew_only = true; }},
      {"-q", [&d] { d.quit_after_set = true; }},
      {"--log", [&cli] { cli.print_log = true; }},
  };
}

// Parses argv into `cli`; returns an error message, empty on success.
std::string parse(int argc, char** argv, Cli& cli) {
  const auto numeric = numeric_options(cli);
  const auto flags = flag_options(cli);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    double a = 0, b = 0;
    if (auto f = flags.find(arg); f != flags.end()) {
      f->second();
    } else if (auto n = numeric.find(arg); n != numeric.end()) {
      if (!parse_double(value, &a) || !n->second(a))
        return "bad or missing value for " + std::string(arg);
      ++i;
    } else if (arg == "--outage" || arg == "--jump") {
      if (!parse_pair(value, &a, &b)) return std::string(arg) + " needs START:SECONDS";
      if (arg == "--outage") {
        cli.config.network.outages.push_back({a, b});
      } else {
        cli.config.jumps.push_back({a, b});
      }
      ++i;
    } else if (arg == "--loop") {
      const std::string_view v = value != nullptr ? value : "";
      if (v != "regression" && v != "rfc5905") return "--loop takes regression or rfc5905";
      cli.config.discipline.algorithm = v == "rfc5905" ? ntpd::clock::LoopAlgorithm::kRfc5905
                                                       : ntpd::clock::LoopAlgorithm::kRegression;
      ++i;
    } else {
      return "unknown option " + std::string(arg);
    }
  }
  const auto& d = cli.config.discipline;
  if (d.max_poll_log2s < d.min_poll_log2s) return "--maxpoll is below --minpoll";
  if (cli.tinker_freq_ppm) cli.config.driftfile_ppm = cli.tinker_freq_ppm;  // as in ntpd
  return {};
}

void print_trace(const std::vector<ntpd::sim::TracePoint>& trace, double every_s) {
  double next = 0;
  for (const auto& p : trace) {
    if (p.t_s < next) continue;
    next = p.t_s + every_s;
    std::fprintf(stderr, "t=%.0f offset=%+.3fus freq_err=%+.4fppm slew=%.3fppm poll=%d %s\n", p.t_s,
                 p.offset_s * 1e6, p.frequency_error_ppm, p.slew_ppm, p.poll_log2s,
                 ntpd::clock::to_string(p.state));
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Cli cli;
  cli.config.duration_s = 86400;
  if (const std::string error = parse(argc, argv, cli); !error.empty()) {
    std::fprintf(stderr, "ntpd-sim: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  std::vector<ntpd::sim::TracePoint> trace;
  const auto result = ntpd::sim::run_scenario(cli.config, cli.trace_every_s > 0 ? &trace : nullptr);
  if (cli.print_log) {
    for (const auto& line : result.log) std::fprintf(stderr, "%s\n", line.c_str());
  }
  print_trace(trace, cli.trace_every_s);
  std::printf("%s\n", ntpd::sim::to_json(result).c_str());
  return 0;
}
