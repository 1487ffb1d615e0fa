// UdpEndpoint: one listening UDP socket (inherited from the clock process)
// and the datagram I/O on it: batches of requests with kernel receive
// timestamps, the local address a request came to (PKTINFO) so the reply
// leaves from the same address. The only code in ntpd-net that reads or
// writes server datagrams; the buffers are a DatagramBatch (no allocation
// per packet).
#pragma once

#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/time_types.h"
#include "common/unique_fd.h"
#include "ntpd-net/datagram_batch.h"
#include "ntpd-net/reply_note.h"

namespace ntpd::net {

// Decides the reply to one request: writes it into `reply`, fills `note`
// for the finalizer, and returns its length, or 0 to send nothing. Called
// with the kernel receive time.
using Responder = std::function<std::size_t(std::span<const std::uint8_t> request,
                                            const sockaddr_storage& from, common::UnixNs received,
                                            std::span<std::uint8_t> reply, ReplyNote* note)>;

class UdpEndpoint {
 public:
  UdpEndpoint(common::UniqueFd fd, std::string label, int family);

  int fd() const { return fd_.get(); }
  int family() const { return family_; }
  const std::string& label() const { return label_; }

  // Reads a bounded number of batches of queued datagrams into `batch`,
  // answers each batch with one sendmmsg, and returns when the socket is
  // empty or the bound is reached (the event loop calls again). Returns how
  // many datagrams it read (0: the wakeup was for the error queue).
  std::size_t drain(DatagramBatch& batch, const Responder& respond, const ReplyFinalizer& finalize);

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
// CLOCK_MONOTONIC in nanoseconds, for pacing (wakeup_pacer.h).
std::int64_t monotonic_ns();
// Nanoseconds (>= 0) as a timespec, for clock_nanosleep and timerfds.
timespec timespec_from_ns(std::int64_t ns);

}  // namespace ntpd::net
