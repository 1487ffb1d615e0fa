// Datagram I/O for IpcChannel. MSG_TRUNC tells us a datagram was larger
// than the cap; a zero-byte read on SOCK_SEQPACKET is the peer's EOF.
#include "common/ipc_channel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ntpd::common {

IpcChannel::ReceiveStatus IpcChannel::receive(std::vector<std::uint8_t>& buffer) {
  buffer.resize(kMaxIpcMessageBytes);
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // No control buffer: descriptors the peer tries to pass are closed by the
  // kernel (MSG_CTRUNC) rather than landing in this process.
  for (;;) {
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer.clear();
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReceiveStatus::kWouldBlock;
      return ReceiveStatus::kError;
    }
    if (n == 0) {
      buffer.clear();
      return ReceiveStatus::kEof;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) {
      buffer.clear();
      return ReceiveStatus::kTruncated;
    }
    buffer.resize(static_cast<std::size_t>(n));
    return ReceiveStatus::kMessage;
  }
}

bool IpcChannel::send_bytes(const std::vector<std::uint8_t>& bytes, std::string* error) {
  for (;;) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    if (error != nullptr) *error = std::strerror(errno);
    return false;
  }
}

bool IpcChannel::send(ipc::Envelope& envelope, std::string* error) {
  auto bytes = encode_envelope(envelope);
  if (!bytes) {
    if (error != nullptr) *error = "message exceeds the IPC size cap";
    return false;
  }
  return send_bytes(*bytes, error);
}

}  // namespace ntpd::common
