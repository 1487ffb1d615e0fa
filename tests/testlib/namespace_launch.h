// Test support: run a program as root of a fresh user+network namespace
// whose uid/gid map covers 0-65535, with its private loopback up. There it
// can drop to an unprivileged user, chroot and load seccomp, yet it has no
// power over the host's real clock, and its port 123 is its own.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace ntpd::testlib {

struct LaunchedProcess {
  pid_t pid = -1;  // the program itself (it execs in place of the launcher child)
};

// A file or directory mounted over `target` inside the launched namespace
// only (e.g. a test's own hosts file over /etc/hosts).
struct BindMount {
  std::string source;
  std::string target;
};

struct LaunchOptions {
  // Non-empty: the child also gets a private mount namespace (CLONE_NEWNS,
  // owned by its user namespace, propagation private) with these mounts.
  std::vector<BindMount> bind_mounts;
};

// Forks; the child unshares CLONE_NEWUSER|CLONE_NEWNET, waits for the parent
// to write its uid_map/gid_map, brings "lo" up and execs argv. stdout and
// stderr of the child go to `output_path` if not empty. Needs real root.
LaunchedProcess launch_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, std::string* error);
// As above, with bind mounts in a private mount namespace.
LaunchedProcess launch_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, const LaunchOptions& options,
                                    std::string* error);

// Enters the network namespace of `pid` for the calling thread only while
// `body` runs (sockets created there stay in that namespace).
bool with_network_namespace_of(pid_t pid, const std::function<void()>& body);

}  // namespace ntpd::testlib
