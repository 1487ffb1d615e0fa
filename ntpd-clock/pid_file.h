// PidFile: the one owner of ntpd's pid file and of the lock that keeps a
// second ntpd from starting. The lock is an open-file-description lock, so it
// survives fork (daemonizing) and dies only with the last copy of the fd.
// Never follows a symlink, never unlinks a file it does not hold locked, and
// never unlinks from a forked copy that did not take ownership.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/unique_fd.h"

namespace ntpd::clock {

struct PidFileResult;

class PidFile {
 public:
  // Opens (creating, mode 0644, O_NOFOLLOW, O_CLOEXEC) `path`, takes an
  // exclusive non-blocking F_OFD_SETLK write lock, then truncates the file
  // and writes "<pid>\n". A stale file (left by a crashed ntpd, unlocked) is
  // taken over. If another process holds the lock the error reads
  // "another ntpd (pid N) is running: pid file PATH is locked". Retries (a
  // bounded number of times) if the file was unlinked or replaced between
  // open and lock, so two starters can never both win.
  static PidFileResult acquire(std::string path, pid_t pid);

  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  // Rewrites the file with a new pid (after daemonizing) and makes the
  // calling process the one allowed to remove the file. False with `error` set on
  // I/O failure.
  bool update_pid(pid_t pid, std::string* error);

  // Unlinks the file (only in the owning process, and only if the path
  // still names the locked file) and closes
  // the fd, which releases the lock once no forked copy remains. Idempotent;
  // the destructor calls it.
  void remove();

  // The locked fd (O_CLOEXEC), -1 after remove().
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  pid_t pid() const { return pid_; }

 private:
  PidFile(std::string path, common::UniqueFd fd, pid_t pid);

  std::string path_;
  common::UniqueFd fd_;
  pid_t pid_ = 0;
  pid_t owner_ = 0;  // the process allowed to unlink: the acquirer, or the last update_pid caller
};

struct PidFileResult {
  std::optional<PidFile> pid_file;  // engaged on success
  std::string error;                // one line for the log/terminal on failure
};

}  // namespace ntpd::clock
