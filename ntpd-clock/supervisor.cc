// Supervision of ntpd-net: spawn, reap, explain, restart with backoff.
#include "ntpd-clock/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "common/capabilities.h"
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

namespace {

// ntpd-net runs under another uid, so signalling it needs CAP_KILL, which
// the clock process keeps permitted but not effective (see sandbox.cc).
bool signal_net(pid_t pid, int sig) {
  std::string error;
  if (!common::set_effective(CAP_KILL, true, &error)) {
    common::logf(LOG_ERR, "SUPERVISE: cannot raise CAP_KILL: %s", error.c_str());
  }
  const bool sent = kill(pid, sig) == 0;
  const int saved = errno;
  common::set_effective(CAP_KILL, false, &error);
  if (!sent) {
    common::logf(LOG_ERR, "SUPERVISE: cannot signal ntpd-net (pid %d): %s", static_cast<int>(pid),
                 std::strerror(saved));
  }
  return sent;
}

bool wait_for_exit(pid_t pid, std::int64_t limit_ns) {
  const timespec step{0, 20'000'000};
  for (std::int64_t waited = 0; waited < limit_ns; waited += step.tv_nsec) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
    nanosleep(&step, nullptr);
  }
  return false;
}

}  // namespace

void Supervisor::kill_child() {
  if (pid_ > 0) signal_net(pid_, SIGKILL);
}

void Supervisor::stop(std::int64_t grace_ns) {
  restart_due_ns_.reset();
  if (pid_ <= 0) return;
  // Closing our end is the polite stop: ntpd-net exits on EOF.
  channel_.reset();
  signal_net(pid_, SIGTERM);
  if (!wait_for_exit(pid_, grace_ns)) {
    signal_net(pid_, SIGKILL);
    if (!wait_for_exit(pid_, grace_ns)) {
      common::logf(LOG_ERR, "SUPERVISE: ntpd-net (pid %d) did not exit", static_cast<int>(pid_));
    }
  }
  pid_ = -1;
}

}  // namespace ntpd::clock
