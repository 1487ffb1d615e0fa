// Supervisor: keeps one ntpd-net running. Starts it, sends it NetConfig,
// reaps it, names the cause of its death (for a seccomp kill, the syscall),
// and restarts it with exponential backoff. It never re-reads configuration
// from disk: a fresh ntpd-net gets the NetConfig kept in memory and the
// same inherited sockets.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ipc_channel.h"
#include "ntpd-clock/spawn.h"
#include "ntpd-clock/validate.h"

namespace ntpd::clock {

// The restart delay after `consecutive_failures` deaths in a row (>= 1):
// 1 s, 2 s, 4 s, ... capped at 64 s. A child that ran for kStableRunNs
// resets the count.
std::int64_t restart_delay_ns(int consecutive_failures);
inline constexpr std::int64_t kStableRunNs = 60 * common::kNsPerSecond;

// One log line naming why ntpd-net ended, from its wait status and the
// SIGSYS report it may have sent.
std::string describe_net_exit(int wait_status, const std::optional<SeccompReport>& report);

class Supervisor {
 public:
  Supervisor(SpawnSpec spec, std::vector<std::uint8_t> net_config);

  // Spawns ntpd-net and queues NetConfig to it. False if it could not spawn
  // (a restart is then scheduled).
  bool start(std::int64_t now_ns);
  bool running() const { return pid_ > 0 && channel_ != nullptr; }
  pid_t pid() const { return pid_; }
  common::IpcChannel* channel() { return channel_.get(); }

  // Reaps ntpd-net if it has exited; returns the log line for its death and
  // schedules the restart. Call on SIGCHLD, after draining the channel.
  std::optional<std::string> reap(std::int64_t now_ns);
  void note_seccomp_report(const SeccompReport& report) { report_ = report; }

  // Monotonic time at which to start a fresh ntpd-net, or nullopt.
  std::optional<std::int64_t> restart_due_ns() const { return restart_due_ns_; }

  // A child that misbehaves beyond rejection (e.g. closes its end while
  // alive) is killed; reap() then restarts it.
  void kill_child();
  // Stops listening to ntpd-net (its end is closed or it is hostile);
  // the process is still reaped by reap().
  void close_channel() { channel_.reset(); }
  // Clean shutdown: SIGTERM, up to `grace_ns` to exit, then SIGKILL.
  void stop(std::int64_t grace_ns);

 private:
  SpawnSpec spec_;
  std::vector<std::uint8_t> net_config_;
  pid_t pid_ = -1;
  std::unique_ptr<common::IpcChannel> channel_;
  std::int64_t started_ns_ = 0;
  int consecutive_failures_ = 0;
  std::optional<std::int64_t> restart_due_ns_;
  std::optional<SeccompReport> report_;
};

}  // namespace ntpd::clock
