// ntpd-net-testhooks: ntpd-net plus one test hook, built only as a test
// target and never installed. On SIGUSR2 it attempts a syscall the sandbox
// forbids (opening a path), so the system test can watch the seccomp kill,
// the parent's report naming the syscall, and the restart. Not reachable
// from the network.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "ntpd-net/net_process.h"

namespace {

void attempt_forbidden_syscall(int) { syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY); }

}  // namespace

int main(int argc, char** argv) {
  ntpd::net::NetHooks hooks;
  hooks.before_sandbox = [] {
    struct sigaction action {};
    action.sa_handler = attempt_forbidden_syscall;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR2, &action, nullptr);
  };
  return ntpd::net::run_net_process(argc, argv, hooks);
}
