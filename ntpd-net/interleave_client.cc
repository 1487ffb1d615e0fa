// Interleaved client/server mode, client side (see interleave_client.h).
#include "ntpd-net/interleave_client.h"

namespace ntpd::net {
namespace {

// splitmix64: a second cookie from the first (both are on the wire in the
// same packet, so deriving one from the other hides nothing extra).
std::uint64_t derive(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

void InterleaveClient::reset() {
  open_.reset();
  receive_cookie_ = {};
  unanswered_ = 0;
}

void InterleaveClient::fill_request(NtpPacket& x, std::uint64_t random_cookie) {
  receive_cookie_ = {};
  if (!enabled_) return;
  const bool ask = open_.has_value() && unanswered_ < kMaxUnansweredInterleaved;
  ++unanswered_;
  if (!ask) return;
  std::uint64_t cookie = derive(random_cookie);
  // The server tells interleaved from basic requests by receive != transmit,
  // and we tell the replies apart by which cookie comes back as origin.
  if (cookie == 0 || cookie == x.transmit_time.raw || cookie == open_->t2.raw) cookie ^= 1;
  x.origin_time = open_->t2;
  x.receive_time = common::NtpTimestamp{cookie};
  receive_cookie_ = x.receive_time;
}

bool InterleaveClient::matches(common::NtpTimestamp origin) const {
  return enabled_ && !receive_cookie_.is_zero() && origin == receive_cookie_;
}

void InterleaveClient::on_reply(const OpenExchange& exchange, bool usable) {
  receive_cookie_ = {};
  unanswered_ = 0;
  if (usable && !exchange.t2.is_zero()) {
    open_ = exchange;
  } else {
    open_.reset();
  }
}

void InterleaveClient::refine_t1(common::UnixNs user_t1, common::UnixNs kernel_t1) {
  if (!open_ || open_->t1 != user_t1) return;
  std::int64_t late_ns = 0;
  if (__builtin_sub_overflow(kernel_t1.ns, user_t1.ns, &late_ns)) return;
  if (late_ns >= 0 && late_ns < common::kNsPerSecond) open_->t1 = kernel_t1;
}

std::optional<NtpPacket> interleaved_timestamps(const NtpPacket& reply, const OpenExchange& open) {
  // Eras resolve against T4 (RFC 5905 section 6), as in the basic case.
  const std::int64_t t2 = common::from_ntp(open.t2, open.t4).ns;
  const std::int64_t t3 = common::from_ntp(reply.transmit_time, open.t4).ns;
  if (t3 < t2 || t3 - t2 >= kMaxServerIntervalNs) return std::nullopt;
  NtpPacket completed = reply;
  completed.receive_time = open.t2;
  return completed;
}

}  // namespace ntpd::net
