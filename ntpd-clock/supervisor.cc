// Supervision of ntpd-net: spawn, reap, explain, restart with backoff.
#include "ntpd-clock/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include <cstring>

#include "common/log.h"
#include "common/seccomp_filter.h"

namespace ntpd::clock {

std::int64_t restart_delay_ns(int consecutive_failures) {
  const int exponent = consecutive_failures <= 1 ? 0 : std::min(consecutive_failures - 1, 6);
  return (std::int64_t{1} << exponent) * common::kNsPerSecond;
}

std::string describe_net_exit(int wait_status, const std::optional<SeccompReport>& report) {
  if (WIFEXITED(wait_status)) {
    const int code = WEXITSTATUS(wait_status);
    if (code == 127) return "ntpd-net could not be executed (status 127)";
    return "ntpd-net exited with status " + std::to_string(code);
  }
  if (!WIFSIGNALED(wait_status)) return "ntpd-net stopped for an unknown reason";
  const int sig = WTERMSIG(wait_status);
  if (sig == SIGSYS) {
    if (report) {
      return "ntpd-net killed by seccomp: forbidden syscall " +
             common::syscall_name(report->syscall_nr) + " (" + std::to_string(report->syscall_nr) +
             ")";
    }
    return "ntpd-net killed by seccomp (SIGSYS): forbidden syscall not reported";
  }
  if (sig == SIGKILL) return "ntpd-net killed by SIGKILL (out of memory, or kill -9)";
  const char* name = sigabbrev_np(sig);
  return "ntpd-net killed by signal SIG" + std::string(name != nullptr ? name : "?") + " (" +
         std::to_string(sig) + ")";
}

Supervisor::Supervisor(SpawnSpec spec, std::vector<std::uint8_t> net_config)
    : spec_(std::move(spec)), net_config_(std::move(net_config)) {}

bool Supervisor::start(std::int64_t now_ns) {
  restart_due_ns_.reset();
  report_.reset();
  std::string error;
  SpawnedNet spawned = spawn_net(spec_, &error);
  if (spawned.pid < 0) {
    ++consecutive_failures_;
    restart_due_ns_ = now_ns + restart_delay_ns(consecutive_failures_);
    common::logf(LOG_ERR, "SUPERVISE: cannot start ntpd-net: %s", error.c_str());
    return false;
  }
  pid_ = spawned.pid;
  started_ns_ = now_ns;
  channel_ = std::make_unique<common::IpcChannel>(std::move(spawned.ipc));
  if (!channel_->send_bytes(net_config_, &error)) {
    common::logf(LOG_ERR, "SUPERVISE: cannot send NetConfig: %s", error.c_str());
  }
  common::logf(LOG_INFO, "SUPERVISE: started ntpd-net, pid %d", static_cast<int>(pid_));
  return true;
}

std::optional<std::string> Supervisor::reap(std::int64_t now_ns) {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  std::string cause = describe_net_exit(status, report_);
  pid_ = -1;
  channel_.reset();
  if (now_ns - started_ns_ >= kStableRunNs) consecutive_failures_ = 0;
  ++consecutive_failures_;
  const std::int64_t delay = restart_delay_ns(consecutive_failures_);
  restart_due_ns_ = now_ns + delay;
  return cause + "; restarting in " + std::to_string(delay / common::kNsPerSecond) + " s";
}

void Supervisor::kill_child() {
  if (pid_ > 0) kill(pid_, SIGKILL);
}

void Supervisor::stop(std::int64_t grace_ns) {
  restart_due_ns_.reset();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const timespec step{0, 20'000'000};
  for (std::int64_t waited = 0; waited < grace_ns; waited += step.tv_nsec) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      channel_.reset();
      return;
    }
    nanosleep(&step, nullptr);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  channel_.reset();
}

}  // namespace ntpd::clock
