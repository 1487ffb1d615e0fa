// ntp-probe: sends one NTP client request and prints the reply as JSON.
//   ntp-probe [--netns-pid PID] [--timeout MS] ADDRESS [PORT]
// Exit status 0 if a matching reply arrived, 1 if not, 2 on usage errors.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/testlib/ntp_query.h"

int main(int argc, char** argv) {
  pid_t netns_pid = -1;
  int timeout_ms = 2000;
  std::string address;
  int port = 123;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--netns-pid" && i + 1 < argc) {
      netns_pid = static_cast<pid_t>(std::atoi(argv[++i]));
    } else if (arg == "--timeout" && i + 1 < argc) {
      timeout_ms = std::atoi(argv[++i]);
    } else if (address.empty()) {
      address = std::string(arg);
    } else {
      port = std::atoi(argv[i]);
    }
  }
  if (address.empty() || port <= 0 || port > 65535) {
    std::fprintf(stderr, "usage: ntp-probe [--netns-pid PID] [--timeout MS] ADDRESS [PORT]\n");
    return 2;
  }
  const auto reply =
      ntpd::testlib::query_ntp(address, static_cast<std::uint16_t>(port), timeout_ms, netns_pid);
  if (!reply) {
    std::printf("{\"reply\":null}\n");
    return 1;
  }
  std::printf("%s\n", ntpd::testlib::describe(*reply).c_str());
  return 0;
}
