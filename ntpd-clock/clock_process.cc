// The clock process loop. Everything ntpd-net says passes MessageValidator
// first; nothing it sends can make this loop block, crash or act.
#include "ntpd-clock/clock_process.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <variant>

#include "common/log.h"

namespace ntpd::clock {

common::UnixNs realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
}

std::int64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * common::kNsPerSecond + ts.tv_nsec;
}

namespace {

// ntpd writes the drift file at most once an hour while synchronized.
constexpr std::int64_t kDriftWriteIntervalNs = 3600 * common::kNsPerSecond;
constexpr std::int64_t kTickNs = common::kNsPerSecond;  // RFC 5905 clock-adjust process

std::uint32_t leap_indicator(const DisciplineStatus& status) {
  if (!status.synchronized) return 3;
  if (status.leap == LeapArm::kInsert) return 1;
  if (status.leap == LeapArm::kDelete) return 2;
  return 0;
}

}  // namespace

ClockProcess::ClockProcess(Supervisor& supervisor, ClockSettings settings,
                           std::unique_ptr<ClockDriver> driver)
    : supervisor_(supervisor),
      settings_(std::move(settings)),
      messages_(settings_.initial_frequency_ppb),
      discipline_(settings_.discipline, monotonic_now_ns()),
      driver_(std::move(driver)) {}

bool ClockProcess::prepare(std::string* error) {
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&handled, sig);
  if (sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) {
    *error = std::string("sigprocmask: ") + std::strerror(errno);
    return false;
  }
  signal(SIGPIPE, SIG_IGN);
  signal_fd_.reset(signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_) {
    *error = std::string("signalfd: ") + std::strerror(errno);
    return false;
  }
  return true;
}

int ClockProcess::run() {
  apply_clock(discipline_.start());
  next_tick_ns_ = monotonic_now_ns() + kTickNs;
  last_drift_write_ns_ = monotonic_now_ns();
  if (supervisor_.start(monotonic_now_ns())) send_clock_state();
  while (!stopping_) {
    pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {-1, POLLIN, 0}};
    if (supervisor_.running()) fds[1].fd = supervisor_.channel()->fd();
    std::int64_t wake_ns = next_tick_ns_;
    if (auto due = supervisor_.restart_due_ns()) wake_ns = std::min(wake_ns, *due);
    const std::int64_t wait_ns = wake_ns - monotonic_now_ns();
    const int timeout_ms = wait_ns <= 0 ? 0 : static_cast<int>(wait_ns / 1'000'000 + 1);
    const int ready = ::poll(fds, 2, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      common::logf(LOG_ERR, "LOOP: poll: %s", std::strerror(errno));
      break;
    }
    if (fds[1].revents != 0) drain_net();
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
        const auto sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          on_child_exit(monotonic_now_ns());
        } else if (sig == SIGTERM || sig == SIGINT) {
          common::logf(LOG_NOTICE, "EXIT: %s received, stopping", sigabbrev_np(sig));
          stopping_ = true;
        } else if (sig == SIGHUP) {
          common::logf(LOG_INFO, "LOOP: SIGHUP ignored (restart ntpd to reload ntp.conf)");
        }
      }
    }
    if (monotonic_now_ns() >= next_tick_ns_) tick(monotonic_now_ns());
    if (auto due = supervisor_.restart_due_ns(); due && !stopping_ && monotonic_now_ns() >= *due) {
      messages_.reset_rate_limits();
      if (supervisor_.start(monotonic_now_ns())) send_clock_state();
    }
  }
  shutdown();
  return exit_status_;
}

void ClockProcess::drain_net() {
  std::vector<std::uint8_t> buffer;
  // Bounded: a flooding child cannot starve signal handling.
  for (int i = 0; i < 256 && supervisor_.running(); ++i) {
    const std::int64_t now = monotonic_now_ns();
    switch (supervisor_.channel()->receive(buffer)) {
      case common::IpcChannel::ReceiveStatus::kMessage:
        apply(messages_.handle(buffer, now));
        continue;
      case common::IpcChannel::ReceiveStatus::kTruncated:
        apply(messages_.handle_oversized(now));
        continue;
      case common::IpcChannel::ReceiveStatus::kWouldBlock:
        return;
      case common::IpcChannel::ReceiveStatus::kEof:
      case common::IpcChannel::ReceiveStatus::kError:
        // ntpd-net is gone or closed its end (or sent an empty datagram):
        // make sure it is dead; SIGCHLD then reaps and restarts it.
        supervisor_.kill_child();
        supervisor_.close_channel();
        on_child_exit(now);
        return;
    }
  }
}

void ClockProcess::apply(const HandleEffects& effects) {
  if (effects.log) common::log_line(effects.log->priority, effects.log->text);
  if (effects.report) supervisor_.note_seccomp_report(*effects.report);
  if (effects.sample) {
    common::logf(LOG_DEBUG, "SAMPLE: offset %lld ns, delay %lld ns, jitter %lld ns, stratum %u",
                 static_cast<long long>(effects.sample->offset_ns),
                 static_cast<long long>(effects.sample->delay_ns),
                 static_cast<long long>(effects.sample->jitter_ns), effects.sample->stratum);
    discipline(*effects.sample, monotonic_now_ns());
  }
  if (effects.send_clock_state) send_clock_state();
}

void ClockProcess::discipline(const ValidSample& s, std::int64_t now_ns) {
  const DisciplineSample sample{s.offset_ns,        s.delay_ns, s.dispersion_ns, s.jitter_ns,
                                s.root_distance_ns, s.stratum,  s.leap,          s.refid,
                                s.poll_log2s,       s.age_ns};
  const Decision decision = discipline_.update(sample, now_ns);
  if (decision.rejected) {
    std::uint64_t suppressed = 0;
    if (discipline_rejections_.should_log(*decision.rejected, now_ns, &suppressed)) {
      common::logf(LOG_WARNING, "DISCIPLINE: sample refused (%s); %llu more in the last minute",
                   to_string(*decision.rejected), static_cast<unsigned long long>(suppressed));
    }
  }
  if (!decision.message.empty()) common::logf(LOG_NOTICE, "CLOCK: %s", decision.message.c_str());
  apply_clock(decision.actions);
  if (!decision.rejected) record_loopstats();
  if (decision.stepped) pending_stepped_ = true;
  if (decision.exit != ExitReason::kNone) {
    stopping_ = true;
    exit_status_ = decision.exit == ExitReason::kQuitAfterSet ? 0 : 1;
  }
}

void ClockProcess::apply_clock(const ClockActions& actions) {
  if (actions.empty()) return;
  if (!apply_actions(*driver_, actions)) {
    common::logf(LOG_ERR, "CLOCK: the kernel refused an adjustment (see above)");
  }
}

void ClockProcess::record_loopstats() {
  if (!settings_.loopstats) return;
  const DisciplineStatus status = discipline_.status();
  const common::UnixNs now = realtime_now();
  const LoopStatsRecord record{now,
                               status.offset_ns,
                               status.frequency_ppb,
                               status.jitter_ns,
                               status.wander_ppb,
                               status.poll_log2s};
  const StatsWrite result = settings_.loopstats->append(now, format_loopstats_line(record));
  if (!result.error.empty()) common::logf(LOG_WARNING, "STATS: %s", result.error.c_str());
}

// RFC 5905 leaves leap seconds to the leap indicator; ntpd also trusts a
// valid leapfile, which announces a leap during its last day. Checked once
// a minute; the kernel inserts or deletes the second at midnight UTC.
void ClockProcess::check_leap_file() {
  if (!settings_.leap_table) return;
  const LeapDecision decision = leap_pending(*settings_.leap_table, realtime_now());
  if (decision.kind == leap_armed_) return;
  for (const auto& warning : decision.warnings)
    common::logf(LOG_WARNING, "LEAP: %s", warning.c_str());
  const LeapArm arm = decision.kind == LeapKind::kInsert   ? LeapArm::kInsert
                      : decision.kind == LeapKind::kDelete ? LeapArm::kDelete
                                                           : LeapArm::kNone;
  if (driver_->arm_leap(arm)) {
    leap_armed_ = decision.kind;
    common::logf(LOG_NOTICE, "LEAP: %s",
                 arm == LeapArm::kInsert   ? "leap second insertion armed"
                 : arm == LeapArm::kDelete ? "leap second deletion armed"
                                           : "leap second disarmed");
  }
}

void ClockProcess::tick(std::int64_t now_ns) {
  next_tick_ns_ = now_ns + kTickNs;
  apply_clock(discipline_.tick(now_ns));
  if (now_ns >= next_leap_check_ns_) {
    next_leap_check_ns_ = now_ns + 60 * common::kNsPerSecond;
    check_leap_file();
  }
  if (settings_.rtc) settings_.rtc->tick(discipline_.status().synchronized, now_ns, realtime_now());
  if (now_ns - last_drift_write_ns_ >= kDriftWriteIntervalNs && discipline_.status().synchronized) {
    write_drift("hourly");
    last_drift_write_ns_ = now_ns;
  }
}

void ClockProcess::write_drift(const char* why) {
  if (!settings_.drift_file) return;
  std::string error;
  if (settings_.drift_file->write(discipline_.status().frequency_ppb, &error)) {
    common::logf(LOG_INFO, "DRIFT: wrote %s (%s)", settings_.drift_file->path().c_str(), why);
  } else {
    common::logf(LOG_ERR, "DRIFT: %s", error.c_str());
  }
}

void ClockProcess::send_clock_state() {
  if (!supervisor_.running()) return;
  ipc::Envelope envelope;
  ipc::ClockState* state = envelope.mutable_clock_state();
  *state = messages_.current_state();
  const DisciplineStatus status = discipline_.status();
  state->set_sync_state(status.synchronized ? ipc::SYNC_STATE_SYNCHRONIZED
                                            : ipc::SYNC_STATE_UNSYNCHRONIZED);
  state->set_poll_log2s(std::clamp(status.poll_log2s, 3, 17));
  state->set_frequency_ppb(status.frequency_ppb);
  state->set_offset_ns(status.offset_ns);
  state->set_jitter_ns(status.jitter_ns);
  state->set_wander_ppb(status.wander_ppb);
  state->set_leap(leap_indicator(status));
  state->set_stepped(pending_stepped_);
  pending_stepped_ = false;
  std::string error;
  if (!supervisor_.channel()->send(envelope, &error)) {
    common::logf(LOG_WARNING, "IPC: cannot send ClockState: %s", error.c_str());
  }
}

void ClockProcess::on_child_exit(std::int64_t now_ns) {
  // Read everything the child sent before it died: its SIGSYS report comes
  // last, after whatever log records it queued. The child is dead, so the
  // queue is finite (one socket buffer); the bound is only a safeguard.
  if (supervisor_.running()) {
    std::vector<std::uint8_t> buffer;
    for (int i = 0; i < 4096; ++i) {
      const auto status = supervisor_.channel()->receive(buffer);
      if (status == common::IpcChannel::ReceiveStatus::kMessage) {
        apply(messages_.handle(buffer, now_ns));
      } else if (status == common::IpcChannel::ReceiveStatus::kTruncated) {
        apply(messages_.handle_oversized(now_ns));
      } else {
        break;
      }
    }
  }
  if (auto cause = supervisor_.reap(now_ns)) {
    common::logf(LOG_ERR, "SUPERVISE: %s", cause->c_str());
  }
}

void ClockProcess::shutdown() {
  supervisor_.stop(2 * common::kNsPerSecond);
  // Only a frequency we trust is persisted: one read from the drift file at
  // start, or one the discipline has measured and synchronized with.
  if (settings_.initial_frequency_ppb || discipline_.status().synchronized) write_drift("exit");
  common::logf(LOG_NOTICE, "EXIT: ntpd stopped");
}

}  // namespace ntpd::clock
