// ClockProcess: the clock process's loop after startup. Waits on signals
// and on ntpd-net's messages, validates each message (validate.h), feeds
// valid samples to the clock state and answers with ClockState, supervises
// ntpd-net, and on SIGTERM/SIGINT stops it and persists the drift.
#pragma once

#include <cstdint>
#include <optional>

#include "common/unique_fd.h"
#include "ntpd-clock/drift_file.h"
#include "ntpd-clock/supervisor.h"
#include "ntpd-clock/net_messages.h"

namespace ntpd::clock {

struct ClockSettings {
  bool no_clock_control = false;
  std::optional<DriftFile> drift_file;
  std::optional<std::int64_t> initial_frequency_ppb;  // from the drift file
};

class ClockProcess {
 public:
  ClockProcess(Supervisor& supervisor, ClockSettings settings);

  // Blocks the signals it handles and creates its signalfd; call before
  // the seccomp filter is loaded.
  bool prepare(std::string* error);
  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

 private:
  void drain_net();
  void apply(const HandleEffects& effects);
  void send_clock_state();
  void on_child_exit(std::int64_t now_ns);
  void shutdown();

  Supervisor& supervisor_;
  ClockSettings settings_;
  common::UniqueFd signal_fd_;
  NetMessageHandler messages_;
  bool stopping_ = false;
};

std::int64_t monotonic_now_ns();

}  // namespace ntpd::clock
