// Opens the server's UDP sockets while the clock process still has the
// privilege to bind port 123; ntpd-net inherits them. The only code that
// creates listening sockets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::clock {

struct ListenSocketSpec {
  bool ipv4 = true;
  bool ipv6 = true;
  std::uint16_t port = 123;
  // -I: listen only on these (numeric addresses or interface names)
  // instead of the wildcard addresses.
  std::vector<std::string> interfaces;
};

struct OpenedListenSocket {
  common::UniqueFd fd;
  std::string address;  // "0.0.0.0" or "::"
  std::uint16_t port = 0;
  bool receive_only = false;  // a broadcast/multicast client socket (broadcast_sockets.h)
};

// Binds the wildcard address of each enabled family with kernel receive
// timestamps and PKTINFO on. A port already in use is a startup error (the
// message says another NTP daemon may hold it); IPv6 missing on the host is
// only a warning.
bool open_listen_sockets(const ListenSocketSpec& spec, std::vector<OpenedListenSocket>* out,
                         std::string* error);

}  // namespace ntpd::clock
