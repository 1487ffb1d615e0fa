// Tests for PidFile (lock, content, removal, stale takeover, fork
// behaviour) and for daemonize's readiness relay, in a private temp dir.
// Forked children always leave with _exit and every wait is bounded.
#include "ntpd-clock/pid_file.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "ntpd-clock/daemonize.h"

namespace ntpd::clock {
namespace {

using ::testing::HasSubstr;

constexpr auto kChildTimeout = std::chrono::seconds(10);

// Waits for `pid`, killing it after kChildTimeout; returns the raw status.
int wait_bounded(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << pid << " timed out";
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Reads until EOF, giving up after kChildTimeout.
std::string read_all(int fd) {
  std::string text;
  std::array<char, 256> buffer{};
  const auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) return text;
    if (n > 0) {
      text.append(buffer.data(), static_cast<std::size_t>(n));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ADD_FAILURE() << "read timed out";
  return text;
}

std::string file_content(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "pid_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/ntpd.pid";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

TEST_F(PidFileTest, AcquireWritesPidAndHoldsFd) {
  PidFileResult r = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  EXPECT_TRUE(r.error.empty());
  EXPECT_GE(r.pid_file->fd(), 0);
  EXPECT_EQ(r.pid_file->path(), path_);
  EXPECT_EQ(file_content(path_), std::to_string(::getpid()) + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_NE(::fcntl(r.pid_file->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(PidFileTest, SecondAcquireInSameProcessFails) {
  PidFileResult first = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(first.pid_file.has_value()) << first.error;
  PidFileResult second = PidFile::acquire(path_, ::getpid());
  EXPECT_FALSE(second.pid_file.has_value());
  EXPECT_EQ(second.error, "another ntpd (pid " + std::to_string(::getpid()) +
                              ") is running: pid file " + path_ + " is locked");
  EXPECT_EQ(file_content(path_), std::to_string(::getpid()) + "\n");  // untouched
}

TEST_F(PidFileTest, SecondAcquireInForkedChildFailsNamingPid) {
  PidFileResult first = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(first.pid_file.has_value()) << first.error;
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    PidFileResult r = PidFile::acquire(path_, ::getpid());
    const bool got = r.pid_file.has_value();
    ssize_t ignored = ::write(pipe_fds[1], r.error.data(), r.error.size());
    (void)ignored;
    ::_exit(got ? 1 : 0);
  }
  ::close(pipe_fds[1]);
  common::UniqueFd reader(pipe_fds[0]);
  const std::string error = read_all(reader.get());
  const int status = wait_bounded(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child acquired a locked pid file";
  EXPECT_EQ(error, "another ntpd (pid " + std::to_string(::getpid()) + ") is running: pid file " +
                       path_ + " is locked");
}

TEST_F(PidFileTest, RemoveUnlinksAndReleases) {
  PidFileResult r = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  r.pid_file->remove();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(r.pid_file->fd(), -1);
  r.pid_file->remove();  // idempotent
  PidFileResult again = PidFile::acquire(path_, ::getpid());
  EXPECT_TRUE(again.pid_file.has_value()) << again.error;
}

TEST_F(PidFileTest, DestructorUnlinks) {
  {
    PidFileResult r = PidFile::acquire(path_, ::getpid());
    ASSERT_TRUE(r.pid_file.has_value()) << r.error;
    PidFile moved = std::move(*r.pid_file);  // the moved-from object must not unlink
    r.pid_file.reset();
    EXPECT_TRUE(std::filesystem::exists(path_));
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PidFileTest, StaleFileIsTakenOver) {
  {
    std::ofstream out(path_);
    out << "999999\n";
  }
  PidFileResult r = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  EXPECT_EQ(file_content(path_), std::to_string(::getpid()) + "\n");
}

TEST_F(PidFileTest, LongerStaleContentIsTruncated) {
  {
    std::ofstream out(path_);
    out << "1234567890123\ngarbage\n";
  }
  PidFileResult r = PidFile::acquire(path_, 42);
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  EXPECT_EQ(file_content(path_), "42\n");
}

TEST_F(PidFileTest, LockHeldByExitedChildIsFreed) {
  std::array<int, 2> ready{};
  std::array<int, 2> release{};
  ASSERT_EQ(::pipe(ready.data()), 0);
  ASSERT_EQ(::pipe(release.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    PidFileResult r = PidFile::acquire(path_, ::getpid());
    char c = r.pid_file ? 'y' : 'n';
    ssize_t ignored = ::write(ready[1], &c, 1);
    ignored = ::read(release[0], &c, 1);  // wait for the parent's go
    (void)ignored;
    ::_exit(0);  // no destructor: the file stays behind, stale
  }
  ::close(ready[1]);
  ::close(release[0]);
  common::UniqueFd ready_reader(ready[0]);
  common::UniqueFd release_writer(release[1]);
  char c = 0;
  ASSERT_EQ(::read(ready_reader.get(), &c, 1), 1);
  ASSERT_EQ(c, 'y');

  PidFileResult blocked = PidFile::acquire(path_, ::getpid());
  EXPECT_FALSE(blocked.pid_file.has_value());
  EXPECT_THAT(blocked.error, HasSubstr("another ntpd (pid " + std::to_string(child) + ")"));

  release_writer.reset();
  const int status = wait_bounded(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_TRUE(std::filesystem::exists(path_));
  PidFileResult taken = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(taken.pid_file.has_value()) << taken.error;
  EXPECT_EQ(file_content(path_), std::to_string(::getpid()) + "\n");
}

// The daemonize flow: the lock lives on in a forked copy, which takes
// ownership with update_pid; a copy that did not take ownership never unlinks.
TEST_F(PidFileTest, ForkedCopyKeepsLockAndTakesOwnership) {
  PidFileResult r = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  std::array<int, 2> ready{};
  std::array<int, 2> release{};
  ASSERT_EQ(::pipe(ready.data()), 0);
  ASSERT_EQ(::pipe(release.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    std::string error;
    char c = r.pid_file->update_pid(::getpid(), &error) ? 'y' : 'n';
    ssize_t ignored = ::write(ready[1], &c, 1);
    ignored = ::read(release[0], &c, 1);
    (void)ignored;
    r.pid_file->remove();  // the owner now: unlinks
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  common::UniqueFd ready_reader(ready[0]);
  common::UniqueFd release_writer(release[1]);
  char c = 0;
  ASSERT_EQ(::read(ready_reader.get(), &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_EQ(file_content(path_), std::to_string(child) + "\n");

  // The parent's copy is not the owner any more in spirit, but still the
  // same lock: a fresh acquire fails and names the child.
  PidFileResult blocked = PidFile::acquire(path_, ::getpid());
  EXPECT_THAT(blocked.error, HasSubstr("(pid " + std::to_string(child) + ")"));

  release_writer.reset();
  const int status = wait_bounded(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_FALSE(std::filesystem::exists(path_));
  r.pid_file->remove();  // path gone: closes only
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PidFileTest, ForkedNonOwnerDoesNotUnlink) {
  PidFileResult r = PidFile::acquire(path_, ::getpid());
  ASSERT_TRUE(r.pid_file.has_value()) << r.error;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    r.pid_file.reset();  // destructor in a non-owner copy
    ::_exit(0);
  }
  const int status = wait_bounded(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_TRUE(std::filesystem::exists(path_));
  PidFileResult blocked = PidFile::acquire(path_, ::getpid());
  EXPECT_FALSE(blocked.pid_file.has_value()) << "the lock must survive the child's close";
}

TEST_F(PidFileTest, RefusesSymlinkAndDirectory) {
  const std::string target = dir_ + "/target";
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  PidFileResult link = PidFile::acquire(path_, ::getpid());
  EXPECT_FALSE(link.pid_file.has_value());
  EXPECT_THAT(link.error, HasSubstr("cannot open pid file " + path_));
  EXPECT_FALSE(std::filesystem::exists(target));

  PidFileResult dir = PidFile::acquire(dir_, ::getpid());
  EXPECT_FALSE(dir.pid_file.has_value());
  EXPECT_THAT(dir.error, HasSubstr("pid file " + dir_));

  PidFileResult missing = PidFile::acquire(dir_ + "/no/such/dir/ntpd.pid", ::getpid());
  EXPECT_THAT(missing.error, HasSubstr("cannot open pid file"));
}

// daemonize_with_readiness: run in a forked child so the test process is
// never the one that forks off and exits. The child becomes the "starting
// process"; its exit status and stderr are what an init script would see.
struct DaemonOutcome {
  int exit_status = -1;
  std::string stderr_text;
};

template <typename DaemonBody>
DaemonOutcome run_daemonized(DaemonBody body) {
  std::array<int, 2> err{};
  if (::pipe(err.data()) != 0) return {};
  const pid_t starter = ::fork();
  if (starter < 0) return {};
  if (starter == 0) {
    ::dup2(err[1], STDERR_FILENO);
    ::close(err[0]);
    ::close(err[1]);
    DaemonizeResult result = daemonize_with_readiness();
    if (!result.notifier) ::_exit(100);  // failed before forking
    body(*result.notifier);
    ::_exit(0);
  }
  ::close(err[1]);
  common::UniqueFd reader(err[0]);
  DaemonOutcome outcome;
  const int status = wait_bounded(starter);
  outcome.stderr_text = read_all(reader.get());
  outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

TEST(DaemonizeTest, ReadyMakesStarterExitZeroAndDaemonIsDetached) {
  DaemonOutcome o = run_daemonized([](DaemonReadyNotifier& n) {
    std::string problem;
    char cwd[8] = {};
    if (::getcwd(cwd, sizeof cwd) == nullptr || std::string(cwd) != "/") problem += "cwd ";
    const mode_t old_mask = ::umask(0);
    if (old_mask != 022) problem += "umask ";
    if (::getsid(0) == ::getpid()) problem += "session-leader ";
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0 || !S_ISCHR(st.st_mode)) problem += "stderr ";
    if (problem.empty()) {
      n.ready();
    } else {
      n.failed(problem, 4);
    }
    n.failed("ignored after ready");
  });
  EXPECT_EQ(o.exit_status, 0) << o.stderr_text;
  EXPECT_EQ(o.stderr_text, "");
}

TEST(DaemonizeTest, FailureIsRelayedWithExitCode) {
  DaemonOutcome o = run_daemonized(
      [](DaemonReadyNotifier& n) { n.failed("cannot open /etc/ntp.conf: No such file", 3); });
  EXPECT_EQ(o.exit_status, 3);
  EXPECT_EQ(o.stderr_text, "ntpd: cannot open /etc/ntp.conf: No such file\n");
}

TEST(DaemonizeTest, DaemonDyingSilentlyIsAFailure) {
  DaemonOutcome o = run_daemonized([](DaemonReadyNotifier&) { ::_exit(0); });
  EXPECT_EQ(o.exit_status, 1);
  EXPECT_THAT(o.stderr_text, HasSubstr("daemon exited before reporting startup"));
}

TEST(DaemonizeTest, DefaultNotifierIsANoOp) {
  DaemonReadyNotifier n;
  EXPECT_FALSE(n.pending());
  n.ready();
  n.failed("x");
  EXPECT_EQ(n.fd(), -1);
}

}  // namespace
}  // namespace ntpd::clock
