// The server half of interleaved client/server mode (RFC 9769 section 2,
// chrony's xleave): decides whether a client request is interleaved, turns
// the basic reply into an interleaved one, and remembers every reply's
// receive and transmit timestamps in an InterleaveStore. Pure code: the
// shell passes the times and the kernel's transmit timestamps in.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/time_types.h"
#include "ntpd-net/interleave_store.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {

// How many replies the server remembers (about 32 bytes each).
inline constexpr std::size_t kInterleaveCapacity = 8192;
// A kernel transmit timestamp later than this after the user-space stamp
// belongs to something else (chrony uses the same one-second bound).
inline constexpr std::int64_t kMaxTransmitLateNs = common::kNsPerSecond;

// The client a reply went to, for the store: its address without the port
// (a client may send each request from a new port, RFC 9109).
std::uint64_t interleave_client_key(const sockaddr_storage& from);

// RFC 9769 section 2: a client request (mode 3) is interleaved when its
// origin equals the receive timestamp of an earlier reply to the same
// client that we still remember, and its receive and transmit fields are
// non-zero and differ. Returns when that earlier reply left, if so.
std::optional<common::UnixNs> interleaved_previous_transmit(const NtpPacket& request,
                                                            std::uint64_t client,
                                                            const InterleaveStore& store);

// Rewrites a built basic reply (48+ bytes) into the interleaved one: origin
// = the request's receive field, transmit = when the earlier reply left.
// The receive field (this request's arrival) stays. False if too short.
bool make_interleaved_reply(std::span<std::uint8_t> reply, common::NtpTimestamp request_receive,
                            common::UnixNs previous_transmit);

// One reply between prepare() and sent(): kept with the datagram (in its
// ReplyNote) so a whole batch can be prepared before any of it is sent.
struct InterleavePending {
  bool remember = false;     // a mode 4 reply: save its timestamps once sent
  bool interleaved = false;  // rewritten as interleaved: do not restamp transmit
  common::NtpTimestamp key;  // the receive timestamp the reply carries
  std::uint64_t client = 0;
};

class InterleaveServer {
 public:
  InterleaveServer(std::size_t capacity, std::uint64_t hash_seed) : store_(capacity, hash_seed) {}

  // After respond() wrote a basic reply to `request` into reply[0, length):
  // makes it interleaved when the request asks for it (then .interleaved:
  // the shell must not restamp the transmit field). A reply that is not
  // sent is simply never passed to sent().
  InterleavePending prepare(std::span<const std::uint8_t> request, std::uint64_t client,
                            std::span<std::uint8_t> reply, std::size_t length);
  // The prepared reply is about to leave at `now` (its provisional
  // transmit time, until kernel_transmit refines it).
  void sent(const InterleavePending& reply, common::UnixNs now);
  // A datagram the kernel looped back from a server socket's error queue
  // with its software transmit timestamp: refines our own mode 4 reply's
  // entry. False when it is not one of ours or the time is implausible.
  bool kernel_transmit(std::span<const std::uint8_t> datagram, common::UnixNs sent);

  const InterleaveStore& store() const { return store_; }
  std::uint64_t interleaved_replies() const { return interleaved_; }
  std::uint64_t kernel_transmit_times() const { return kernel_stamps_; }

 private:
  InterleaveStore store_;
  std::uint64_t interleaved_ = 0;
  std::uint64_t kernel_stamps_ = 0;  // entries refined by kernel_transmit
};

}  // namespace ntpd::net
