// Selection (RFC 5905 section 11.2.1; ntpd 4.2.8 clock_select, peer_unfit):
// fitness tests, the intersection algorithm and the fallback sources. Pure
// ntpd-net core: fixed-size arrays only, no I/O, no clock, no exceptions.
// Never trusts PeerSummary numbers: corrupt ones fail FitTest::kInvalid.
#include "ntpd-net/selection.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace ntpd::net {
namespace {

constexpr std::int64_t clamp_duration(std::int64_t d) {
  return std::clamp<std::int64_t>(d, 0, kMaxPeerDurationNs);
}

bool numbers_valid(const PeerSummary& p) {
  for (const std::int64_t d :
       {p.delay_ns, p.dispersion_ns, p.jitter_ns, p.root_delay_ns, p.root_dispersion_ns}) {
    if (d < 0 || d > kMaxPeerDurationNs) return false;
  }
  return p.offset_ns >= -kMaxPeerOffsetNs && p.offset_ns <= kMaxPeerOffsetNs && p.leap <= 3;
}

// Test 11's allowance for one poll interval: PHI * 2^poll (ntpd uses the
// peer's hpoll; the exponent is clamped to the protocol's 0..17).
std::int64_t poll_allowance_ns(std::int8_t poll_log2s) {
  const int poll = std::clamp<int>(poll_log2s, 0, 17);
  return kPhiNsPerSecond * (std::int64_t{1} << poll);
}

// offset +- half without overflow (intersect_intervals takes any input).
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

struct Endpoint {
  std::int64_t value = 0;
  int type = 0;  // -1 lower end, +1 upper end (ntpd's convention)
};

}  // namespace

char tally_code(PeerStatus status) {
  switch (status) {
    case PeerStatus::kRejected:
    case PeerStatus::kFallback:
      return ' ';
    case PeerStatus::kFalseticker:
      return 'x';
    case PeerStatus::kOutlier:
      return '-';
    case PeerStatus::kBackup:
      return '#';
    case PeerStatus::kCandidate:
      return '+';
    case PeerStatus::kSystemPeer:
      return '*';
  }
  return '?';
}

void SurvivorList::erase_at(std::size_t i) {
  if (i >= size) return;
  for (std::size_t j = i + 1; j < size; ++j) items[j - 1] = items[j];
  --size;
}

std::int64_t root_distance_ns(const PeerSummary& peer, std::int64_t mindist_ns) {
  // RFC 5905 A.5.5.2: (delta + DELTA_r)/2 + epsilon + E_r + PHI*age + psi;
  // ntpd floors the result at mindist "to avoid clockhop with highly
  // precise reference clocks". Each term <= 2^47, so the sum cannot wrap.
  const std::int64_t lambda =
      (clamp_duration(peer.delay_ns) + clamp_duration(peer.root_delay_ns)) / 2 +
      clamp_duration(peer.dispersion_ns) + clamp_duration(peer.root_dispersion_ns) +
      clamp_duration(peer.jitter_ns);
  return std::max({lambda, clamp_duration(mindist_ns), std::int64_t{1}});
}

FitFailures check_fit(const PeerSummary& peer, const SystemParams& params,
                      const SystemState& state) {
  if (!numbers_valid(peer)) return fit_bit(FitTest::kInvalid);
  FitFailures failures = 0;
  // Test 10 (A.5.5.3 stratum error): never synchronized, or a stratum
  // outside [floor, ceiling) (ntpd: ceiling 15, so we never reach 16).
  const std::uint8_t ceiling = std::min(params.ceiling, kStratumUnspec);
  if (peer.leap == 3 || peer.stratum < params.floor || peer.stratum >= ceiling) {
    failures |= fit_bit(FitTest::kStratum);
  }
  // Test 11 (A.5.5.3 distance error): root distance beyond maxdist plus one
  // poll interval of dispersion growth. ntpd exempts reference clocks, and
  // so the local clock, whose distance says nothing about UTC anyway.
  if (!peer.is_local_clock &&
      root_distance_ns(peer, params.mindist_ns) >=
          clamp_duration(params.maxdist_ns) + poll_allowance_ns(peer.poll_log2s)) {
    failures |= fit_bit(FitTest::kDistance);
  }
  // Test 12 (A.5.5.3 loop error): the peer is synchronized to us (its refid
  // is our address) or to our own system peer (its refid is our refid).
  // ntpd applies it only above stratum 1 (refids there are addresses, not
  // ASCII) and never to the orphan parent's loopback refid.
  if (peer.stratum > 1 && peer.refid != kRefidLoopback &&
      ((peer.source_address_hash != 0 && peer.refid == peer.source_address_hash) ||
       (state.refid != 0 && peer.refid == state.refid))) {
    failures |= fit_bit(FitTest::kLoop);
  }
  // Test 13 (A.5.5.3 unreachable error; ntpd adds noselect).
  if (peer.reach == 0) failures |= fit_bit(FitTest::kUnreachable);
  if (peer.noselect) failures |= fit_bit(FitTest::kNoSelect);
  return failures;
}

Intersection intersect_intervals(std::span<const CorrectnessInterval> intervals) {
  const std::size_t n = std::min(intervals.size(), kMaxPeers);
  std::array<Endpoint, 2 * kMaxPeers> ends{};
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t half = clamp_duration(intervals[i].root_distance_ns);
    ends[2 * i] = {saturating_add(intervals[i].offset_ns, -half), -1};
    ends[2 * i + 1] = {saturating_add(intervals[i].offset_ns, half), +1};
  }
  // Sort by value; at equal values a lower end comes first, so intervals
  // that touch count as overlapping (closed intervals).
  const auto end_count = static_cast<std::ptrdiff_t>(2 * n);
  std::sort(ends.begin(), ends.begin() + end_count, [](const Endpoint& a, const Endpoint& b) {
    return a.value != b.value ? a.value < b.value : a.type < b.type;
  });

  // RFC 5905 section 11.2.1 / ntpd clock_select: assume f falsetickers
  // (f = 0, 1, ... while 2f < n). Scan up for the lowest point covered by
  // n - f intervals and down for the highest; stop when high > low. ntpd
  // dropped the RFC's midpoint count ("modified for better accuracy").
  Intersection result;
  for (std::size_t allow = 0; 2 * allow < n; ++allow) {
    const auto need = static_cast<long>(n - allow);
    std::optional<std::int64_t> low;
    std::optional<std::int64_t> high;
    long chime = 0;
    for (std::ptrdiff_t i = 0; i < end_count; ++i) {
      chime -= ends[i].type;
      if (chime >= need) {
        low = ends[i].value;
        break;
      }
    }
    chime = 0;
    for (std::ptrdiff_t i = end_count - 1; i >= 0; --i) {
      chime += ends[i].type;
      if (chime >= need) {
        high = ends[i].value;
        break;
      }
    }
    if (low && high && *high > *low) {
      result = {true, *low, *high, allow};
      break;
    }
  }
  return result;
}

bool is_truechimer(const CorrectnessInterval& interval, const Intersection& intersection) {
  if (!intersection.found) return false;
  const std::int64_t half = clamp_duration(interval.root_distance_ns);
  return saturating_add(interval.offset_ns, half) >= intersection.low_ns &&
         saturating_add(interval.offset_ns, -half) <= intersection.high_ns;
}

SelectionResult select_truechimers(std::span<const PeerSummary> peers, const SystemParams& params,
                                   const SystemState& state) {
  SelectionResult r;
  r.peer_count = std::min(peers.size(), kMaxPeers);
  std::array<CorrectnessInterval, kMaxPeers> intervals{};
  std::array<std::uint8_t, kMaxPeers> island{};  // candidate -> peer index
  std::optional<std::size_t> local_clock;
  std::optional<std::size_t> orphan_parent;
  std::uint64_t orphan_metric = std::numeric_limits<std::uint64_t>::max();

  for (std::size_t i = 0; i < r.peer_count; ++i) {
    const PeerSummary& p = peers[i];
    r.status[i] = PeerStatus::kRejected;
    r.fit_failures[i] = check_fit(p, params, state);
    if (r.fit_failures[i] != 0) continue;
    if (params.orphan_stratum && p.stratum == *params.orphan_stratum) {
      // Orphan mode (ntpd clock_select): a peer at the orphan stratum is an
      // orphan parent. Elect the lowest address metric, and only if lower
      // than our own, so the whole mesh converges on one parent; otherwise
      // we are the parent (combine.h).
      const std::uint64_t own =
          p.source_address_hash != 0 ? p.source_address_hash : std::uint64_t{UINT32_MAX};
      if (p.address_refid < own && p.address_refid < orphan_metric) {
        orphan_metric = p.address_refid;
        orphan_parent = i;
      }
      r.status[i] = PeerStatus::kFallback;
      continue;
    }
    if (params.orphan_stratum && p.stratum > *params.orphan_stratum) {
      r.fit_failures[i] = fit_bit(FitTest::kOrphanStratum);
      continue;
    }
    if (p.is_local_clock) {
      // ntpd treats the LOCAL refclock as a fallback, used only when no
      // other source survives and only after orphwait. Unlike ntpd, prefer
      // does not promote it: our discipline is never external (LOCKCLOCK).
      if (params.orphan_wait_over && !local_clock) local_clock = i;
      r.status[i] = PeerStatus::kFallback;
      continue;
    }
    intervals[r.candidate_count] = {p.offset_ns, root_distance_ns(p, params.mindist_ns)};
    island[r.candidate_count] = static_cast<std::uint8_t>(i);
    r.status[i] = PeerStatus::kFalseticker;  // until it proves otherwise
    ++r.candidate_count;
  }

  r.intersection = intersect_intervals({intervals.data(), r.candidate_count});
  for (std::size_t k = 0; k < r.candidate_count; ++k) {
    const std::uint8_t i = island[k];
    if (!peers[i].true_chimer && !is_truechimer(intervals[k], r.intersection)) continue;
    r.survivors.push_back({i, intervals[k].root_distance_ns, 0.0});
    r.status[i] = PeerStatus::kCandidate;
  }

  // No truechimers: the local clock, else the elected orphan parent, is the
  // sole survivor (ntpd order: modem, local, orphan; we have no modem).
  if (r.survivors.size == 0) {
    const std::optional<std::size_t> pick = local_clock ? local_clock : orphan_parent;
    if (pick) {
      r.fallback = local_clock ? Fallback::kLocalClock : Fallback::kOrphanParentPeer;
      r.survivors.push_back({static_cast<std::uint8_t>(*pick),
                             root_distance_ns(peers[*pick], params.mindist_ns), 0.0});
      r.status[*pick] = PeerStatus::kCandidate;
    }
  }
  return r;
}

}  // namespace ntpd::net
