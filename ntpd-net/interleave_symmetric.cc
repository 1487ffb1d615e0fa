// Interleaved symmetric mode (see interleave_symmetric.h, RFC 9769 section 3).
#include "ntpd-net/interleave_symmetric.h"

namespace ntpd::net {

void InterleaveSymmetric::reset() {
  sent_receive_ = {};
  sent_transmit_ = {};
  next_slot_ = 0;
  received_since_send_ = false;
  peer_interleaved_ = false;
  unanswered_ = 0;
  open_.reset();
}

void InterleaveSymmetric::fill(NtpPacket& x, common::NtpTimestamp peer_receive,
                               std::optional<common::UnixNs> previous_t1) {
  const bool fresh = received_since_send_;
  received_since_send_ = false;
  sent_receive_ = x.receive_time;
  const bool interleave = enabled_ && fresh && previous_t1.has_value() && !peer_receive.is_zero() &&
                          !x.receive_time.is_zero() &&
                          (peer_interleaved_ || unanswered_ < kMaxUnansweredSymmetricInterleaved);
  if (interleave) {
    if (!peer_interleaved_) ++unanswered_;
    // RFC 9769 section 3: origin = the peer's receive timestamp (which it
    // recognises as its own), transmit = when our previous packet left.
    x.origin_time = peer_receive;
    x.transmit_time = common::to_ntp(*previous_t1);
  }
  sent_transmit_[next_slot_] = x.transmit_time;
  next_slot_ = (next_slot_ + 1) % sent_transmit_.size();
}

bool InterleaveSymmetric::sent_earlier(common::NtpTimestamp origin) const {
  if (!enabled_ || origin.is_zero()) return false;
  for (const common::NtpTimestamp& t : sent_transmit_) {
    if (t == origin) return true;
  }
  return false;
}

bool InterleaveSymmetric::matches(common::NtpTimestamp origin) const {
  return enabled_ && !sent_receive_.is_zero() && origin == sent_receive_;
}

void InterleaveSymmetric::on_packet(bool matched, bool interleaved, bool sampled,
                                    common::UnixNs our_t1, common::NtpTimestamp peer_receive,
                                    common::UnixNs arrived) {
  received_since_send_ = true;
  if (!matched) {
    open_.reset();
    return;
  }
  peer_interleaved_ = interleaved;
  if (interleaved) unanswered_ = 0;
  // This packet answered our latest one: T1 and T2 of that exchange and
  // our T4 are known; the peer's next interleaved packet brings T3.
  open_ = SymmetricExchange{our_t1, peer_receive, {}, arrived, sampled};
}

std::optional<SymmetricExchange> InterleaveSymmetric::completed(common::NtpTimestamp t3) const {
  if (!open_ || open_->t2.is_zero()) return std::nullopt;
  SymmetricExchange e = *open_;
  e.t3 = t3;
  return e;
}

}  // namespace ntpd::net
