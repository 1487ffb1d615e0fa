// Opens the server's UDP sockets while the clock process still has the
// privilege to bind port 123; ntpd-net inherits them. The only code that
// creates listening sockets.
#pragma once

#include <cstdint>
#include <optional>
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
  // Sockets per address, 1..kMaxServerThreads. Above 1 they form one
  // SO_REUSEPORT group steered by reuseport_steering.h: socket 0 for the
  // main thread, socket N for serving thread N. Only sockets of the same
  // owner (root here) can join such a group, so no other user can bind
  // into it and take a share of the traffic.
  int server_threads = 1;
};

struct OpenedListenSocket {
  common::UniqueFd fd;
  std::string address;  // "0.0.0.0" or "::"
  std::uint16_t port = 0;
  bool receive_only = false;   // a broadcast/multicast client socket (broadcast_sockets.h)
  unsigned server_thread = 0;  // 0: main thread; N: serving thread N
};

// Binds the wildcard address of each enabled family with kernel receive
// timestamps and PKTINFO on. A port already in use is a startup error (the
// message says another NTP daemon may hold it); IPv6 missing on the host is
// only a warning. If the steering program cannot be attached, the group
// shrinks to socket 0 alone (a warning): serving stays correct.
// --server-threads if given, else the online CPUs, at most
// kDefaultMaxServerThreads (a pool server gains little beyond that and each
// thread holds its own MRU list).
int server_thread_count(std::optional<int> requested);

bool open_listen_sockets(const ListenSocketSpec& spec, std::vector<OpenedListenSocket>* out,
                         std::string* error);

}  // namespace ntpd::clock
