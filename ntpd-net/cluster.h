// Clustering, the second step of the system process (RFC 5905 section
// 11.2.2, A.5.5.4; ntpd 4.2.8 clock_select "vote outliers off the island"):
// discard the worst outliers among the truechimers. Pure ntpd-net core: no
// I/O, no clock, no heap. Never looks at falsetickers or picks the system
// peer (combine.h does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "ntpd-net/peer_summary.h"
#include "ntpd-net/selection.h"

namespace ntpd::net {

// Selection jitter of survivor `which` (RFC 5905 section 11.2.2):
//   phi_s = sqrt( sum_j (theta_j - theta_which)^2 / (n - 1) ), in ns;
// 0 when fewer than two survivors.
double selection_jitter_ns(std::span<const PeerSummary> peers, const SurvivorList& survivors,
                           std::size_t which);

// Repeatedly discards the survivor with the largest selection jitter
// weighted by root distance (ntpd's metric phi_s * Lambda; the RFC uses
// phi_s alone) while
//   - more than max(1, minclock) survive, and
//   - that survivor's phi_s exceeds the smallest peer jitter psi, and
//   - it is neither prefer nor true (they hold "the immunity idol": the
//     loop ends rather than skipping them, as in ntpd).
// Ours: when ranking for discard, the current system peer's phi_s counts
// less its own jitter psi, so measurement noise alone does not eject it
// (ntpd instead keeps an ejected system peer through clockhop, leaving a
// system peer outside the survivors). Discarded peers become kBackup while
// more than maxclock remained, else kOutlier. Leaves phi_s filled for
// every final survivor. Returns the number discarded.
std::size_t cluster_survivors(std::span<const PeerSummary> peers, const SystemParams& params,
                              SelectionResult& selection,
                              std::optional<std::uint32_t> system_peer_id = std::nullopt);

}  // namespace ntpd::net
