// Daemonizing ntpd with a readiness channel (an AF_UNIX stream socketpair, so
// a vanished reader can never SIGPIPE the daemon). Owns fork/setsid/stdio
// redirection only; no policy on what "initialized" means. The starting and
// intermediate processes leave with _exit, never through destructors.
#include "ntpd-clock/daemonize.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

namespace ntpd::clock {
namespace {

constexpr char kReadyCode = 0;
constexpr std::size_t kMaxMessageBytes = 1024;
constexpr mode_t kDaemonUmask = 022;

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the starting process is gone; nobody to tell
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until EOF or `buffer` is full; returns the byte count.
std::size_t read_until_eof(int fd, std::span<char> buffer) {
  std::size_t total = 0;
  while (total < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + total, buffer.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  return total;
}

// The starting process: relay the daemon's verdict as our exit status. A
// ready byte ends the wait at once (a forked helper of the daemon may still
// hold the channel open); a failure report is read to EOF for its message.
[[noreturn]] void wait_for_daemon(common::UniqueFd channel, pid_t intermediate) {
  int status = 0;
  while (::waitpid(intermediate, &status, 0) < 0 && errno == EINTR) {
  }
  char code = 0;
  if (read_until_eof(channel.get(), std::span<char>(&code, 1)) == 0) {
    write_stderr("ntpd: daemon exited before reporting startup\n");
    ::_exit(1);
  }
  if (code == kReadyCode) ::_exit(0);
  std::array<char, kMaxMessageBytes> message{};
  const std::size_t n = read_until_eof(channel.get(), message);
  write_stderr("ntpd: " + std::string(message.data(), n) + "\n");
  ::_exit(static_cast<unsigned char>(code));
}

[[noreturn]] void fail_and_exit(common::UniqueFd channel, const std::string& message) {
  DaemonReadyNotifier notifier(std::move(channel));
  notifier.failed(message);
  ::_exit(1);
}

// In the daemon: detach from the working directory, umask and terminal.
bool detach_stdio(std::string* error) {
  if (::chdir("/") != 0) {
    *error = std::string("daemonize: chdir /: ") + std::strerror(errno);
    return false;
  }
  ::umask(kDaemonUmask);
  common::UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) {
    *error = std::string("daemonize: open /dev/null: ") + std::strerror(errno);
    return false;
  }
  for (int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::dup2(null_fd.get(), target) < 0) {
      *error = std::string("daemonize: dup2 /dev/null: ") + std::strerror(errno);
      return false;
    }
  }
  if (null_fd.get() <= STDERR_FILENO) null_fd.release();  // it is now one of 0..2
  return true;
}

}  // namespace

void DaemonReadyNotifier::ready() {
  if (!fd_) return;
  send_all(fd_.get(), std::string_view(&kReadyCode, 1));
  fd_.reset();
}

void DaemonReadyNotifier::failed(std::string_view message, int exit_code) {
  if (!fd_) return;
  const char code = static_cast<char>(std::clamp(exit_code, 1, 255));
  send_all(fd_.get(), std::string_view(&code, 1));
  send_all(fd_.get(), message.substr(0, kMaxMessageBytes));
  fd_.reset();
}

DaemonizeResult daemonize_with_readiness() {
  DaemonizeResult result;
  std::array<int, 2> pair{-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()) != 0) {
    result.error = std::string("daemonize: socketpair: ") + std::strerror(errno);
    return result;
  }
  common::UniqueFd parent_end(pair[0]);
  common::UniqueFd daemon_end(pair[1]);
  std::fflush(nullptr);  // nothing buffered may be written twice

  const pid_t intermediate = ::fork();
  if (intermediate < 0) {
    result.error = std::string("daemonize: fork: ") + std::strerror(errno);
    return result;
  }
  if (intermediate > 0) {
    daemon_end.reset();
    wait_for_daemon(std::move(parent_end), intermediate);
  }

  // Intermediate: a new session without a controlling terminal, then fork
  // again so the daemon is not a session leader and can never acquire one.
  parent_end.reset();
  if (::setsid() < 0) {
    fail_and_exit(std::move(daemon_end), std::string("daemonize: setsid: ") + std::strerror(errno));
  }
  const pid_t daemon = ::fork();
  if (daemon < 0) {
    fail_and_exit(std::move(daemon_end), std::string("daemonize: fork: ") + std::strerror(errno));
  }
  if (daemon > 0) ::_exit(0);

  std::string error;
  if (!detach_stdio(&error)) fail_and_exit(std::move(daemon_end), error);
  result.notifier.emplace(std::move(daemon_end));
  return result;
}

bool daemonize(std::string* error) {
  DaemonizeResult result = daemonize_with_readiness();
  if (!result.notifier) {
    *error = std::move(result.error);
    return false;
  }
  result.notifier->ready();
  return true;
}

}  // namespace ntpd::clock
