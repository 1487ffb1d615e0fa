// The on-wire protocol of RFC 5905 section 8 / A.5.1.1 for one
// association: matching a reply to our request, the header tests, KoD and
// the offset/delay/dispersion computation. It must never act on a packet,
// a KoD included, whose origin is not our outstanding transmit timestamp.
#include <algorithm>
#include <optional>

#include "ntpd-net/association.h"

namespace ntpd::net {
namespace {

constexpr std::uint8_t kLeapNotInSync = 3;  // RFC 5905 figure 9
constexpr std::uint8_t kMaxStratum = 15;    // 16 = unsynchronized, 17+ reserved
constexpr std::uint32_t kKissRate = refid_from_ascii("RATE");
constexpr std::uint32_t kKissDeny = refid_from_ascii("DENY");
constexpr std::uint32_t kKissRestrict = refid_from_ascii("RSTR");

// RFC 5905 section 9.2 dispatch table: the PROC cells of our mode's row.
bool mode_accepted(AssociationMode ours, std::uint8_t theirs) {
  const auto mode = static_cast<Mode>(theirs);
  switch (ours) {
    case AssociationMode::kClient:
      return mode == Mode::kServer;
    case AssociationMode::kSymmetricActive:
      return mode == Mode::kSymmetricActive || mode == Mode::kSymmetricPassive;
    case AssociationMode::kSymmetricPassive:
      return mode == Mode::kSymmetricActive;
  }
  return false;
}

// RFC 5905 section 8 with T1 = our transmit, T2 = peer receive, T3 = peer
// transmit, T4 = our receive. nullopt when T4 is before T1 (a step in
// between) or max_rtt_ns or more after it (too stale to mean anything).
std::optional<Measurement> measure(const NtpPacket& p, common::UnixNs t1, common::UnixNs t4,
                                   std::int64_t max_rtt_ns, std::int8_t our_precision_log2s) {
  std::int64_t rtt_ns = 0;
  if (__builtin_sub_overflow(t4.ns, t1.ns, &rtt_ns) || rtt_ns < 0 || rtt_ns >= max_rtt_ns) {
    return std::nullopt;
  }
  // Eras resolve against T4 (RFC 5905 section 6): T2 and T3 land within
  // 2^31 s of it and T1 within 2^18 s, so no sum below can overflow.
  const std::int64_t t2 = common::from_ntp(p.receive_time, t4).ns;
  const std::int64_t t3 = common::from_ntp(p.transmit_time, t4).ns;
  const std::int64_t ours_ns = precision_ns(our_precision_log2s);
  Measurement m;
  m.offset_ns = ((t2 - t1.ns) + (t3 - t4.ns)) / 2;                               // theta
  m.delay_ns = std::max(rtt_ns - (t3 - t2), ours_ns);                            // delta
  m.dispersion_ns = precision_ns(p.precision_log2s) + ours_ns + phi_ns(rtt_ns);  // epsilon
  m.root_distance_ns = (common::from_ntp_short(p.root_delay) + m.delay_ns) / 2 +
                       common::from_ntp_short(p.root_dispersion) + m.dispersion_ns;
  return m;
}

// RFC 9769 section 3: T1 = when our packet left, T2 = the peer's receive
// field and T4 = our receive time of the peer's previous packet, which
// answered it; T3 = this packet's transmit field, when that previous packet
// really left. nullopt if T3 is not within a poll-ceiling hold after T2.
std::optional<Measurement> measure_symmetric(const NtpPacket& p, const SymmetricExchange& e,
                                             std::int64_t max_rtt_ns, std::int8_t precision) {
  const std::int64_t t2 = common::from_ntp(e.t2, e.t4).ns;
  const std::int64_t t3 = common::from_ntp(e.t3, e.t4).ns;
  if (t3 < t2 || t3 - t2 >= log2s_to_ns(kPollCeilingLog2s)) return std::nullopt;
  NtpPacket completed = p;
  completed.receive_time = e.t2;
  completed.transmit_time = e.t3;
  return measure(completed, e.t1, e.t4, max_rtt_ns, precision);
}

}  // namespace

std::optional<NtpPacket> parse_received(std::span<const std::uint8_t> bytes,
                                        ReceiveResult& result) {
  auto packet = parse_packet(bytes, &result.parse_error);
  if (!packet) result.failed.set(OnWireTest::kMalformed);
  return packet;
}

std::int64_t precision_ns(std::int8_t log2s) {
  return std::min(log2s_to_ns(log2s), kMaxDispersionNs);
}

// TEST6 and TEST7: RFC 5905 A.5.1.1 packet(), ntpd process_packet().
// An interleaved reply (RFC 9769) carries the transmit time of an earlier
// reply, which may precede the reference time: its receive time is the
// latest time the server vouches for. An interleaved symmetric packet
// (section 3) vouches for no time near its sending (its receive field is
// up to a poll old, its transmit older), so its reference time is not
// compared (latest_known = false).
TestMask check_header(const NtpPacket& p, common::UnixNs pivot, bool interleaved,
                      bool latest_known) {
  TestMask failed;
  // TEST6: the server is synchronized (LI != 3) at stratum 1..15 (0 is a
  // kiss code we did not act on, e.g. INIT or STEP), and its reference
  // time is not after its transmit time (a zero reftime means unknown).
  if (p.leap == kLeapNotInSync || p.stratum == 0 || p.stratum > kMaxStratum) {
    failed.set(OnWireTest::kBadSyncOrStratum);
  }
  const common::NtpTimestamp latest = interleaved ? p.receive_time : p.transmit_time;
  if (latest_known && !p.reference_time.is_zero() && !latest.is_zero() &&
      common::from_ntp(p.reference_time, pivot) > common::from_ntp(latest, pivot)) {
    failed.set(OnWireTest::kBadSyncOrStratum);
  }
  // TEST7: root delay / 2 + root dispersion below MAXDISP.
  const std::int64_t lambda_ns =
      common::from_ntp_short(p.root_delay) / 2 + common::from_ntp_short(p.root_dispersion);
  if (lambda_ns >= kMaxDispersionNs) failed.set(OnWireTest::kBadHeader);
  return failed;
}

Association::OriginCheck Association::check_origin(const NtpPacket& p) const {
  OriginCheck c;
  // TEST3: a zero transmit timestamp can be neither matched nor replay-checked.
  if (p.transmit_time.is_zero()) {
    c.failed.set(OnWireTest::kUnsynchronized);
  } else if (!org_.is_zero() && p.transmit_time == org_ &&
             (!config_.xleave || p.receive_time == org_rx_)) {
    // TEST1: the transmit timestamp we last accepted, again: a replay. In
    // interleaved mode a reply may repeat the earlier transmit time, so
    // (as chrony does) the receive timestamp must repeat too.
    c.failed.set(OnWireTest::kDuplicate);
  }
  if (p.origin_time.is_zero()) {
    // TEST3: the peer has not heard from us yet (symmetric startup), or a
    // server that does not echo our cookie.
    c.failed.set(OnWireTest::kUnsynchronized);
  } else if (xleave_.matches(p.origin_time) ||
             (xsym_.matches(p.origin_time) && p.origin_time != xmt_wire_)) {
    // RFC 9769 section 2: an interleaved reply echoes our receive cookie;
    // section 3: an interleaved peer echoes the receive field we sent.
    c.matched = true;
    c.interleaved = true;
  } else if (xmt_wire_.is_zero() || p.origin_time != xmt_wire_) {
    // TEST2: not an answer to our outstanding request (unsolicited, late
    // or forged). Client cookies are random, so off-path forgery is blind.
    c.failed.set(OnWireTest::kBogus);
  } else {
    c.matched = true;
  }
  if (p.receive_time.is_zero()) c.failed.set(OnWireTest::kUnsynchronized);

  const bool fresh = !p.transmit_time.is_zero() && !c.failed.has(OnWireTest::kDuplicate);
  if (config_.mode == AssociationMode::kClient) {
    c.record = fresh && c.matched;
  } else {
    // Symmetric: RFC 5905 A.5.1.1 keeps org/rec from every packet so the
    // peers can synchronize their exchange; we skip mismatched ones so a
    // forged packet cannot desynchronize a working pair. An interleaved
    // peer also keeps those answering an older packet of ours (the peer
    // proved it heard us), see InterleaveSymmetric::sent_earlier().
    c.record = fresh && (!c.failed.has(OnWireTest::kBogus) || xsym_.sent_earlier(p.origin_time));
  }
  return c;
}

void Association::record_peer(const NtpPacket& packet, common::UnixNs receive_time) {
  org_ = packet.transmit_time;
  org_rx_ = packet.receive_time;
  rec_local_ = receive_time;
  // A client request is answered once: a second reply to the same cookie
  // fails TEST2. Symmetric peers may send several packets per our poll.
  if (config_.mode == AssociationMode::kClient) xmt_wire_ = {};
}

bool Association::act_on_kiss(const NtpPacket& packet, common::UnixNs receive_time,
                              common::UnixNs now, ReceiveResult& result) {
  if (packet.refid == kKissRate) {
    // RFC 5905 section 7.4: RATE means poll less often. Like ntpd, raise
    // minpoll to the server's poll (at least one step) and stop bursts.
    record_peer(packet, receive_time);
    const int wanted = std::max<int>(host_poll_log2s_ + 1, packet.poll_log2s);
    min_poll_log2s_ =
        static_cast<std::int8_t>(std::clamp<int>(wanted, min_poll_log2s_, config_.maxpoll_log2s));
    host_poll_log2s_ = std::max(host_poll_log2s_, min_poll_log2s_);
    burst_left_ = 0;
    rate_limited_ = true;
    schedule_after(last_poll_);
    next_poll_ = std::max(next_poll_, common::UnixNs{now.ns + kBurstSpacingNs});
    result.action = ReplyAction::kRateLimited;
    return true;
  }
  if (packet.refid == kKissDeny || packet.refid == kKissRestrict) {
    // RFC 5905 section 7.4: DENY and RSTR mean stop talking to this server.
    record_peer(packet, receive_time);
    demobilized_ = true;
    burst_left_ = 0;
    next_poll_ = kNever;
    result.failed.set(OnWireTest::kAccessDenied);
    result.action = ReplyAction::kDenied;
    return true;
  }
  return false;  // INIT, STEP and unknown codes: an unsynchronized server (TEST6)
}

ReceiveResult Association::on_reply(std::span<const std::uint8_t> bytes,
                                    common::UnixNs receive_time, common::UnixNs now) {
  ReceiveResult result;
  const auto packet = parse_received(bytes, result);
  if (!packet) return result;
  if (demobilized_) {
    result.failed.set(OnWireTest::kAccessDenied);
    return result;
  }
  if (!mode_accepted(config_.mode, packet->mode)) {
    result.failed.set(OnWireTest::kWrongMode);
    return result;
  }
  if (packet->stratum == 0) result.kiss_code = packet->refid;

  const OriginCheck origin = check_origin(*packet);
  result.failed = origin.failed;
  // RFC 5905 section 7.4: a KoD counts only from the server we asked.
  if (packet->stratum == 0 && origin.matched && result.failed.none() &&
      act_on_kiss(*packet, receive_time, now, result)) {
    return result;
  }
  result.failed.bits |=
      check_header(*packet, receive_time, origin.interleaved,
                   !(origin.interleaved && config_.mode != AssociationMode::kClient))
          .bits;

  const common::UnixNs t1 = xmt_local_;
  const std::optional<OpenExchange> open = xleave_.open();
  // Symmetric: the exchange the peer's previous packet answered, before
  // this packet replaces it.
  const std::optional<SymmetricExchange> symmetric_open =
      origin.interleaved && xsym_.enabled() ? xsym_.completed(packet->transmit_time) : std::nullopt;
  if (origin.record) record_peer(*packet, receive_time);
  if (origin.matched && xleave_.enabled()) {
    // A basic reply samples its own exchange now; an interleaved one
    // leaves it open for the next reply to complete.
    xleave_.on_reply(OpenExchange{t1, packet->receive_time, receive_time, !origin.interleaved},
                     result.failed.none());
  }
  std::optional<Measurement> measurement;
  common::UnixNs sample_time = receive_time;
  if (origin.matched && !result.failed.has(OnWireTest::kUnsynchronized)) {
    // A server answers at once; a symmetric peer answers when it next
    // polls, so T4 - T1 includes its hold time of up to one poll interval.
    const std::int64_t max_rtt_ns = config_.mode == AssociationMode::kClient
                                        ? kMaxDispersionNs
                                        : 2 * log2s_to_ns(kPollCeilingLog2s);
    if (origin.interleaved && xsym_.enabled()) {
      result.interleaved = true;
      if (symmetric_open) {
        measurement =
            measure_symmetric(*packet, *symmetric_open, max_rtt_ns, config_.precision_log2s);
        sample_time = symmetric_open->t4;
        result.repeated_exchange = symmetric_open->sampled;
      } else {
        result.failed.set(OnWireTest::kBogus);
      }
    } else if (origin.interleaved) {
      // RFC 9769 section 2: the previous exchange, finished with the time
      // the server's previous reply really left.
      result.interleaved = true;
      const auto completed = open ? interleaved_timestamps(*packet, *open) : std::nullopt;
      if (completed) {
        measurement = measure(*completed, open->t1, open->t4, max_rtt_ns, config_.precision_log2s);
        sample_time = open->t4;
        result.repeated_exchange = open->sampled;
      } else {
        result.failed.set(OnWireTest::kBogus);
      }
    } else {
      measurement = measure(*packet, t1, receive_time, max_rtt_ns, config_.precision_log2s);
    }
    if (!measurement && !result.failed.has(OnWireTest::kBogus)) {
      result.failed.set(OnWireTest::kBadRoundTrip);
    }
  }
  if (origin.record && xsym_.enabled()) {
    // Its timestamps open the exchange its successor completes (even if a
    // header test failed: the successor's own header decides the sample).
    const bool usable = origin.matched && !result.failed.has(OnWireTest::kUnsynchronized) &&
                        !result.failed.has(OnWireTest::kDuplicate);
    xsym_.on_packet(usable, origin.interleaved,
                    !origin.interleaved && measurement && result.failed.none(), t1,
                    packet->receive_time, receive_time);
  }
  if (!result.failed.none() || !measurement) return result;  // kDropped
  accept_sample(*packet, *measurement, sample_time, now, result);
  return result;
}

void Association::accept_sample(const NtpPacket& packet, const Measurement& m,
                                common::UnixNs receive_time, common::UnixNs now,
                                ReceiveResult& result) {
  // RFC 5905 A.5.1.1 packet(): a reply passing TEST1-7 marks the server
  // reachable and updates the peer variables.
  reach_ = static_cast<std::uint8_t>(reach_ | 1u);
  missed_polls_ = 0;
  leap_ = packet.leap;
  stratum_ = packet.stratum;
  refid_ = packet.refid;
  root_delay_ns_ = common::from_ntp_short(packet.root_delay);
  root_dispersion_ns_ = common::from_ntp_short(packet.root_dispersion);
  if (config_.mode != AssociationMode::kClient) {
    // A.5.7 poll_update(): symmetric peers poll at the smaller of the two polls.
    peer_poll_log2s_ = std::clamp(packet.poll_log2s, kPollFloorLog2s, kPollCeilingLog2s);
    if (polled_ && burst_left_ == 0) {
      schedule_after(last_poll_);
      if (next_poll_ <= now) next_poll_ = common::UnixNs{now.ns + common::kNsPerSecond};
    }
  }
  result.sample = m;
  // TEST11 (ntpd peer_unfit): root distance above maxdist + PHI * poll.
  // The server answered, so reach counts, but the sample is not used.
  const std::int64_t limit_ns = config_.max_distance_ns + phi_ns(log2s_to_ns(host_poll_log2s_));
  if (m.root_distance_ns > limit_ns) {
    result.failed.set(OnWireTest::kDistance);
    result.action = ReplyAction::kUnfit;
    return;
  }
  if (result.repeated_exchange) {
    result.action = ReplyAction::kAccepted;
    return;
  }
  result.filter = filter_.add(FilterSample{m.offset_ns, m.delay_ns, m.dispersion_ns, receive_time},
                              FilterContext{host_poll_log2s_, system_.synchronized});
  result.action = ReplyAction::kAccepted;
}

}  // namespace ntpd::net
