// The network process's confinement, applied once at startup before any
// network byte is read: chroot to the empty jail, drop to the unprivileged
// user, drop every capability, no_new_privs, then the seccomp allowlist.
// The only code in ntpd-net that changes credentials or loads a filter.
#pragma once

#include <sys/types.h>

#include <string>

namespace ntpd::net {

struct SandboxSpec {
  std::string jail_dir;
  uid_t uid = 0;
  gid_t gid = 0;
};

// On failure returns false with the step that failed; the caller exits.
bool enter_sandbox(const SandboxSpec& spec, std::string* error);

}  // namespace ntpd::net
