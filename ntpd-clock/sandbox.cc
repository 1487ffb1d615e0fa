// Clock process confinement. The seccomp allowlist is the union of three
// groups: what the clock loop itself calls, and what a fresh ntpd-net needs
// between fork and its own (stricter) filter, since a seccomp filter is
// inherited across fork and exec. Every other syscall kills the process.
#include "ntpd-clock/sandbox.h"

#include <linux/rtc.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>

#include "common/capabilities.h"
#include "common/seccomp_filter.h"

namespace ntpd::clock {
namespace {

// The clock loop: signals, timers, IPC, supervision, drift and log files,
// and the clock itself.
constexpr const char* kClockLoop[] = {"read",
                                      "write",
                                      "writev",
                                      "close",
                                      "ppoll",
                                      "poll",
                                      "recvmsg",
                                      "sendmsg",
                                      "sendto",
                                      "recvfrom",
                                      "socketpair",
                                      "fcntl",
                                      "dup",
                                      "dup2",
                                      "dup3",
                                      "signalfd4",
                                      "timerfd_create",
                                      "timerfd_settime",
                                      "timerfd_gettime",
                                      "rt_sigprocmask",
                                      "rt_sigreturn",
                                      "restart_syscall",
                                      "wait4",
                                      "waitid",
                                      "kill",
                                      "tgkill",
                                      "clone",
                                      "clone3",
                                      "fork",
                                      "vfork",
                                      "getpid",
                                      "gettid",
                                      "getppid",
                                      "clock_gettime",
                                      "clock_getres",
                                      "gettimeofday",
                                      "clock_nanosleep",
                                      "nanosleep",
                                      "clock_adjtime",
                                      "adjtimex",
                                      "openat",
                                      "newfstatat",
                                      "fstat",
                                      "lseek",
                                      "fsync",
                                      "fdatasync",
                                      "ftruncate",
                                      "renameat",
                                      "renameat2",
                                      "rename",
                                      "linkat",
                                      "unlink",
                                      "unlinkat",
                                      "brk",
                                      "mmap",
                                      "munmap",
                                      "mremap",
                                      "madvise",
                                      "mprotect",
                                      "futex",
                                      "getrandom",
                                      "exit",
                                      "exit_group",
                                      "sendmmsg",
                                      "connect",
                                      "socket",
                                      "uname",
                                      "sysinfo",
                                      "statx"};

// Between fork and ntpd-net's own filter: exec, the dynamic loader,
// libevent's setup and the sandbox steps (which only ever reduce privilege).
constexpr const char* kNetLaunch[] = {"execveat",
                                      "access",
                                      "faccessat",
                                      "faccessat2",
                                      "pread64",
                                      "arch_prctl",
                                      "set_tid_address",
                                      "set_robust_list",
                                      "rseq",
                                      "prlimit64",
                                      "readlink",
                                      "getcwd",
                                      "chroot",
                                      "chdir",
                                      "setgroups",
                                      "setresuid",
                                      "setresgid",
                                      "capget",
                                      "capset",
                                      "prctl",
                                      "seccomp",
                                      "epoll_create1",
                                      "epoll_ctl",
                                      "epoll_wait",
                                      "epoll_pwait",
                                      "getuid",
                                      "geteuid",
                                      "getgid",
                                      "getegid",
                                      "rt_sigaction",
                                      "sigaltstack",
                                      "sched_getaffinity",
                                      "sched_yield",
                                      "getrlimit",
                                      "recvmmsg",
                                      "getsockname",
                                      "getsockopt",
                                      "setsockopt",
                                      "bind",
                                      "shutdown",
                                      "pipe2",
                                      "eventfd2",
                                      "close_range"};

int g_log_fd = -1;

void write_all(int fd, const char* text) {
  if (fd < 0) return;
  const std::size_t len = std::strlen(text);
  [[maybe_unused]] ssize_t n = ::write(fd, text, len);
}

void report_clock_sigsys(int, siginfo_t* info, void*) {
  // Async-signal-safe: fixed buffers, the precomputed name table, write(2).
  char number[16];
  int value = info->si_syscall;
  int pos = static_cast<int>(sizeof number) - 1;
  number[pos] = '\0';
  do {
    number[--pos] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && pos > 0);
  for (int fd : {STDERR_FILENO, g_log_fd}) {
    write_all(fd, "[clock] SANDBOX: seccomp killed the clock process: forbidden syscall ");
    write_all(fd, common::syscall_name_from_table(info->si_syscall));
    write_all(fd, " (");
    write_all(fd, number + pos);
    write_all(fd, ")\n");
  }
  common::die_of_sigsys();
}

}  // namespace

bool restrict_clock_capabilities(std::string* error) {
  // CAP_SYS_TIME is the clock process's job. The others stay permitted (not
  // effective) only because exec as uid 0 hands the bounding set to a fresh
  // ntpd-net, which needs them to chroot, switch user and empty its own
  // bounding set; it drops them all before reading the network.
  // CAP_KILL is raised only around the kill(2) that stops or replaces
  // ntpd-net, which runs under another uid.
  return common::restrict_capabilities(
      {CAP_SYS_TIME, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT, CAP_SETPCAP, CAP_KILL},
      {CAP_SYS_TIME, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT, CAP_SETPCAP, CAP_KILL}, {CAP_SYS_TIME},
      error);
}

// Sanitizer builds only (tests): the runtime of a freshly exec'd ntpd-net
// reads /proc/self/maps with open(2) before its own filter exists, and the
// clock's exit-time leak check lists and stops threads.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::array<const char*, 5> kSanitizerRuntime = {"open", "getdents", "getdents64",
                                                          "ptrace", "ioctl"};
#else
constexpr std::array<const char*, 0> kSanitizerRuntime = {};
#endif

bool load_clock_seccomp(std::string* error) {
  common::SeccompFilter filter;
  bool ok = true;
  for (const char* name : kClockLoop) ok = filter.allow(name) && ok;
  for (const char* name : kNetLaunch) ok = filter.allow(name) && ok;
  for (const char* name : kSanitizerRuntime) ok = filter.allow(name) && ok;
  // ioctl only as the RTC keeper (RTC_SET_TIME) and stdio's isatty (TCGETS)
  // use it; the kernel reads the request as 32 bits.
  for (const unsigned long request :
       {static_cast<unsigned long>(RTC_SET_TIME), static_cast<unsigned long>(TCGETS)}) {
    ok = filter.allow_if("ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request)}) && ok;
  }
  if (!ok) {
    *error = filter.build_error();
    return false;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *error = std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
    return false;
  }
  return filter.load(error);
}

void install_clock_sigsys_reporter(int log_fd) {
  g_log_fd = log_fd;
  common::prepare_syscall_name_table();
  common::install_sigsys_handler(report_clock_sigsys);
}

}  // namespace ntpd::clock
