// Starting one ntpd-net: a fresh socketpair, fork, descriptors moved to
// fixed numbers, exec of the binary the clock process opened at startup
// (execveat on that fd, so nothing is looked up on disk by path). The only
// code in the clock process that forks or execs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::clock {

// The descriptor numbers ntpd-net finds at exec.
inline constexpr int kNetIpcFd = 3;
inline constexpr int kNetFirstListenFd = 4;

struct SpawnSpec {
  int program_fd = -1;            // opened O_PATH|O_CLOEXEC at startup
  std::vector<int> listen_fds;    // become kNetFirstListenFd, +1, ...
  std::vector<std::string> argv;  // argv[0] first
  std::vector<std::string> environment;
};

struct SpawnedNet {
  pid_t pid = -1;
  common::UniqueFd ipc;  // the clock process's end of the socketpair
};

// Returns pid -1 with *error set when socketpair or fork fails. An exec
// failure shows up as the child exiting with status 127.
SpawnedNet spawn_net(const SpawnSpec& spec, std::string* error);

}  // namespace ntpd::clock
