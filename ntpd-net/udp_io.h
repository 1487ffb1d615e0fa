// UdpEndpoint: one listening UDP socket (inherited from the clock process)
// and the datagram I/O on it: kernel receive timestamps, the local address
// a request came to (PKTINFO) so the reply leaves from the same address.
// The only code in ntpd-net that reads or writes server datagrams.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/time_types.h"
#include "common/unique_fd.h"

namespace ntpd::net {

// Decides the reply to one request: writes it into `reply` and returns its
// length, or 0 to send nothing. Called with the kernel receive time.
using Responder =
    std::function<std::size_t(std::span<const std::uint8_t> request, const sockaddr_storage& from,
                              common::UnixNs received, std::span<std::uint8_t> reply)>;
// Finishes a reply just before it is sent (transmit timestamp, MAC);
// returns the final length, or 0 to send nothing. `reply` has room to grow.
using ReplyFinalizer =
    std::function<std::size_t(std::span<std::uint8_t> reply, std::size_t length)>;

class UdpEndpoint {
 public:
  UdpEndpoint(common::UniqueFd fd, std::string label, int family);

  int fd() const { return fd_.get(); }
  int family() const { return family_; }
  const std::string& label() const { return label_; }

  // Reads up to a bounded batch of queued datagrams and answers each.
  void drain(const Responder& respond, const ReplyFinalizer& finalize);

  std::uint64_t received() const { return received_; }
  std::uint64_t sent() const { return sent_; }

 private:
  common::UniqueFd fd_;
  std::string label_;
  int family_;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;
};

// Realtime now, for the receive-timestamp fallback and transmit stamps.
common::UnixNs realtime_now();

}  // namespace ntpd::net
