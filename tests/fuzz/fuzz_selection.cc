// libFuzzer target for the system process (ntpd-net selection, cluster,
// combine): builds peer sets and tos parameters from the input, runs a few
// successive updates and checks the invariants: survivors are fit
// candidates, the system peer is a survivor, the combined offset lies
// within the survivors' offsets, samples are in range. No I/O.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ntpd-net/combine.h"
#include "ntpd-net/selection.h"

namespace {

using ntpd::net::PeerStatus;
using ntpd::net::PeerSummary;

void check(bool condition) {
  if (!condition) std::abort();
}

// Mostly plausible values (so intersections and clusters happen), now and
// then anything at all.
std::int64_t some_offset(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return std::int64_t{in.ConsumeIntegral<std::int16_t>()} * 1'000;  // +-33 ms
    case 1:
      return std::int64_t{in.ConsumeIntegral<std::int16_t>()} * 100'000;  // +-3.3 s
    case 2:
      return in.ConsumeIntegralInRange<std::int64_t>(-ntpd::net::kMaxPeerOffsetNs,
                                                     ntpd::net::kMaxPeerOffsetNs);
    default:
      return in.ConsumeIntegral<std::int64_t>();
  }
}

std::int64_t some_duration(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return std::int64_t{in.ConsumeIntegral<std::uint16_t>()} * 1'000;  // up to 65 ms
    case 1:
      return std::int64_t{in.ConsumeIntegral<std::uint16_t>()} * 50'000;  // up to 3.3 s
    case 2:
      return in.ConsumeIntegralInRange<std::int64_t>(0, ntpd::net::kMaxPeerDurationNs + 1);
    default:
      return in.ConsumeIntegral<std::int64_t>();
  }
}

PeerSummary some_peer(FuzzedDataProvider& in, std::uint32_t id) {
  PeerSummary p;
  p.id = in.ConsumeBool() ? id : in.ConsumeIntegralInRange<std::uint32_t>(0, 4);
  p.offset_ns = some_offset(in);
  p.delay_ns = some_duration(in);
  p.dispersion_ns = some_duration(in);
  p.jitter_ns = some_duration(in);
  p.root_delay_ns = some_duration(in);
  p.root_dispersion_ns = some_duration(in);
  p.stratum = in.ConsumeIntegralInRange<std::uint8_t>(0, 17);
  p.leap = in.ConsumeIntegralInRange<std::uint8_t>(0, 4);
  p.refid = in.ConsumeIntegralInRange<std::uint32_t>(0, 3) | 0x7f000000;
  p.reach = in.ConsumeIntegral<std::uint8_t>();
  p.poll_log2s = in.ConsumeIntegral<std::int8_t>();
  const auto flags = in.ConsumeIntegral<std::uint8_t>();
  p.prefer = (flags & 0x07) == 0x01;
  p.noselect = (flags & 0x18) == 0x08;
  p.true_chimer = (flags & 0x60) == 0x20;
  p.is_local_clock = (flags & 0x80) != 0 && (flags & 0x03) == 0x03;
  p.source_address_hash = in.ConsumeIntegralInRange<std::uint32_t>(0x7f000000, 0x7f000004);
  p.address_refid = in.ConsumeIntegralInRange<std::uint32_t>(0x7f000000, 0x7f000004);
  p.epoch_ns = in.ConsumeIntegralInRange<std::int64_t>(-2, 8);
  return p;
}

ntpd::net::SystemParams some_params(FuzzedDataProvider& in) {
  ntpd::net::SystemParams s;
  s.minclock = in.ConsumeIntegralInRange<int>(-1, 8);
  s.maxclock = in.ConsumeIntegralInRange<int>(-1, 12);
  s.minsane = in.ConsumeIntegralInRange<int>(-1, 4);
  s.floor = in.ConsumeIntegralInRange<std::uint8_t>(0, 3);
  s.ceiling = in.ConsumeIntegralInRange<std::uint8_t>(0, 20);
  if (in.ConsumeBool()) s.orphan_stratum = in.ConsumeIntegralInRange<std::uint8_t>(0, 17);
  s.orphan_wait_over = in.ConsumeBool();
  if (in.ConsumeBool()) s.maxdist_ns = some_duration(in);
  if (in.ConsumeBool()) s.mindist_ns = some_duration(in);
  return s;
}

void check_decision(const std::vector<PeerSummary>& peers, const ntpd::net::SystemDecision& d) {
  using ntpd::net::SyncStatus;
  const auto& sel = d.selection;
  check(sel.peer_count == std::min(peers.size(), ntpd::net::kMaxPeers));
  check(sel.survivors.size <= sel.peer_count);

  // Survivors are distinct, fit, and marked as survivors.
  std::vector<bool> seen(sel.peer_count, false);
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  for (std::size_t k = 0; k < sel.survivors.size; ++k) {
    const std::size_t i = sel.survivors.items[k].index;
    check(i < sel.peer_count && !seen[i]);
    seen[i] = true;
    check(sel.fit_failures[i] == 0);
    check(sel.status[i] == PeerStatus::kCandidate || sel.status[i] == PeerStatus::kSystemPeer);
    lo = k == 0 ? peers[i].offset_ns : std::min(lo, peers[i].offset_ns);
    hi = k == 0 ? peers[i].offset_ns : std::max(hi, peers[i].offset_ns);
  }
  std::size_t system_peers = 0;
  for (std::size_t i = 0; i < sel.peer_count; ++i) {
    if (sel.status[i] == PeerStatus::kSystemPeer) ++system_peers;
    if (!seen[i]) check(sel.status[i] != PeerStatus::kCandidate);
    if (sel.status[i] != PeerStatus::kRejected) check(sel.fit_failures[i] == 0);
  }

  if (d.system_peer_index) {
    const std::size_t sp = *d.system_peer_index;
    check(d.status == SyncStatus::kSynchronized);
    check(sp < sel.peer_count && seen[sp] && sel.status[sp] == PeerStatus::kSystemPeer);
    check(system_peers == 1);
    check(d.next_state.system_peer_id == peers[sp].id);
    check(d.advertised.synchronized && d.advertised.stratum <= 16 && d.advertised.leap <= 2);
  } else {
    check(system_peers == 0 && !d.sample && d.status != SyncStatus::kSynchronized);
    check(!d.next_state.system_peer_id);
    if (d.status == SyncStatus::kUnsynchronized) {
      check(!d.advertised.synchronized && d.advertised.leap == 3 && d.advertised.stratum == 16);
    } else {
      check(d.advertised.synchronized && d.advertised.stratum >= 1 && d.advertised.stratum <= 15);
    }
  }

  if (d.sample) {
    const auto& s = *d.sample;
    const PeerSummary& sp = peers[*d.system_peer_index];
    check(s.system_peer_id == sp.id);
    check(s.offset_ns >= lo && s.offset_ns <= hi);
    if (sp.prefer) check(s.offset_ns == sp.offset_ns);
    for (const std::int64_t v : {s.delay_ns, s.dispersion_ns, s.jitter_ns, s.root_distance_ns}) {
      check(v >= 0 && v <= ntpd::net::kMaxSampleDurationNs);
    }
    check(s.stratum <= 15 && s.leap <= 2 && s.poll_log2s >= 3 && s.poll_log2s <= 17);
    check(d.next_state.last_epoch_ns == sp.epoch_ns);
  }
}

// The intersection itself: when found, 2f < n, low < high, and at least
// n - f intervals reach into [low, high].
void check_intersection(FuzzedDataProvider& in) {
  std::vector<ntpd::net::CorrectnessInterval> intervals(
      in.ConsumeIntegralInRange<std::size_t>(0, ntpd::net::kMaxPeers));
  for (auto& c : intervals) c = {some_offset(in), some_duration(in)};
  const ntpd::net::Intersection x = ntpd::net::intersect_intervals(intervals);
  if (!x.found) return;
  check(2 * x.falsetickers_allowed < intervals.size() && x.low_ns < x.high_ns);
  std::size_t overlapping = 0;
  for (const auto& c : intervals) overlapping += ntpd::net::is_truechimer(c, x) ? 1 : 0;
  check(overlapping >= intervals.size() - x.falsetickers_allowed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    check_intersection(in);
    return 0;
  }
  const ntpd::net::SystemParams params = some_params(in);
  ntpd::net::SystemState state;
  std::vector<PeerSummary> peers(in.ConsumeIntegralInRange<std::size_t>(0, 70));
  for (std::size_t i = 0; i < peers.size(); ++i) {
    peers[i] = some_peer(in, static_cast<std::uint32_t>(i + 1));
  }
  // Successive updates with a few peers changed each time, so the system
  // peer choice runs with an incumbent and a clockhop threshold.
  const int rounds = in.ConsumeIntegralInRange<int>(1, 4);
  for (int round = 0; round < rounds; ++round) {
    const ntpd::net::SystemDecision d = ntpd::net::run_system_process(peers, params, state);
    check_decision(peers, d);
    state = d.next_state;
    const int changes = in.ConsumeIntegralInRange<int>(0, 3);
    for (int c = 0; c < changes && !peers.empty(); ++c) {
      const std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, peers.size() - 1);
      peers[i] = some_peer(in, peers[i].id);
    }
  }
  return 0;
}
