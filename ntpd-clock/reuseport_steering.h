// Steering for a group of SO_REUSEPORT listening sockets (one address, one
// port): a classic BPF program the kernel runs per datagram to pick the
// socket. Client requests (NTP mode 3) go to the socket chosen by a hash of
// the source address, so every request of one client reaches the same
// ntpd-net thread and its rate-limit/MRU state stays whole without locks;
// everything else (symmetric modes 1/2, mode 6 control, short or odd
// packets) goes to socket 0, the main thread's, which owns associations.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace ntpd::clock {

// The program for a group of `sockets` sockets (1..kMaxServerThreads), in
// bind order. The kernel runs it with the UDP payload at offset 0 and the
// IP header at SKF_NET_OFF; IPv4 and IPv6 both handled.
std::vector<sock_filter> client_steering_program(unsigned sockets);

// Attaches that program to the group `fd` belongs to (SO_ATTACH_REUSEPORT_CBPF).
bool attach_client_steering(int fd, unsigned sockets, std::string* error);

}  // namespace ntpd::clock
