// The clock process's own confinement after startup: capabilities cut to
// CAP_SYS_TIME (effective) plus the few needed only to launch a fresh
// sandboxed ntpd-net (permitted, not effective), then a seccomp allowlist.
// The only code in the clock process that changes its privileges.
#pragma once

#include <string>

namespace ntpd::clock {

// Once at startup, after every file and socket is open.
bool restrict_clock_capabilities(std::string* error);
bool load_clock_seccomp(std::string* error);

// Installs the SIGSYS handler that names the forbidden syscall on stderr
// (and the log file, if one is open) before the process dies.
void install_clock_sigsys_reporter(int log_fd);

}  // namespace ntpd::clock
