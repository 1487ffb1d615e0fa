// Client association sockets.
#include "ntpd-net/client_io.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {

std::optional<ServerAddress> parse_server_address(const std::string& host, std::uint16_t port) {
  ServerAddress a;
  a.text = host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof *v4;
    a.refid = ntohl(v4->sin_addr.s_addr);
    return a;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof *v6;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_length = 0;
    EVP_Digest(v6->sin6_addr.s6_addr, sizeof v6->sin6_addr.s6_addr, digest.data(), &digest_length,
               EVP_md5(), nullptr);
    a.refid = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
              (std::uint32_t{digest[2]} << 8) | digest[3];
    return a;
  }
  return std::nullopt;
}

namespace {

std::uint32_t refid_of_local(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      local.ss_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
  if (inet_ntop(local.ss_family, raw, text, sizeof text) == nullptr) return 0;
  const auto parsed = parse_server_address(text, 0);
  return parsed ? parsed->refid : 0;
}

}  // namespace

std::uint32_t ClientSocket::local_refid() const { return refid_of_local(fd_.get()); }

std::uint32_t local_refid_toward(const ServerAddress& server) {
  common::UniqueFd fd(socket(server.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd ||
      connect(fd.get(), reinterpret_cast<const sockaddr*>(&server.storage), server.length) != 0) {
    return 0;
  }
  return refid_of_local(fd.get());
}

std::optional<ClientSocket> ClientSocket::open(const ServerAddress& server, std::string* error) {
  common::UniqueFd fd(
      socket(server.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *error = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
      connect(fd.get(), reinterpret_cast<const sockaddr*>(&server.storage), server.length) != 0) {
    *error = "cannot connect to " + server.text + ": " + std::strerror(errno);
    return std::nullopt;
  }
  // A better T1, and what interleaved mode needs; basic mode works without.
  enable_tx_timestamps(fd.get());
  return ClientSocket(std::move(fd));
}

bool ClientSocket::send(std::span<const std::uint8_t> bytes, std::string* error) {
  if (::send(fd_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    *error = std::strerror(errno);
    return false;
  }
  return true;
}

void ClientSocket::drain(
    const std::function<void(std::span<const std::uint8_t>, common::UnixNs)>& on_datagram) {
  alignas(cmsghdr) std::array<std::uint8_t, 128> control{};
  std::array<std::uint8_t, 1100> buffer{};
  for (int i = 0; i < 16; ++i) {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) return;
    if ((msg.msg_flags & MSG_TRUNC) != 0) continue;
    common::UnixNs received{};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
          c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        received = common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
      }
    }
    if (received.ns == 0) received = realtime_now();
    on_datagram(std::span(buffer.data(), static_cast<std::size_t>(n)), received);
  }
}

}  // namespace ntpd::net
