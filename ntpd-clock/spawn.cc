// fork + execveat for ntpd-net. Between fork and exec only async-signal-safe
// calls: everything the child needs is prepared before the fork.
#include "ntpd-clock/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace ntpd::clock {
namespace {

// Descriptors are parked here first so that moving them to their final
// numbers can never overwrite one still waiting to move.
constexpr int kParkingFloor = 64;

[[noreturn]] void child_fail() { _exit(127); }

[[noreturn]] void run_child(int child_ipc, const std::vector<int>& listen_fds, int program_fd,
                            char* const* argv, char* const* envp) {
  // Signals blocked for the parent's signalfd must not stay blocked.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGUSR1, SIGUSR2})
    signal(sig, SIG_DFL);

  int parked[64];
  const std::size_t count = listen_fds.size() + 1;
  if (count > 32) child_fail();
  // The program fd may sit on a number about to be reused: park it too.
  const int program = fcntl(program_fd, F_DUPFD_CLOEXEC, kParkingFloor);
  if (program < 0) child_fail();
  for (std::size_t i = 0; i < count; ++i) {
    const int source = i == 0 ? child_ipc : listen_fds[i - 1];
    parked[i] = fcntl(source, F_DUPFD_CLOEXEC, kParkingFloor);
    if (parked[i] < 0) child_fail();
  }
  for (std::size_t i = 0; i < count; ++i) {
    const int target = i == 0 ? kNetIpcFd : kNetFirstListenFd + static_cast<int>(i) - 1;
    if (dup2(parked[i], target) < 0) child_fail();  // dup2 clears FD_CLOEXEC
  }
  const int first_closed = kNetFirstListenFd + static_cast<int>(count) - 1;
  // Everything above the handed-over set goes, except the program fd which
  // is CLOEXEC and needed by execveat itself.
  for (int fd = first_closed; fd < 1024; ++fd) {
    if (fd != program) close(fd);
  }
  syscall(SYS_execveat, program, "", argv, envp, AT_EMPTY_PATH);
  child_fail();
}

std::vector<char*> to_c_array(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

SpawnedNet spawn_net(const SpawnSpec& spec, std::string* error) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    return {};
  }
  common::UniqueFd parent_end(pair[0]);
  common::UniqueFd child_end(pair[1]);
  std::vector<char*> argv = to_c_array(spec.argv);
  std::vector<char*> envp = to_c_array(spec.environment);
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return {};
  }
  if (pid == 0)
    run_child(child_end.get(), spec.listen_fds, spec.program_fd, argv.data(), envp.data());
  if (fcntl(parent_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    *error = std::string("fcntl: ") + std::strerror(errno);
  }
  return SpawnedNet{pid, std::move(parent_end)};
}

}  // namespace ntpd::clock
