// Broadcast-client association core (see broadcast_client.h). The volley
// reuses the client on-wire code of association.h; mode 5 packets are
// checked here, where no origin timestamp can vouch for them.
#include "ntpd-net/broadcast_client.h"

#include <algorithm>

namespace ntpd::net {
namespace {

constexpr std::int64_t kMaxOneWayDelayNs = common::kNsPerSecond;

AssociationConfig volley_config(const BroadcastClientConfig& c) {
  AssociationConfig a;
  a.id = c.id;
  a.mode = AssociationMode::kClient;
  a.version = c.version;
  a.minpoll_log2s = kPollFloorLog2s;
  a.maxpoll_log2s = kPollFloorLog2s;
  a.iburst = true;  // the volley: kVolleyPackets requests 2 s apart
  a.precision_log2s = c.precision_log2s;
  a.max_distance_ns = c.max_distance_ns;
  a.source_address_hash = c.source_address_hash;
  a.address_refid = c.address_refid;
  return a;
}

// Reach after the broadcast intervals (the server's poll) that passed
// between the last packet and `at` without one: each shifts in a miss.
std::uint8_t reach_with_misses(std::uint8_t reach, common::UnixNs last_receive,
                               std::int8_t poll_log2s, common::UnixNs at) {
  if (last_receive.ns == 0) return reach;
  const std::int64_t interval = log2s_to_ns(poll_log2s);
  const std::int64_t missed =
      std::clamp<std::int64_t>((at.ns - last_receive.ns - interval / 2) / interval, 0, 8);
  return static_cast<std::uint8_t>(missed >= 8 ? 0 : reach << missed);
}

}  // namespace

BroadcastClient::BroadcastClient(const BroadcastClientConfig& config, common::UnixNs now,
                                 std::int64_t startup_delay_ns)
    : config_(config),
      volley_(volley_config(config), now, startup_delay_ns),
      filter_(ClockFilterConfig{config.precision_log2s, config.max_distance_ns}) {
  config_.delay_ns = std::clamp<std::int64_t>(config_.delay_ns, 0, kMaxOneWayDelayNs);
  calibrating_ = config_.volley;
  delay_ns_ = config_.delay_ns;
  reset(now, startup_delay_ns);
}

void BroadcastClient::reset(common::UnixNs now, std::int64_t startup_delay_ns) {
  // RFC 5905 clear() after a step: the samples are void. The calibrated
  // delay is a property of the path, not of our clock, so it is kept; an
  // unfinished volley starts over.
  filter_.clear();
  if (calibrating_) {
    volley_.reset(now, startup_delay_ns);
    volley_sent_ = 0;
    volley_replies_ = 0;
    min_round_trip_ns_ = 0;
  }
  last_transmit_ = {};
  last_receive_ = common::UnixNs{0};
  reach_ = 0;
  leap_ = 3;
  stratum_ = 16;
  refid_ = 0;
  root_delay_ns_ = 0;
  root_dispersion_ns_ = 0;
}

void BroadcastClient::set_system(const SystemVars& sys) {
  system_ = sys;
  volley_.set_system(sys);
}

Poll BroadcastClient::poll_due(common::UnixNs now) const {
  if (!calibrating_) return Poll{false, kNever};
  return volley_.poll_due(now);
}

TransmitPlan BroadcastClient::make_request(common::UnixNs now, std::uint64_t random_cookie) {
  if (!calibrating_) return TransmitPlan{false, {}, 0, kNever};
  if (volley_sent_ >= kVolleyPackets) {
    // The last request had its chance: calibrate with what came back.
    finish_volley();
    return TransmitPlan{false, {}, 0, kNever};
  }
  TransmitPlan plan = volley_.make_request(now, random_cookie);
  if (plan.send) ++volley_sent_;
  return plan;
}

void BroadcastClient::finish_volley() {
  calibrating_ = false;
  // RFC 5905 section 8: half the smallest round trip is the best estimate
  // of the one-way delay a broadcast packet saw. Without any reply keep
  // the configured broadcastdelay, as ntpd does with novolley.
  if (min_round_trip_ns_ > 0) delay_ns_ = std::min(min_round_trip_ns_ / 2, kMaxOneWayDelayNs);
}

ReceiveResult BroadcastClient::on_reply(std::span<const std::uint8_t> bytes,
                                        common::UnixNs receive_time, common::UnixNs now) {
  if (!calibrating_) {
    ReceiveResult late;
    late.failed.set(OnWireTest::kBogus);  // no request outstanding any more
    return late;
  }
  ReceiveResult result = volley_.on_reply(bytes, receive_time, now);
  if (result.action != ReplyAction::kAccepted && result.action != ReplyAction::kUnfit) {
    return result;
  }
  ++volley_replies_;
  const std::int64_t rtt = std::max<std::int64_t>(result.sample.delay_ns, 1);
  min_round_trip_ns_ = min_round_trip_ns_ == 0 ? rtt : std::min(min_round_trip_ns_, rtt);
  if (result.action == ReplyAction::kAccepted) {
    // A client/server sample is as good as any: it starts the filter.
    const PeerSummary s = volley_.summary(now);
    leap_ = s.leap;
    stratum_ = s.stratum;
    refid_ = s.refid;
    root_delay_ns_ = s.root_delay_ns;
    root_dispersion_ns_ = s.root_dispersion_ns;
    reach_ = static_cast<std::uint8_t>(reach_ | 1u);
    last_receive_ = receive_time;
    result.filter = filter_.add(FilterSample{result.sample.offset_ns, result.sample.delay_ns,
                                             result.sample.dispersion_ns, receive_time},
                                FilterContext{server_poll_log2s_, system_.synchronized});
  }
  if (volley_replies_ >= kVolleyReplies) finish_volley();
  return result;
}

ReceiveResult BroadcastClient::on_broadcast(std::span<const std::uint8_t> bytes,
                                            common::UnixNs receive_time, common::UnixNs now) {
  ReceiveResult result;
  const auto packet = parse_received(bytes, result);
  if (!packet) return result;
  if (packet->mode != static_cast<std::uint8_t>(Mode::kBroadcast)) {
    result.failed.set(OnWireTest::kWrongMode);
    return result;
  }
  if (packet->stratum == 0) result.kiss_code = packet->refid;
  // TEST3, and TEST1 widened: without an origin the transmit timestamp is
  // the only freshness a broadcast has, so it must move forward.
  if (packet->transmit_time.is_zero()) {
    result.failed.set(OnWireTest::kUnsynchronized);
  } else if (!last_transmit_.is_zero() && common::from_ntp(packet->transmit_time, receive_time) <=
                                              common::from_ntp(last_transmit_, receive_time)) {
    result.failed.set(OnWireTest::kDuplicate);
  }
  if (!packet->transmit_time.is_zero()) {
    result.failed.bits |= check_header(*packet, receive_time, /*interleaved=*/false).bits;
  }
  if (calibrating_) result.failed.set(OnWireTest::kBogus);  // ntpd: after the volley
  if (!result.failed.none()) return result;

  // Reach: one bit per broadcast interval, the misses in between shifted in.
  const std::int8_t poll = std::clamp(packet->poll_log2s, kPollFloorLog2s, kPollCeilingLog2s);
  reach_ = reach_with_misses(reach_, last_receive_, server_poll_log2s_, receive_time);
  reach_ = static_cast<std::uint8_t>((reach_ << 1) | 1u);
  server_poll_log2s_ = poll;
  last_transmit_ = packet->transmit_time;
  last_receive_ = receive_time;
  leap_ = packet->leap;
  stratum_ = packet->stratum;
  refid_ = packet->refid;
  root_delay_ns_ = common::from_ntp_short(packet->root_delay);
  root_dispersion_ns_ = common::from_ntp_short(packet->root_dispersion);

  // RFC 5905 section 8 for one-way packets: the server's clock read T3
  // when it sent, and d later we read T4; offset = T3 + d - T4 (reference
  // minus local), delay = 2d, dispersion from both precisions.
  const std::int64_t t3 = common::from_ntp(packet->transmit_time, receive_time).ns;
  Measurement m;
  m.offset_ns = t3 + delay_ns_ - receive_time.ns;
  m.delay_ns = std::max(2 * delay_ns_, precision_ns(config_.precision_log2s));
  m.dispersion_ns = precision_ns(packet->precision_log2s) + precision_ns(config_.precision_log2s);
  m.root_distance_ns = (root_delay_ns_ + m.delay_ns) / 2 + root_dispersion_ns_ + m.dispersion_ns;
  result.sample = m;
  // TEST11 as for any association: too far from the reference to use.
  if (m.root_distance_ns > config_.max_distance_ns + phi_ns(log2s_to_ns(poll))) {
    result.failed.set(OnWireTest::kDistance);
    result.action = ReplyAction::kUnfit;
    return result;
  }
  result.filter = filter_.add(FilterSample{m.offset_ns, m.delay_ns, m.dispersion_ns, receive_time},
                              FilterContext{poll, system_.synchronized});
  result.action = ReplyAction::kAccepted;
  (void)now;
  return result;
}

PeerSummary BroadcastClient::summary(common::UnixNs now) const {
  PeerSummary s;
  s.id = config_.id;
  fill_filter_summary(filter_, now, s);
  s.root_delay_ns = root_delay_ns_;
  s.root_dispersion_ns = root_dispersion_ns_;
  s.stratum = stratum_;
  s.leap = leap_;
  s.refid = refid_;
  s.reach = reach_with_misses(reach_, last_receive_, server_poll_log2s_, now);
  s.poll_log2s = server_poll_log2s_;
  s.source_address_hash = config_.source_address_hash;
  s.address_refid = config_.address_refid;
  return s;
}

}  // namespace ntpd::net
