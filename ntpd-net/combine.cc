// Combining, system peer choice, leap vote and clock update (RFC 5905
// section 11.2.3; ntpd 4.2.8 clock_select, clock_combine, clock_update).
// Pure ntpd-net core: no I/O, no clock reads, no heap. Never emits a
// SystemSample whose system peer is not a survivor.
#include "ntpd-net/combine.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ntpd-net/cluster.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {
namespace {

constexpr double kSecondsPerNs = 1e-9;

std::int64_t clamp_sample(std::int64_t d) {
  return std::clamp<std::int64_t>(d, 0, kMaxSampleDurationNs);
}

std::int64_t clamp_peer(std::int64_t d) {
  return std::clamp<std::int64_t>(d, 0, kMaxPeerDurationNs);
}

std::int64_t to_ns(double ns) {
  if (!(ns >= 0.0)) return 0;  // NaN too
  if (ns >= static_cast<double>(kMaxPeerDurationNs)) return kMaxPeerDurationNs;
  return std::llround(ns);
}

std::optional<std::size_t> find_incumbent(std::span<const PeerSummary> peers,
                                          const SurvivorList& survivors, const SystemState& state) {
  if (!state.system_peer_id) return std::nullopt;
  for (std::size_t i = 0; i < survivors.size; ++i) {
    if (peers[survivors.items[i].index].id == *state.system_peer_id) return i;
  }
  return std::nullopt;
}

AdvertisedState unsynchronized_state() {
  // ntpd's initial sys_refid; also the kiss code clients read as "not yet
  // synchronized" (RFC 5905 section 7.4).
  return AdvertisedState{false, 3, kStratumUnspec, refid_from_ascii("INIT"), 0, 0};
}

}  // namespace

CombinedEstimate combine_survivors(std::span<const PeerSummary> peers,
                                   const SurvivorList& survivors, std::size_t system_peer) {
  if (survivors.size == 0 || system_peer >= survivors.size) return {};
  const PeerSummary& p = peers[survivors.items[system_peer].index];
  // Work relative to theta_p: differences of offsets within +-2^61 fit, and
  // the doubles stay precise where the survivors are close together.
  double y = 0.0;
  double z = 0.0;
  double w = 0.0;
  std::int64_t lo = p.offset_ns;
  std::int64_t hi = p.offset_ns;
  for (std::size_t i = 0; i < survivors.size; ++i) {
    const Survivor& s = survivors.items[i];
    const std::int64_t theta = peers[s.index].offset_ns;
    const double x = 1.0 / static_cast<double>(std::max<std::int64_t>(s.root_distance_ns, 1));
    const auto d = static_cast<double>(theta - p.offset_ns);
    y += x;
    z += x * d;
    w += x * d * d;
    lo = std::min(lo, theta);
    hi = std::max(hi, theta);
  }
  const double mean = z / y;
  std::int64_t offset = p.offset_ns;
  if (std::isfinite(mean)) {
    const double rounded = std::round(mean) + static_cast<double>(p.offset_ns);
    offset = rounded <= static_cast<double>(lo)   ? lo
             : rounded >= static_cast<double>(hi) ? hi
                                                  : static_cast<std::int64_t>(rounded);
  }
  const auto psi = static_cast<double>(clamp_peer(p.jitter_ns));
  return {offset, to_ns(std::sqrt(w / y + psi * psi))};
}

std::uint8_t vote_leap(std::span<const PeerSummary> peers, const SurvivorList& survivors) {
  std::size_t insert = 0;
  std::size_t remove = 0;
  for (std::size_t i = 0; i < survivors.size; ++i) {
    const std::uint8_t leap = peers[survivors.items[i].index].leap;
    if (leap == 1) ++insert;
    if (leap == 2) ++remove;
  }
  // ntpd clock_update: leap_vote_ins > leap_vote_del && > sys_survivors / 2.
  const std::size_t half = survivors.size / 2;
  if (insert > remove && insert > half) return 1;
  if (remove > insert && remove > half) return 2;
  return 0;
}

double system_peer_metric(const PeerSummary& peer, const Survivor& survivor,
                          std::int64_t mindist_ns) {
  return survivor.selection_jitter_ns * kSecondsPerNs *
             (static_cast<double>(survivor.root_distance_ns) * kSecondsPerNs) +
         peer.stratum * (static_cast<double>(clamp_peer(mindist_ns)) * kSecondsPerNs);
}

PeerChoice choose_system_peer(std::span<const PeerSummary> peers, const SurvivorList& survivors,
                              const SystemParams& params, const SystemState& state) {
  const std::int64_t mindist = clamp_peer(params.mindist_ns);
  std::size_t best = 0;
  double best_metric = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < survivors.size; ++i) {
    if (peers[survivors.items[i].index].prefer) return {i, 0};
    const double m =
        system_peer_metric(peers[survivors.items[i].index], survivors.items[i], params.mindist_ns);
    if (m < best_metric) {
      best_metric = m;
      best = i;
    }
  }
  const std::optional<std::size_t> held = find_incumbent(peers, survivors, state);
  if (!held || *held == best) return {best, 0};

  const Survivor& challenger = survivors.items[best];
  const Survivor& incumbent = survivors.items[*held];
  const PeerSummary& cp = peers[challenger.index];
  const PeerSummary& ip = peers[incumbent.index];
  // (a) Hysteresis: a challenger must still win with its phi_s raised by
  // its own jitter psi (spread differences within the measurement noise
  // mean nothing, as in clustering's stop rule) and its Lambda raised by
  // one poll's dispersion sawtooth (PHI * 2^poll), at least mindist.
  const int poll = std::clamp<int>(ip.poll_log2s, 0, 17);
  const std::int64_t margin = std::max(mindist, kPhiNsPerSecond * (std::int64_t{1} << poll));
  Survivor handicapped = challenger;
  handicapped.selection_jitter_ns += static_cast<double>(clamp_peer(cp.jitter_ns));
  handicapped.root_distance_ns = challenger.root_distance_ns + margin;
  if (system_peer_metric(cp, handicapped, mindist) >= system_peer_metric(ip, incumbent, mindist)) {
    return {*held, 0};
  }
  // (b) ntpd clockhop: offsets that differ by mindist or more hop at once;
  // closer ones hop when the difference reaches a halving threshold.
  const std::int64_t x =
      cp.offset_ns > ip.offset_ns ? cp.offset_ns - ip.offset_ns : ip.offset_ns - cp.offset_ns;
  if (x >= mindist) return {best, 0};
  const std::int64_t hop = state.clockhop_ns <= 0 ? mindist : state.clockhop_ns / 2;
  if (x < hop) return {*held, hop};
  return {best, 0};
}

AdvertisedState clock_update(const PeerSummary& system_peer, const CombinedEstimate& estimate,
                             std::uint8_t leap, std::int64_t mindist_ns) {
  AdvertisedState a;
  a.synchronized = true;
  a.leap = leap;
  a.stratum = static_cast<std::uint8_t>(std::min<int>(system_peer.stratum + 1, kStratumUnspec));
  // RFC 5905 section 7.3 refid: a reference clock's own code at stratum 0
  // (and ntpd keeps the peer's refid at 16), else the peer's address.
  a.refid = system_peer.stratum == 0 || system_peer.stratum >= kStratumUnspec
                ? system_peer.refid
                : system_peer.address_refid;
  a.root_delay_ns = clamp_peer(system_peer.delay_ns) + clamp_peer(system_peer.root_delay_ns);
  // RFC 5905 section 11.2.3: E = E_r + epsilon + jitter + PHI*age + |Theta|
  // (PHI*age is already in epsilon). |Theta| <= 2^61, the rest < 2^49 each.
  const std::int64_t abs_offset = estimate.offset_ns < 0 ? -estimate.offset_ns : estimate.offset_ns;
  const std::int64_t e = clamp_peer(system_peer.root_dispersion_ns) +
                         clamp_peer(system_peer.dispersion_ns) + clamp_peer(estimate.jitter_ns) +
                         abs_offset;
  a.root_dispersion_ns = system_peer.is_local_clock ? e : std::max(e, clamp_peer(mindist_ns));
  return a;
}

AdvertisedState orphan_parent_state(std::uint8_t orphan_stratum) {
  const auto stratum = std::clamp<std::uint8_t>(orphan_stratum, 1, kStratumUnspec - 1);
  return AdvertisedState{true, 0, stratum, stratum > 1 ? kRefidLoopback : refid_from_ascii("ORPH"),
                         0,    0};
}

SystemDecision run_system_process(std::span<const PeerSummary> peers, const SystemParams& params,
                                  const SystemState& state) {
  SystemDecision d;
  d.selection = select_truechimers(peers, params, state);
  cluster_survivors(peers, params, d.selection, state.system_peer_id);
  const SurvivorList& s = d.selection.survivors;

  // ntpd: "Unless there are at least sys_minsane survivors, leave the
  // building dark"; then timer() makes us the orphan parent if configured.
  if (s.size == 0 || s.size < static_cast<std::size_t>(std::max(0, params.minsane))) {
    d.lost_system_peer = state.system_peer_id.has_value();
    if (params.orphan_stratum && params.orphan_wait_over) {
      d.status = SyncStatus::kOrphanParent;
      d.advertised = orphan_parent_state(*params.orphan_stratum);
    } else {
      d.advertised = unsynchronized_state();
    }
    d.next_state = SystemState{std::nullopt, d.advertised.refid, 0, state.last_epoch_ns};
    return d;
  }

  const PeerChoice choice = choose_system_peer(peers, s, params, state);
  const Survivor& sys = s.items[choice.survivor];
  const PeerSummary& peer = peers[sys.index];
  d.selection.status[sys.index] = PeerStatus::kSystemPeer;
  d.system_peer_index = sys.index;
  d.new_system_peer = state.system_peer_id != peer.id;

  // RFC 5905 section 11.2.3 / ntpd: a prefer system peer's own offset and
  // jitter are used; otherwise the survivors are combined.
  const CombinedEstimate estimate =
      peer.prefer ? CombinedEstimate{peer.offset_ns, clamp_peer(peer.jitter_ns)}
                  : combine_survivors(peers, s, choice.survivor);
  const std::uint8_t leap = vote_leap(peers, s);
  d.status = SyncStatus::kSynchronized;
  d.advertised = clock_update(peer, estimate, leap, params.mindist_ns);
  d.next_state = SystemState{peer.id, d.advertised.refid, choice.clockhop_ns, state.last_epoch_ns};

  if (peer.epoch_ns > state.last_epoch_ns) {
    d.sample = SystemSample{estimate.offset_ns,
                            clamp_sample(d.advertised.root_delay_ns),
                            clamp_sample(d.advertised.root_dispersion_ns),
                            clamp_sample(estimate.jitter_ns),
                            clamp_sample(sys.root_distance_ns),
                            peer.stratum,
                            leap,
                            d.advertised.refid,
                            static_cast<std::int8_t>(std::clamp<int>(peer.poll_log2s, 3, 17)),
                            peer.id};
    d.next_state.last_epoch_ns = peer.epoch_ns;
  }
  return d;
}

}  // namespace ntpd::net
