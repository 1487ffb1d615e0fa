// The network process's life: parse the few arguments the clock process
// passes, sandbox, wait for NetConfig, then serve on the inherited sockets
// from a libevent loop until the clock process goes away.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

namespace ntpd::net {

struct NetArgs {
  int ipc_fd = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string jail_dir;
  int log_priority = 5;  // LOG_NOTICE
};

// argv as the clock process builds it in ntpd-clock/spawn.cc:
//   ntpd-net --ipc-fd N --uid N --gid N --jail DIR [--log-priority N]
std::optional<NetArgs> parse_net_args(int argc, char** argv, std::string* error);

struct NetHooks {
  // Runs after the IPC link and SIGSYS reporter exist, before the sandbox.
  std::function<void()> before_sandbox;
};

// Returns the process exit status.
int run_net_process(int argc, char** argv, const NetHooks& hooks);

}  // namespace ntpd::net
