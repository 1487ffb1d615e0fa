// PidFile: open, lock (F_OFD_SETLK), write and unlink ntpd's pid file.
// The only code that touches the pid file. Never blocks on the lock, never
// follows a symlink, never unlinks a path that no longer names the locked file.
#include "ntpd-clock/pid_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>

namespace ntpd::clock {
namespace {

// Bounds the open/lock/verify loop when other starters keep unlinking the file.
constexpr int kMaxAcquireAttempts = 8;
constexpr mode_t kPidFileMode = 0644;

std::string errno_text(int err) { return std::strerror(err); }

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// True if `path` still names the file open as `fd`.
bool path_names_fd(const std::string& path, int fd) {
  struct stat by_fd {};
  struct stat by_path {};
  if (::fstat(fd, &by_fd) != 0 || ::lstat(path.c_str(), &by_path) != 0) return false;
  return same_file(by_fd, by_path);
}

// The pid another ntpd wrote into the locked file, if it is readable.
std::optional<long long> read_pid(int fd) {
  std::array<char, 32> buffer{};
  ssize_t n = ::pread(fd, buffer.data(), buffer.size(), 0);
  if (n <= 0) return std::nullopt;
  std::string_view text(buffer.data(), static_cast<std::size_t>(n));
  long long pid = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || ptr == text.data() || pid <= 0) return std::nullopt;
  if (ptr != text.data() + text.size() && *ptr != '\n') return std::nullopt;
  return pid;
}

bool write_pid(int fd, pid_t pid, std::string* error) {
  std::array<char, 24> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size() - 1, pid);
  if (ec != std::errc()) {
    *error = "cannot format pid";
    return false;
  }
  *end++ = '\n';
  const auto length = static_cast<std::size_t>(end - buffer.data());
  if (::ftruncate(fd, 0) != 0) {
    *error = errno_text(errno);
    return false;
  }
  ssize_t written = 0;
  do {
    written = ::pwrite(fd, buffer.data(), length, 0);
  } while (written < 0 && errno == EINTR);
  if (written < 0 || static_cast<std::size_t>(written) != length) {
    *error = written < 0 ? errno_text(errno) : "short write";
    return false;
  }
  return true;
}

}  // namespace

PidFile::PidFile(std::string path, common::UniqueFd fd, pid_t pid)
    : path_(std::move(path)), fd_(std::move(fd)), pid_(pid), owner_(::getpid()) {}

PidFile::PidFile(PidFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      pid_(other.pid_),
      owner_(std::exchange(other.owner_, 0)) {}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    pid_ = other.pid_;
    owner_ = std::exchange(other.owner_, 0);
  }
  return *this;
}

PidFile::~PidFile() { remove(); }

PidFileResult PidFile::acquire(std::string path, pid_t pid) {
  PidFileResult result;
  for (int attempt = 0; attempt < kMaxAcquireAttempts; ++attempt) {
    common::UniqueFd fd(
        ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, kPidFileMode));
    if (!fd) {
      result.error = "cannot open pid file " + path + ": " + errno_text(errno);
      return result;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      result.error = "pid file " + path + " is not a regular file";
      return result;
    }
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0
    if (::fcntl(fd.get(), F_OFD_SETLK, &lock) != 0) {
      const int err = errno;
      if (err != EAGAIN && err != EACCES) {
        result.error = "cannot lock pid file " + path + ": " + errno_text(err);
        return result;
      }
      std::optional<long long> holder = read_pid(fd.get());
      result.error = holder ? "another ntpd (pid " + std::to_string(*holder) + ") is running"
                            : std::string("another ntpd is running");
      result.error += ": pid file " + path + " is locked";
      return result;
    }
    // The holder may have unlinked the file between our open and lock; then
    // we locked an orphan inode and must start over with the current path.
    if (!path_names_fd(path, fd.get())) continue;
    std::string error;
    if (::fchmod(fd.get(), kPidFileMode) != 0 || !write_pid(fd.get(), pid, &error)) {
      result.error =
          "cannot write pid file " + path + ": " + (error.empty() ? errno_text(errno) : error);
      return result;
    }
    result.pid_file.emplace(PidFile(std::move(path), std::move(fd), pid));
    return result;
  }
  result.error = "pid file " + path + " keeps being replaced by another process";
  return result;
}

bool PidFile::update_pid(pid_t pid, std::string* error) {
  if (!fd_) {
    *error = "pid file " + path_ + " is not held";
    return false;
  }
  std::string why;
  if (!write_pid(fd_.get(), pid, &why)) {
    *error = "cannot write pid file " + path_ + ": " + why;
    return false;
  }
  pid_ = pid;
  owner_ = ::getpid();
  return true;
}

void PidFile::remove() {
  if (!fd_) return;
  if (owner_ == ::getpid() && path_names_fd(path_, fd_.get())) ::unlink(path_.c_str());
  fd_.reset();
}

}  // namespace ntpd::clock
