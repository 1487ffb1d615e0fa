// ntpd-nsrun: runs a command as root of a fresh user+network namespace (see
// namespace_launch.h), prints its pid on stdout, and waits for it,
// forwarding SIGINT/SIGTERM. For the demo and for poking at the daemon by
// hand without touching the host's clock or port 123.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/testlib/namespace_launch.h"

namespace {
volatile sig_atomic_t g_child = -1;
void forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ntpd-nsrun PROGRAM [ARGS...]\n");
    return 2;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  const auto launched = ntpd::testlib::launch_in_namespace(args, "", &error);
  if (launched.pid < 0) {
    std::fprintf(stderr, "ntpd-nsrun: %s\n", error.c_str());
    return 1;
  }
  g_child = launched.pid;
  std::printf("%d\n", launched.pid);
  std::fflush(stdout);
  signal(SIGINT, forward);
  signal(SIGTERM, forward);
  int status = 0;
  while (waitpid(launched.pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
