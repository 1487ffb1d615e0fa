// Association lifecycle and readout (see association.h): construction,
// the step reset and the PeerSummary handed to selection. The on-wire
// tests live in association_onwire.cc, the poll process in
// association_poll.cc; nothing here reads a clock or touches a socket.
#include "ntpd-net/association.h"

#include <algorithm>

namespace ntpd::net {
namespace {

AssociationConfig normalized(AssociationConfig c) {
  c.minpoll_log2s = std::clamp(c.minpoll_log2s, kPollFloorLog2s, kPollCeilingLog2s);
  c.maxpoll_log2s = std::clamp(c.maxpoll_log2s, c.minpoll_log2s, kPollCeilingLog2s);
  if (c.version < kMinVersion || c.version > kMaxVersion) c.version = kMaxVersion;
  if (c.mode != AssociationMode::kClient) {
    // ntpd: burst and iburst are for servers; a peer polls at its own pace.
    c.iburst = false;
    c.burst = false;
  }
  if (c.max_distance_ns <= 0) c.max_distance_ns = AssociationConfig{}.max_distance_ns;
  return c;
}

}  // namespace

std::string_view to_string(OnWireTest test) {
  switch (test) {
    case OnWireTest::kDuplicate:
      return "TEST1 duplicate";
    case OnWireTest::kBogus:
      return "TEST2 bogus origin";
    case OnWireTest::kUnsynchronized:
      return "TEST3 zero timestamp";
    case OnWireTest::kAccessDenied:
      return "TEST4 access denied";
    case OnWireTest::kAuthentication:
      return "TEST5 authentication";
    case OnWireTest::kBadSyncOrStratum:
      return "TEST6 unsynchronized or bad stratum";
    case OnWireTest::kBadHeader:
      return "TEST7 bad header";
    case OnWireTest::kDistance:
      return "TEST11 distance exceeded";
    case OnWireTest::kMalformed:
      return "malformed";
    case OnWireTest::kWrongMode:
      return "wrong mode";
    case OnWireTest::kBadRoundTrip:
      return "bad round trip";
  }
  return "unknown test";
}

std::string to_string(TestMask mask) {
  std::string out;
  for (int bit = 0; bit < 32; ++bit) {
    const auto test = static_cast<OnWireTest>(1u << bit);
    if (!mask.has(test)) continue;
    if (!out.empty()) out += ", ";
    out += to_string(test);
  }
  return out;
}

Association::Association(const AssociationConfig& config, common::UnixNs now,
                         std::int64_t startup_delay_ns)
    : config_(normalized(config)),
      filter_(ClockFilterConfig{config_.precision_log2s, config_.max_distance_ns}),
      min_poll_log2s_(config_.minpoll_log2s),
      host_poll_log2s_(config_.minpoll_log2s),
      peer_poll_log2s_(config_.maxpoll_log2s),
      xleave_(config_.xleave && config_.mode == AssociationMode::kClient),
      xsym_(config_.xleave && config_.mode != AssociationMode::kClient) {
  reset(now, startup_delay_ns);
}

void Association::reset(common::UnixNs now, std::int64_t startup_delay_ns) {
  // RFC 5905 A.5.5.2 clear(): everything but the configuration. ntpd also
  // keeps a KoD's consequences (the raised minpoll, demobilization).
  filter_.clear();
  host_poll_log2s_ = min_poll_log2s_;
  peer_poll_log2s_ = config_.maxpoll_log2s;
  reach_ = 0;
  missed_polls_ = 0;
  burst_left_ = 0;
  iburst_armed_ = true;
  polled_ = false;
  xmt_wire_ = {};
  xmt_local_ = {};
  org_ = {};
  rec_local_ = {};
  xleave_.reset();
  org_rx_ = {};
  xsym_.reset();
  leap_ = 3;
  stratum_ = 16;
  refid_ = 0;
  root_delay_ns_ = 0;
  root_dispersion_ns_ = 0;
  last_poll_ = now;
  const std::int64_t delay = std::clamp<std::int64_t>(startup_delay_ns, 0, log2s_to_ns(17));
  next_poll_ = demobilized_ ? kNever : common::UnixNs{now.ns + delay};
}

void Association::note_transmit_time(common::UnixNs sent) {
  // The reply came first: only the exchange interleaved mode keeps open
  // for the next reply can still use a better T1.
  if (xmt_wire_.is_zero()) {
    xleave_.refine_t1(xmt_local_, sent);
    return;
  }
  // A kernel TX timestamp cannot be far from the build time; a wild value
  // (clock stepped in between) is ignored rather than trusted as T1.
  std::int64_t diff = 0;
  if (__builtin_sub_overflow(sent.ns, xmt_local_.ns, &diff)) return;
  if (diff >= 0 && diff < common::kNsPerSecond) xmt_local_ = sent;
}

void fill_filter_summary(const ClockFilter& filter, common::UnixNs now, PeerSummary& s) {
  if (filter.has_estimate()) {
    s.offset_ns = filter.offset_ns();
    s.delay_ns = filter.delay_ns();
    s.jitter_ns = filter.jitter_ns();
  }
  s.dispersion_ns = filter.dispersion_ns(now);
  s.epoch_ns = filter.epoch().ns;
}

PeerSummary Association::summary(common::UnixNs now) const {
  PeerSummary s;
  s.id = config_.id;
  fill_filter_summary(filter_, now, s);
  s.root_delay_ns = root_delay_ns_;
  s.root_dispersion_ns = root_dispersion_ns_;
  s.stratum = stratum_;
  s.leap = leap_;
  s.refid = refid_;
  s.reach = reach_;
  s.poll_log2s = host_poll_log2s_;
  s.prefer = config_.prefer;
  s.noselect = config_.noselect || demobilized_;
  s.true_chimer = config_.true_chimer;
  s.is_local_clock = false;
  s.source_address_hash = config_.source_address_hash;
  s.address_refid = config_.address_refid;
  return s;
}

}  // namespace ntpd::net
