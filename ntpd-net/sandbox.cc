// Sandbox for ntpd-net. Order matters: the bounding set can only be dropped
// while CAP_SETPCAP is still held (before setuid), chroot needs
// CAP_SYS_CHROOT, and the filter goes last so the steps above are not in
// the allowlist.
#include "ntpd-net/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "common/capabilities.h"
#include "common/seccomp_filter.h"

namespace ntpd::net {
namespace {

bool fail(std::string* error, const std::string& what) {
  if (error != nullptr) *error = what + ": " + std::strerror(errno);
  return false;
}

// Everything the event loop, the UDP path and the IPC link need after
// startup, and nothing that opens a path, executes, or changes identity.
bool build_net_policy(common::SeccompFilter& filter) {
  bool ok = true;
  for (const char* name :
       {// I/O on descriptors we already hold
        "read", "write", "writev", "close", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg",
        "recvfrom", "sendto", "fcntl", "getsockname", "getpeername", "getsockopt", "setsockopt",
        "connect", "bind", "shutdown",
        // the event loop
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "poll", "ppoll",
        // memory, and the runtime of the serving threads (server_workers.h)
        "brk", "munmap", "mremap", "madvise", "futex", "set_robust_list", "rseq", "eventfd2",
        // time and randomness
        "clock_gettime", "clock_getres", "clock_nanosleep", "timerfd_create", "timerfd_settime",
        "gettimeofday", "getrandom",
        // signals
        "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
        // identity queries and exit
        "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "exit", "exit_group",
        "newfstatat", "fstat"}) {
    ok = filter.allow(name) && ok;
  }
#if defined(__SANITIZE_ADDRESS__)
  // Sanitizer builds only (tests): the runtime probes memory with a pipe,
  // and for each new thread reads the CPU mask and sets up an alternate
  // signal stack.
  ok = filter.allow("pipe2") && ok;
  ok = filter.allow("sigaltstack") && ok;
  ok = filter.allow("sched_getaffinity") && ok;
#endif
  // Threads, never processes: clone only with CLONE_THREAD. clone3 passes
  // its flags in memory a filter cannot read, so it fails with ENOSYS and
  // glibc's pthread_create falls back to clone.
  ok = filter.allow_if("clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}) && ok;
  ok = filter.fail_with("clone3", ENOSYS) && ok;
  // Memory may never become executable.
  ok = filter.allow_if("mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}) && ok;
  ok = filter.allow_if("mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}) && ok;
  // The SIGSYS handler stays as installed: a compromised process cannot
  // replace it to survive a trap.
  ok = filter.allow_if("rt_sigaction", {SCMP_A0(SCMP_CMP_NE, SIGSYS)}) && ok;
  // abort() on an internal check failure must still produce SIGABRT.
  ok = filter.allow_if("tgkill", {SCMP_A2(SCMP_CMP_EQ, SIGABRT)}) && ok;
  // Client associations use their own UDP sockets (RFC 9109); nothing else.
  for (int family : {AF_INET, AF_INET6}) {
    ok = filter.allow_if("socket", {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)),
                                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff, SOCK_DGRAM)}) &&
         ok;
  }
  return ok;
}

}  // namespace

bool enter_sandbox(const SandboxSpec& spec, std::string* error) {
  if (spec.uid == 0 || spec.gid == 0) {
    errno = EINVAL;
    return fail(error, "refusing to run the network process as root");
  }
  if (chroot(spec.jail_dir.c_str()) != 0) return fail(error, "chroot(" + spec.jail_dir + ")");
  if (chdir("/") != 0) return fail(error, "chdir(/) in jail");
  // Drop the bounding set while CAP_SETPCAP is still ours; keep only what
  // the identity switch below needs, for the moment.
  std::string cap_error;
  if (!common::restrict_capabilities({}, {CAP_SETUID, CAP_SETGID}, {CAP_SETUID, CAP_SETGID},
                                     &cap_error)) {
    if (error != nullptr) *error = "capabilities: " + cap_error;
    return false;
  }
  const gid_t groups[] = {spec.gid};
  if (setgroups(1, groups) != 0) return fail(error, "setgroups");
  if (setresgid(spec.gid, spec.gid, spec.gid) != 0) return fail(error, "setresgid");
  if (setresuid(spec.uid, spec.uid, spec.uid) != 0) return fail(error, "setresuid");
  if (!common::clear_capabilities(&cap_error)) {
    if (error != nullptr) *error = "capabilities: " + cap_error;
    return false;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(error, "PR_SET_NO_NEW_PRIVS");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fail(error, "PR_SET_DUMPABLE");
  common::SeccompFilter filter;
  if (!build_net_policy(filter)) {
    if (error != nullptr) *error = "seccomp policy: " + filter.build_error();
    return false;
  }
  return filter.load(error);
}

}  // namespace ntpd::net
