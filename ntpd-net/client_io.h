// ClientSocket: the UDP socket of one client association. Connected to the
// server's address from a kernel-chosen ephemeral port (RFC 9109), so
// replies from anyone else never reach the association; kernel receive
// timestamps on. The only code that sends and receives client datagrams.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "common/time_types.h"
#include "common/unique_fd.h"

namespace ntpd::net {

// A numeric IPv4/IPv6 address with the NTP port.
struct ServerAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;
  // RFC 5905 section 7.3: the refid that names this server downstream (the
  // IPv4 address, or the first four octets of the MD5 of the IPv6 address).
  std::uint32_t refid = 0;
};
std::optional<ServerAddress> parse_server_address(const std::string& host, std::uint16_t port);

// The refid naming the local address this host uses to reach `server`
// (the kernel's route choice, found by connecting a throwaway socket).
std::uint32_t local_refid_toward(const ServerAddress& server);

class ClientSocket {
 public:
  static std::optional<ClientSocket> open(const ServerAddress& server, std::string* error);

  int fd() const { return fd_.get(); }
  // The refid of our own address on this socket (RFC 5905 loop detection:
  // a server whose refid is our address is synchronized to us).
  std::uint32_t local_refid() const;
  bool send(std::span<const std::uint8_t> bytes, std::string* error);
  // Reads queued datagrams (bounded) and hands each to `on_datagram` with
  // its kernel receive time.
  void drain(const std::function<void(std::span<const std::uint8_t>, common::UnixNs)>& on_datagram);

 private:
  explicit ClientSocket(common::UniqueFd fd) : fd_(std::move(fd)) {}
  common::UniqueFd fd_;
};

}  // namespace ntpd::net
