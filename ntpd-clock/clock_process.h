// ClockProcess: the clock process's loop after startup. Waits on signals
// and on ntpd-net's messages, validates each message (validate.h), feeds
// valid samples to the clock state and answers with ClockState, supervises
// ntpd-net, and on SIGTERM/SIGINT stops it and persists the drift.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "common/unique_fd.h"
#include "ntpd-clock/clock_driver.h"
#include "ntpd-clock/discipline.h"
#include "ntpd-clock/drift_file.h"
#include "ntpd-clock/leap_file.h"
#include "ntpd-clock/net_messages.h"
#include "ntpd-clock/rtc_keeper.h"
#include "ntpd-clock/stats_files.h"
#include "ntpd-clock/supervisor.h"

namespace ntpd::clock {

struct ClockSettings {
  bool no_clock_control = false;
  std::optional<DriftFile> drift_file;
  std::optional<std::int64_t> initial_frequency_ppb;  // from the drift file
  DisciplineConfig discipline;
  std::optional<StatsFile> loopstats;   // opened at startup when enabled
  std::optional<LeapTable> leap_table;  // from the leapfile, when valid
  std::unique_ptr<RtcKeeper> rtc;       // opened at startup; absent: no RTC work
};

class ClockProcess {
 public:
  // `driver` applies the discipline's actions: the kernel clock, or the
  // no-clock-control driver that applies nothing.
  ClockProcess(Supervisor& supervisor, ClockSettings settings, std::unique_ptr<ClockDriver> driver);

  // Blocks the signals it handles and creates its signalfd; call before
  // the seccomp filter is loaded.
  bool prepare(std::string* error);
  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

 private:
  void drain_net();
  void apply(const HandleEffects& effects);
  void discipline(const ValidSample& sample, std::int64_t now_ns);
  void apply_clock(const ClockActions& actions);
  void tick(std::int64_t now_ns);
  void write_drift(const char* why);
  void record_loopstats();
  void check_leap_file();
  void send_clock_state();
  void on_child_exit(std::int64_t now_ns);
  void shutdown();

  Supervisor& supervisor_;
  ClockSettings settings_;
  common::UniqueFd signal_fd_;
  NetMessageHandler messages_;
  Discipline discipline_;
  std::unique_ptr<ClockDriver> driver_;
  RejectionLogGate discipline_rejections_;
  bool pending_stepped_ = false;
  bool stopping_ = false;
  int exit_status_ = 0;
  std::int64_t next_tick_ns_ = 0;
  std::int64_t last_drift_write_ns_ = 0;
  std::int64_t next_leap_check_ns_ = 0;
  LeapKind leap_armed_ = LeapKind::kNone;
};

std::int64_t monotonic_now_ns();
common::UnixNs realtime_now();

}  // namespace ntpd::clock
