// DatagramBatch: the preallocated buffers for one recvmmsg/sendmmsg round
// on a listening socket: up to kBatchSize requests with their sources,
// kernel receive timestamps and PKTINFO, and the replies built for them.
// All storage is reserved in the constructor; receive() and send() never
// allocate. One batch per serving thread (not thread-safe).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "common/time_types.h"
#include "ntpd-net/reply_note.h"

namespace ntpd::net {

// Requests bigger than this are truncated by the kernel and dropped: no
// NTP packet we answer is that large.
inline constexpr std::size_t kMaxDatagram = 1024;
inline constexpr int kBatchSize = 64;
// Replies per sendmmsg: each reply's transmit timestamp is read at most
// this many sends before it leaves (a loopback send takes a few us), while
// the syscall is still shared.
inline constexpr int kSendChunk = 8;

// Finishes a reply just before it is sent (transmit timestamp, MAC);
// returns the final length, or 0 to send nothing. `reply` has room to grow.
using ReplyFinalizer = std::function<std::size_t(std::span<std::uint8_t> reply, std::size_t length,
                                                 const ReplyNote& note)>;

class DatagramBatch {
 public:
  DatagramBatch();
  ~DatagramBatch();
  DatagramBatch(const DatagramBatch&) = delete;
  DatagramBatch& operator=(const DatagramBatch&) = delete;

  // One recvmmsg(MSG_DONTWAIT) of up to kBatchSize datagrams from `fd`.
  // Returns how many arrived (0 when none was queued or on an error, which
  // the next readiness retries). Forgets the previous batch's replies.
  int receive(int fd);

  // For 0 <= i < the count receive() returned:
  std::span<const std::uint8_t> request(int i) const;
  const sockaddr_storage& from(int i) const;
  // The kernel receive timestamp (SO_TIMESTAMPNS), or the time of the
  // recvmmsg return when the kernel gave none.
  common::UnixNs received_at(int i) const;
  bool truncated(int i) const;
  std::span<std::uint8_t> reply_buffer(int i);
  ReplyNote* note(int i);
  // A reply of `length` bytes is in reply_buffer(i); 0 sends nothing.
  void set_reply(int i, std::size_t length);

  // Finalizes the pending replies in order, kSendChunk at a time, each
  // chunk right before the sendmmsg that carries it (so a transmit stamp is
  // taken as late as batching allows), from the address each request came
  // to (PKTINFO). Returns how many were sent; a full socket buffer drops the
  // rest (counted by the caller as received but not sent).
  int send(int fd, const ReplyFinalizer& finalize);
  // How many replies so far asked for a kernel transmit timestamp (the
  // interleaved ones): the caller drains the error queue only after those.
  std::uint64_t tx_timestamps_requested() const { return tx_requested_; }

 private:
  // sendmmsg of out[0, pending), retried past partial writes; returns how
  // many left.
  int send_front(int fd, int pending);

  struct Storage;
  std::unique_ptr<Storage> storage_;
  int count_ = 0;
  std::uint64_t tx_requested_ = 0;
};

}  // namespace ntpd::net
