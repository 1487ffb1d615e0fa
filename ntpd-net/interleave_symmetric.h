// Interleaved symmetric mode (RFC 9769 section 3, chrony's xleave on a
// peer line): each peer sends in its transmit field the time its PREVIOUS
// packet really left (a kernel transmit timestamp), in its origin field the
// peer's last receive field and in its receive field when that arrived. A
// packet whose origin is the receive field we last sent is interleaved; it
// completes the exchange the peer's previous packet answered. Pure value
// type owned by Association; times are arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time_types.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {

// chrony-like fallback: interleaved packets sent to a peer that never
// answered one before it sends basic mode again for good (until reset).
inline constexpr int kMaxUnansweredSymmetricInterleaved = 3;
// How many of our recent transmit fields are remembered (see sent_earlier).
inline constexpr std::size_t kRememberedTransmits = 4;

// The four timestamps of a completed exchange (our local time scale for
// T1/T4, the peer's NTP timestamps for T2/T3).
struct SymmetricExchange {
  common::UnixNs t1;
  common::NtpTimestamp t2;
  common::NtpTimestamp t3;
  common::UnixNs t4;
  bool sampled = false;  // a basic packet already gave this exchange's sample
};

class InterleaveSymmetric {
 public:
  explicit InterleaveSymmetric(bool enabled) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  void reset();

  // Our packet hook, after the basic fields are set (origin = the peer's
  // transmit, receive = our receive time of it, transmit = now).
  // `peer_receive` is the receive field of the peer's last packet and
  // `previous_t1` the (kernel) transmit time of our previous packet. Sends
  // interleaved only when a packet arrived since our last one (so each
  // receive field names one packet of ours) and the peer answers
  // interleaved or has not yet refused kMaxUnansweredSymmetricInterleaved
  // times.
  void fill(NtpPacket& x, common::NtpTimestamp peer_receive,
            std::optional<common::UnixNs> previous_t1);
  // Whether `origin` is the receive field of our last packet.
  bool matches(common::NtpTimestamp origin) const;
  // Whether `origin` is the transmit field of one of our recent packets:
  // the peer heard us but answered an older packet (e.g. a basic peer that
  // rejected our interleaved one). Such a packet is recorded, never
  // sampled, so that our next origin names its transmit again and the
  // pair cannot stay locked in mutual TEST2 failures.
  bool sent_earlier(common::NtpTimestamp origin) const;

  // A packet from the peer was recorded. `matched`: it answered our latest
  // packet (sent at `our_t1`), interleaved or basic; `sampled`: it gave a
  // basic sample. `peer_receive` is its receive field, `arrived` its T4.
  void on_packet(bool matched, bool interleaved, bool sampled, common::UnixNs our_t1,
                 common::NtpTimestamp peer_receive, common::UnixNs arrived);
  // What an interleaved packet with transmit field `t3` completes: the
  // exchange the peer's previous packet answered (before on_packet).
  std::optional<SymmetricExchange> completed(common::NtpTimestamp t3) const;

 private:
  bool enabled_;
  common::NtpTimestamp sent_receive_;  // receive field of our last packet; 0 = none
  std::array<common::NtpTimestamp, kRememberedTransmits> sent_transmit_{};  // ring
  std::size_t next_slot_ = 0;
  bool received_since_send_ = false;
  bool peer_interleaved_ = false;  // the peer's last answer was interleaved
  int unanswered_ = 0;             // interleaved packets sent without an interleaved answer
  // The exchange the peer's last packet answered, waiting for its T3.
  std::optional<SymmetricExchange> open_;
};

}  // namespace ntpd::net
