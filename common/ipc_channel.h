// IpcChannel: one end of the AF_UNIX SOCK_SEQPACKET socketpair between the
// two processes. Owns the fd; sends and receives whole datagrams, never
// blocks, never accepts descriptors from the peer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ipc_codec.h"
#include "common/unique_fd.h"

namespace ntpd::common {

class IpcChannel {
 public:
  explicit IpcChannel(UniqueFd fd) : fd_(std::move(fd)) {}

  enum class ReceiveStatus {
    kMessage,     // `buffer` holds one datagram of at most kMaxIpcMessageBytes
    kTruncated,   // the datagram was larger than the cap; discarded
    kWouldBlock,  // nothing queued
    kEof,         // the peer closed its end
    kError,
  };
  ReceiveStatus receive(std::vector<std::uint8_t>& buffer);

  // Encodes and sends one envelope. False (with a reason) if it is too large
  // or the socket refuses it; the channel stays usable.
  bool send(ipc::Envelope& envelope, std::string* error);
  bool send_bytes(const std::vector<std::uint8_t>& bytes, std::string* error);

  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace ntpd::common
