// The classic BPF program of reuseport_steering.h. The kernel pulls the UDP
// header before running it (reuseport_select_sock), so offset 0 is the NTP
// header; negative offsets from SKF_NET_OFF read the IP header. A return
// value outside the group makes the kernel fall back to its own hash.
#include "ntpd-clock/reuseport_steering.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ntpd::clock {
namespace {

constexpr sock_filter stmt(unsigned short code, unsigned k) { return {code, 0, 0, k}; }
constexpr sock_filter jump(unsigned short code, unsigned k, unsigned char jt, unsigned char jf) {
  return {code, jt, jf, k};
}

// Fibonacci hashing: the multiply spreads consecutive addresses over the
// high bits, which the shift brings down before the modulo.
constexpr unsigned kGoldenRatio32 = 0x9e3779b1U;
constexpr unsigned kNtpModeClient = 3;  // RFC 5905 section 7.3, mode field

}  // namespace

std::vector<sock_filter> client_steering_program(unsigned sockets) {
  if (sockets == 0) sockets = 1;
  const auto net = static_cast<unsigned>(SKF_NET_OFF);
  std::vector<sock_filter> p = {
      // 0: first NTP byte (LI, VN, mode); a missing byte ends the program with 0.
      stmt(BPF_LD | BPF_B | BPF_ABS, 0),
      stmt(BPF_ALU | BPF_AND | BPF_K, 0x07),
      // 2: not a client request: socket 0.
      jump(BPF_JMP | BPF_JEQ | BPF_K, kNtpModeClient, 1, 0),
      stmt(BPF_RET | BPF_K, 0),
      // 4: IP version from the network header.
      stmt(BPF_LD | BPF_B | BPF_ABS, net + 0),
      stmt(BPF_ALU | BPF_RSH | BPF_K, 4),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),
      // 7: IPv4 source address (bytes 12..15), then on to the hash at 19.
      stmt(BPF_LD | BPF_W | BPF_ABS, net + 12),
      jump(BPF_JMP | BPF_JA, 10, 0, 0),
      // 9: IPv6 source address (bytes 8..23) folded by xor.
      stmt(BPF_LD | BPF_W | BPF_ABS, net + 8),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_LD | BPF_W | BPF_ABS, net + 12),
      stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_LD | BPF_W | BPF_ABS, net + 16),
      stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_LD | BPF_W | BPF_ABS, net + 20),
      stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      // 19: hash and pick.
      stmt(BPF_ALU | BPF_MUL | BPF_K, kGoldenRatio32),
      stmt(BPF_ALU | BPF_RSH | BPF_K, 16),
      stmt(BPF_ALU | BPF_MOD | BPF_K, sockets),
      stmt(BPF_RET | BPF_A, 0),
  };
  return p;
}

bool attach_client_steering(int fd, unsigned sockets, std::string* error) {
  std::vector<sock_filter> program = client_steering_program(sockets);
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  fprog.filter = program.data();
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
    *error = std::string("SO_ATTACH_REUSEPORT_CBPF: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace ntpd::clock
