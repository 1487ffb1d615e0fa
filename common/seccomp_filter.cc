// libseccomp wrapper and the SIGSYS reporting helpers.
#include "common/seccomp_filter.h"

#include <linux/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ntpd::common {

SeccompFilter::SeccompFilter() : ctx_(seccomp_init(SCMP_ACT_TRAP)) {
  if (!ctx_) build_error_ = "seccomp_init failed";
}

bool SeccompFilter::allow(const char* name) { return allow_if(name, {}); }

bool SeccompFilter::allow_if(const char* name, std::initializer_list<scmp_arg_cmp> conditions) {
  if (!ctx_) return false;
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return true;
  const int rc = seccomp_rule_add_array(ctx_.get(), SCMP_ACT_ALLOW, nr,
                                        static_cast<unsigned int>(conditions.size()),
                                        conditions.size() == 0 ? nullptr : conditions.begin());
  if (rc != 0) {
    if (build_error_.empty()) {
      build_error_ = std::string("cannot allow ") + name + ": " + std::strerror(-rc);
    }
    return false;
  }
  return true;
}

bool SeccompFilter::fail_with(const char* name, int error_number) {
  if (!ctx_) return false;
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return true;
  const int rc =
      seccomp_rule_add(ctx_.get(), SCMP_ACT_ERRNO(static_cast<std::uint32_t>(error_number)), nr, 0);
  if (rc != 0) {
    if (build_error_.empty()) {
      build_error_ = std::string("cannot make ") + name + " fail: " + std::strerror(-rc);
    }
    return false;
  }
  return true;
}

bool SeccompFilter::load(std::string* error) {
  if (!ctx_ || !build_error_.empty()) {
    if (error != nullptr) *error = build_error_.empty() ? "no seccomp context" : build_error_;
    return false;
  }
  const int rc = seccomp_load(ctx_.get());
  if (rc != 0) {
    if (error != nullptr) *error = std::string("seccomp_load: ") + std::strerror(-rc);
    return false;
  }
  return true;
}

std::string syscall_name(int nr, std::uint32_t arch) {
  char* name = seccomp_syscall_resolve_num_arch(arch, nr);
  if (name == nullptr) return "unknown";
  std::string result(name);
  std::free(name);
  return result;
}

namespace {
constexpr int kNameTableSize = 512;
constexpr std::size_t kNameLength = 32;
std::array<std::array<char, kNameLength>, kNameTableSize> g_names{};
}  // namespace

void prepare_syscall_name_table() {
  for (int nr = 0; nr < kNameTableSize; ++nr) {
    const std::string name = syscall_name(nr);
    std::strncpy(g_names[nr].data(), name.c_str(), kNameLength - 1);
  }
}

const char* syscall_name_from_table(int nr) {
  if (nr < 0 || nr >= kNameTableSize || g_names[nr][0] == '\0') return "unknown";
  return g_names[nr].data();
}

bool install_sigsys_handler(void (*handler)(int, siginfo_t*, void*)) {
  struct sigaction action {};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  return sigaction(SIGSYS, &action, nullptr) == 0;
}

void die_of_sigsys() {
  // reboot(2) is in no allowlist, so this traps again; the handler was reset
  // by SA_RESETHAND and the kernel forces the default action. Even if it
  // were ever allowed, a bad magic number makes it a harmless EINVAL.
  syscall(SYS_reboot, 0, 0, 0, nullptr);
  _exit(128 + SIGSYS);
}

}  // namespace ntpd::common
