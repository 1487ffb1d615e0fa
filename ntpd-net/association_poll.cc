// The poll process of RFC 5905 section 13 / A.5.7 for one association:
// when to send, the reach register, iburst and burst, backoff of a silent
// server, and the request bytes. Time and randomness are arguments; it
// never sends anything itself and never looks at a reply.
#include <algorithm>

#include "ntpd-net/association.h"

namespace ntpd::net {
namespace {

constexpr int kMissedPollsCap = 1'000'000;  // saturation only
// ntpd: after this many unanswered polls a MAXDISP dummy sample is shifted
// into the filter at each poll, so a silent server's dispersion grows.
constexpr int kDummyAfterMissedPolls = 3;
constexpr std::uint8_t kLeapNotInSync = 3;
constexpr std::uint8_t kMaxStratum = 15;

}  // namespace

Poll Association::poll_due(common::UnixNs now) const {
  if (demobilized_) return Poll{false, kNever};
  return Poll{now >= next_poll_, next_poll_};
}

std::int8_t Association::interval_log2s() const {
  if (config_.mode == AssociationMode::kClient) return host_poll_log2s_;
  // A.5.7.3 poll_update(): the smaller of host and peer poll, not below minpoll.
  return std::max(std::min(host_poll_log2s_, peer_poll_log2s_), min_poll_log2s_);
}

void Association::schedule_after(common::UnixNs from) {
  const std::int64_t interval_ns =
      burst_left_ > 0 ? kBurstSpacingNs : log2s_to_ns(interval_log2s());
  next_poll_ = common::UnixNs{from.ns + interval_ns};
}

void Association::start_poll_interval(common::UnixNs now) {
  // RFC 5905 A.5.7.1 poll(): every poll interval shifts the reach register
  // once; the extra packets of a burst belong to the interval that began it.
  if (polled_ && (reach_ & 1u) == 0) missed_polls_ = std::min(missed_polls_ + 1, kMissedPollsCap);
  polled_ = true;
  last_poll_ = now;
  const std::uint8_t old_reach = reach_;
  reach_ = static_cast<std::uint8_t>(reach_ << 1);
  if (reach_ == 0) {
    // Unreachable. The last reply just left the register: a new episode,
    // which iburst may shorten. After kUnreachablePolls silent intervals
    // back off one step per poll toward maxpoll (ntpd: unreach > NTP_UNREACH).
    if (old_reach != 0) iburst_armed_ = true;
    if (missed_polls_ >= kUnreachablePolls) {
      host_poll_log2s_ = std::min<std::int8_t>(static_cast<std::int8_t>(host_poll_log2s_ + 1),
                                               config_.maxpoll_log2s);
    }
    if (config_.iburst && iburst_armed_ && !rate_limited_) {
      burst_left_ = kIburstPackets - 1;
      iburst_armed_ = false;
    }
  } else {
    // Reachable: follow the system poll the discipline asks for, bounded.
    host_poll_log2s_ = std::clamp(system_.poll_log2s, min_poll_log2s_, config_.maxpoll_log2s);
    if (config_.burst && !rate_limited_ && filter_.has_estimate()) {
      burst_left_ = kBurstPackets - 1;
    }
  }
  if (missed_polls_ >= kDummyAfterMissedPolls && filter_.valid_samples() > 0) {
    filter_.add_dummy(now);
  }
}

void Association::fill_request(NtpPacket& x, common::UnixNs now, std::uint64_t random_cookie) {
  x.version = config_.version;
  x.poll_log2s = interval_log2s();
  if (config_.mode == AssociationMode::kClient) {
    // draft-ietf-ntp-data-minimization: a client request carries only its
    // version, mode, poll and an unpredictable transmit cookie; no clock
    // state is revealed, and an off-path attacker cannot guess the origin
    // a reply must echo. Zero would mean "not set", so it is never used.
    x.mode = static_cast<std::uint8_t>(Mode::kClient);
    x.leap = 0;
    x.transmit_time = common::NtpTimestamp{random_cookie == 0 ? 1 : random_cookie};
    xleave_.fill_request(x, random_cookie);
    return;
  }
  // RFC 5905 A.5.3 peer_xmit(): a symmetric peer computes its offset from
  // our packet, so it carries real timestamps and our system variables.
  x.mode = static_cast<std::uint8_t>(config_.mode == AssociationMode::kSymmetricActive
                                         ? Mode::kSymmetricActive
                                         : Mode::kSymmetricPassive);
  const bool synced =
      system_.synchronized && system_.stratum >= 1 && system_.stratum <= kMaxStratum;
  x.leap = synced ? static_cast<std::uint8_t>(system_.leap & 0x3) : kLeapNotInSync;
  x.stratum = synced ? system_.stratum : 0;
  x.refid = synced ? system_.refid : kRefidInit;
  x.precision_log2s = system_.precision_log2s;
  x.root_delay = common::to_ntp_short(system_.root_delay_ns);
  x.root_dispersion = common::to_ntp_short(system_.root_dispersion_ns);
  if (system_.reference_time.ns != 0) x.reference_time = common::to_ntp(system_.reference_time);
  x.origin_time = org_;
  if (!org_.is_zero()) x.receive_time = common::to_ntp(rec_local_);
  x.transmit_time = common::to_ntp(now);
  // RFC 9769 section 3: our previous packet's (kernel) transmit time.
  const std::optional<common::UnixNs> previous =
      xmt_wire_.is_zero() ? std::nullopt : std::optional<common::UnixNs>(xmt_local_);
  xsym_.fill(x, org_rx_, previous);
}

TransmitPlan Association::make_request(common::UnixNs now, std::uint64_t random_cookie) {
  TransmitPlan plan;
  if (demobilized_) {
    plan.next_poll = kNever;
    return plan;
  }
  if (burst_left_ > 0) {
    --burst_left_;
  } else {
    start_poll_interval(now);
  }
  NtpPacket request;
  fill_request(request, now, random_cookie);
  xmt_wire_ = request.transmit_time;
  xmt_local_ = now;
  plan.length = build_packet(request, plan.bytes);
  plan.send = plan.length == kHeaderBytes;
  schedule_after(now);
  plan.next_poll = next_poll_;
  return plan;
}

}  // namespace ntpd::net
