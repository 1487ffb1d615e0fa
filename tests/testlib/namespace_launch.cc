// Implementation of namespace_launch.h.
#include "tests/testlib/namespace_launch.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/unique_fd.h"

namespace ntpd::testlib {
namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

void bring_loopback_up() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &request) == 0) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    ioctl(fd, SIOCSIFFLAGS, &request);
  }
  close(fd);
}

}  // namespace

LaunchedProcess launch_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, std::string* error) {
  return launch_in_namespace(argv, output_path, LaunchOptions{}, error);
}

LaunchedProcess launch_in_namespace(const std::vector<std::string>& argv,
                                    const std::string& output_path, const LaunchOptions& options,
                                    std::string* error) {
  const bool own_mounts = !options.bind_mounts.empty();
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return {};
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | (own_mounts ? CLONE_NEWNS : 0)) != 0) _exit(120);
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(121);
    if (read(go[0], &byte, 1) != 1) _exit(122);
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) _exit(123);
    if (own_mounts) {
      // Private propagation first, so nothing mounted here reaches the host.
      if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(124);
      for (const BindMount& m : options.bind_mounts) {
        if (mount(m.source.c_str(), m.target.c_str(), nullptr, MS_BIND, nullptr) != 0) _exit(125);
      }
    }
    bring_loopback_up();
    if (!output_path.empty()) {
      const int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (out >= 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        close(out);
      }
    }
    execv(args[0], args.data());
    _exit(127);
  }
  close(ready[1]);
  close(go[0]);
  char byte = 0;
  common::UniqueFd ready_read(ready[0]), go_write(go[1]);
  if (read(ready_read.get(), &byte, 1) != 1) {
    *error = "namespace child failed before unshare";
    return {};
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  if (!write_file(proc + "/uid_map", "0 0 65536\n") ||
      !write_file(proc + "/gid_map", "0 0 65536\n")) {
    *error = "cannot write uid_map/gid_map of " + std::to_string(pid);
    return {};
  }
  if (write(go_write.get(), &byte, 1) != 1) {
    *error = "namespace child vanished";
    return {};
  }
  return LaunchedProcess{pid};
}

bool with_network_namespace_of(pid_t pid, const std::function<void()>& body) {
  common::UniqueFd own(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  common::UniqueFd target(
      open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!own || !target) return false;
  if (setns(target.get(), CLONE_NEWNET) != 0) return false;
  body();
  return setns(own.get(), CLONE_NEWNET) == 0;
}

}  // namespace ntpd::testlib
