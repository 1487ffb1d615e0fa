// The client half of interleaved client/server mode (RFC 9769 section 2,
// chrony's xleave): what an association remembers of its last exchange so
// that the server's next, interleaved reply can complete it with the time
// the server's reply really left. Pure value type, owned by Association.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time_types.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {

// chrony MAX_CLIENT_INTERLEAVED_TX: after this many requests without a
// reply the server's memory of us is likely gone (or would hand back a very
// old transmit time), so ask in basic mode again.
inline constexpr int kMaxUnansweredInterleaved = 4;
// chrony MAX_SERVER_INTERVAL: a server holding a request longer than this
// between its receive and transmit timestamps is not answering it.
inline constexpr std::int64_t kMaxServerIntervalNs = 4 * common::kNsPerSecond;

// One completed request/response pair: T1, T2 and T4 (T3 arrives later).
struct OpenExchange {
  common::UnixNs t1;        // our request left (kernel TX timestamp if known)
  common::NtpTimestamp t2;  // the server received it (its receive field)
  common::UnixNs t4;        // its reply arrived (kernel RX timestamp)
  bool sampled = false;     // a basic reply already gave its sample
};

class InterleaveClient {
 public:
  explicit InterleaveClient(bool enabled) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  void reset();

  // Client request hook: when an exchange is open and the server has been
  // answering, ask for interleaved mode: origin = the server's receive
  // timestamp of that exchange, receive = a second random cookie (what an
  // interleaved reply echoes as origin; no clock state is revealed). The
  // transmit cookie is already set. Otherwise leaves the basic request.
  void fill_request(NtpPacket& x, std::uint64_t random_cookie);
  // Whether `origin` is the receive cookie of our outstanding request.
  bool matches(common::NtpTimestamp origin) const;
  // The exchange an interleaved reply completes, if one is open.
  const std::optional<OpenExchange>& open() const { return open_; }
  // A reply that matched our outstanding request (either cookie) arrived:
  // no more replies to this request. If `usable` (it passed the header
  // tests), this exchange becomes the open one; otherwise none is open.
  void on_reply(const OpenExchange& exchange, bool usable);
  // A kernel transmit timestamp that arrived after the reply: replaces the
  // open exchange's T1 if that is `user_t1` and `kernel_t1` is at most one
  // second later (otherwise it belongs to something else).
  void refine_t1(common::UnixNs user_t1, common::UnixNs kernel_t1);

 private:
  bool enabled_;
  std::optional<OpenExchange> open_;
  common::NtpTimestamp receive_cookie_;  // of the outstanding request; 0 = none
  int unanswered_ = 0;                   // requests since the last reply
};

// RFC 9769 section 2: the sample an interleaved reply completes: T1, T2
// and T4 of the open exchange and T3 = the reply's transmit field. A copy
// of `reply` whose receive field is the open exchange's T2, for the on-wire
// arithmetic; nullopt when T3 is not within kMaxServerIntervalNs after T2
// (not the transmit time of the reply to that request).
std::optional<NtpPacket> interleaved_timestamps(const NtpPacket& reply, const OpenExchange& open);

}  // namespace ntpd::net
