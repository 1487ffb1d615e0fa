// SeccompFilter: RAII over a libseccomp context for building an allowlist,
// plus the async-signal-safe pieces both processes use to name a forbidden
// syscall when the filter traps one. The policies (which syscalls) live in
// each process's sandbox.cc, not here.
#pragma once

#include <seccomp.h>

#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace ntpd::common {

class SeccompFilter {
 public:
  // Everything not allowed traps (SIGSYS): the process's handler reports
  // the syscall and then dies of SIGSYS.
  SeccompFilter();

  bool valid() const { return ctx_ != nullptr; }
  // Allows a syscall by name; unknown names on this architecture are
  // skipped (returns true) so one list serves every kernel.
  bool allow(const char* name);
  // Allows a syscall only when every argument comparison holds.
  bool allow_if(const char* name, std::initializer_list<scmp_arg_cmp> conditions);
  // Makes a syscall fail with `error_number` instead of trapping (for a
  // libc that probes a newer call and falls back, e.g. clone3 -> clone).
  bool fail_with(const char* name, int error_number);
  // Loads the filter into the kernel (sets no_new_privs first).
  bool load(std::string* error);
  // The first error seen while building, for the startup log.
  const std::string& build_error() const { return build_error_; }

 private:
  struct Release {
    void operator()(void* ctx) const { seccomp_release(ctx); }
  };
  std::unique_ptr<void, Release> ctx_;
  std::string build_error_;
};

// Name of a syscall number on the native architecture ("unknown" if none).
std::string syscall_name(int nr, std::uint32_t arch = SCMP_ARCH_NATIVE);

// Fills a static table of syscall names so that a SIGSYS handler can name
// the syscall without allocating. Call once before loading a filter.
void prepare_syscall_name_table();
// Async-signal-safe lookup into that table; "unknown" if out of range.
const char* syscall_name_from_table(int nr);

// Installs `handler` for SIGSYS with SA_RESETHAND, so the handler runs once
// and the next trap kills the process with SIGSYS.
bool install_sigsys_handler(void (*handler)(int, siginfo_t*, void*));

// From inside a SIGSYS handler installed above: makes the process die of
// SIGSYS by issuing a syscall no policy allows. Never returns.
[[noreturn]] void die_of_sigsys();

}  // namespace ntpd::common
