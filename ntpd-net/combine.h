// Combining and the system peer, the last step of the system process (RFC
// 5905 section 11.2.3, A.5.5.5-6; ntpd 4.2.8 clock_select, clock_combine,
// clock_update), and run_system_process, which chains selection, clustering
// and combining into one decision. Pure ntpd-net core: no I/O, no clock
// reads, no heap. Never touches the clock: it only proposes a SystemSample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "ntpd-net/peer_summary.h"
#include "ntpd-net/selection.h"
#include "ntpd-net/system_sample.h"

namespace ntpd::net {

struct CombinedEstimate {
  std::int64_t offset_ns = 0;  // Theta, reference - local (positive: local behind)
  std::int64_t jitter_ns = 0;  // system jitter
};

// RFC 5905 section 11.2.3: weights x_i = 1 / Lambda_i over the survivors,
//   Theta   = sum x_i theta_i / sum x_i
//   jitter  = sqrt( sum x_i (theta_i - theta_p)^2 / sum x_i + psi_p^2 )
// where p = survivors.items[system_peer]. Theta is computed relative to
// theta_p and clamped to [min, max] of the survivors' offsets.
CombinedEstimate combine_survivors(std::span<const PeerSummary> peers,
                                   const SurvivorList& survivors, std::size_t system_peer);

// Leap vote (ntpd clock_select / clock_update): insert (1) or delete (2)
// when more survivors announce it than the other, and more than half of
// all survivors do; else 0. One server's word is enough only when it is
// the only survivor.
std::uint8_t vote_leap(std::span<const PeerSummary> peers, const SurvivorList& survivors);

// ntpd 4.2.8's system peer metric, in seconds (the mixed units are ntpd's):
//   phi_s * Lambda + stratum * mindist; lower is better.
double system_peer_metric(const PeerSummary& peer, const Survivor& survivor,
                          std::int64_t mindist_ns);

struct PeerChoice {
  std::size_t survivor = 0;      // index into the survivor list
  std::int64_t clockhop_ns = 0;  // the next SystemState::clockhop_ns
};

// Picks the system peer among non-empty `survivors`:
//  1. a prefer survivor, if any (the first one; RFC 5905 section 11.2.3);
//  2. else the lowest system_peer_metric, except that the previous system
//     peer (state.system_peer_id), if still a survivor, is kept unless
//     (a) ours, in the spirit of chrony's reselectdist: the challenger
//         still wins with its phi_s increased by its own jitter psi and its
//         Lambda by max(mindist, PHI * 2^poll of the incumbent), the noise
//         of one poll; and
//     (b) ntpd's clockhop rule: when the two offsets differ by less than
//         mindist, hop only once that difference reaches a threshold that
//         starts at mindist and halves on every consecutive win.
PeerChoice choose_system_peer(std::span<const PeerSummary> peers, const SurvivorList& survivors,
                              const SystemParams& params, const SystemState& state);

// RFC 5905 A.5.5.6 clock_update, as ntpd 4.2.8 does it: stratum = peer + 1
// (max 16); refid = the peer's refid at stratum 0 (reference clock), else
// its address_refid; root delay = delta + DELTA_r; root dispersion =
// E_r + epsilon + jitter + |Theta|, at least mindist except for the local
// clock (ntpd exempts reference clocks).
AdvertisedState clock_update(const PeerSummary& system_peer, const CombinedEstimate& estimate,
                             std::uint8_t leap, std::int64_t mindist_ns);

// ntpd timer(): the orphan parent advertises the orphan stratum, refid
// 127.0.0.1 (or "ORPH" at stratum 1), leap 0, zero root delay/dispersion.
AdvertisedState orphan_parent_state(std::uint8_t orphan_stratum);

enum class SyncStatus : std::uint8_t {
  kUnsynchronized,  // no system peer: answer LI 3, stratum 16
  kSynchronized,    // a system peer was chosen
  kOrphanParent,    // no system peer, tos orphan and orphan wait over: we lead
};

struct SystemDecision {
  SyncStatus status = SyncStatus::kUnsynchronized;
  // A new system update for the clock process; only when synchronized and
  // the system peer's epoch_ns is newer than state.last_epoch_ns (ntpd: "do
  // not use old data"). Orphan parents send none: nothing to discipline to.
  std::optional<SystemSample> sample;
  AdvertisedState advertised;                    // what the server says about itself now
  SystemState next_state;                        // feed to the next call
  SelectionResult selection;                     // per-peer status, fit failures, survivors
  std::optional<std::size_t> system_peer_index;  // into peers
  bool new_system_peer = false;                  // system peer changed (ntpd "new_peer")
  bool lost_system_peer = false;  // had one, now none (ntpd "no_sys_peer"): restart orphanwait
};

// The whole system process for one update (RFC 5905 section 11, ntpd
// clock_select + clock_update): select, cluster, check minsane, choose the
// system peer, combine, vote the leap indicator, update the system state.
// Call it whenever an association's clock filter produced a new sample.
SystemDecision run_system_process(std::span<const PeerSummary> peers, const SystemParams& params,
                                  const SystemState& state);

}  // namespace ntpd::net
