// Daemonizing ntpd: double fork, setsid, chdir("/"), umask 022, stdio to
// /dev/null, with a readiness channel so that the starting process exits 0
// only once the daemon says it initialized, and non-zero (with the daemon's
// message on its stderr) otherwise. Never returns in the starting process on
// success, and never lets the starting or intermediate process run atexit
// handlers or destructors (they _exit).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/unique_fd.h"

namespace ntpd::clock {

// The daemon's end of the readiness channel. Call exactly one of ready() or
// failed(); later calls do nothing. If the daemon dies or drops the notifier
// without calling either, the starting process exits 1 with "daemon exited
// before reporting startup". A default-constructed notifier (foreground
// mode) does nothing. Writes never raise SIGPIPE.
class DaemonReadyNotifier {
 public:
  DaemonReadyNotifier() = default;
  explicit DaemonReadyNotifier(common::UniqueFd fd) : fd_(std::move(fd)) {}

  // Initialization succeeded: the starting process exits 0.
  void ready();
  // Initialization failed: the starting process prints "ntpd: <message>" to
  // its stderr and exits with `exit_code` (clamped to 1..255).
  void failed(std::string_view message, int exit_code = 1);

  // True until ready() or failed() was called on a real channel.
  bool pending() const { return fd_.valid(); }
  // The channel fd (O_CLOEXEC), -1 once reported; for fd bookkeeping.
  int fd() const { return fd_.get(); }

 private:
  common::UniqueFd fd_;
};

struct DaemonizeResult {
  // Engaged in the daemon process: report startup through it.
  std::optional<DaemonReadyNotifier> notifier;
  // Set (and `notifier` empty) if daemonizing failed before the first fork;
  // the caller is still the original, attached process.
  std::string error;
};

// Returns only in the daemon (on success) or in the original process (on a
// failure before forking). The starting process waits for the daemon's
// report with no time limit: the report comes, or the daemon's death closes
// the channel. Flushes stdio before forking. Not thread-safe: call it before
// any thread exists.
DaemonizeResult daemonize_with_readiness();

// Convenience for callers with nothing to check after forking: daemonizes
// and reports ready at once. False with `error` set on failure.
bool daemonize(std::string* error);

}  // namespace ntpd::clock
