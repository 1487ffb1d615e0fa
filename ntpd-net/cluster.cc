// Clustering (RFC 5905 section 11.2.2, ntpd 4.2.8 clock_select): outlier
// removal by selection jitter. Pure ntpd-net core over fixed-size arrays;
// no I/O, no clock, no heap. Never resurrects a falseticker.
#include "ntpd-net/cluster.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ntpd::net {

double selection_jitter_ns(std::span<const PeerSummary> peers, const SurvivorList& survivors,
                           std::size_t which) {
  const std::size_t n = survivors.size;
  if (n < 2 || which >= n) return 0.0;
  const auto self = static_cast<double>(peers[survivors.items[which].index].offset_ns);
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(peers[survivors.items[j].index].offset_ns) - self;
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(n - 1));
}

std::size_t cluster_survivors(std::span<const PeerSummary> peers, const SystemParams& params,
                              SelectionResult& selection,
                              std::optional<std::uint32_t> system_peer_id) {
  SurvivorList& s = selection.survivors;
  const auto minclock = static_cast<std::size_t>(std::max(1, params.minclock));
  const auto maxclock = static_cast<std::size_t>(std::max(0, params.maxclock));
  std::size_t discarded = 0;
  for (;;) {
    // RFC 5905 A.5.5.4: compute phi_s for every survivor and find the one
    // with the worst metric; note the smallest peer jitter psi.
    double min_peer_jitter = std::numeric_limits<double>::infinity();
    double worst_metric = -1.0;
    double worst_jitter = 0.0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < s.size; ++i) {
      Survivor& sv = s.items[i];
      min_peer_jitter = std::min(min_peer_jitter, static_cast<double>(peers[sv.index].jitter_ns));
      sv.selection_jitter_ns = selection_jitter_ns(peers, s, i);
      double spread = sv.selection_jitter_ns;
      if (system_peer_id && peers[sv.index].id == *system_peer_id) {  // incumbent: see header
        spread = std::max(0.0, spread - static_cast<double>(peers[sv.index].jitter_ns));
      }
      const double metric = spread * static_cast<double>(sv.root_distance_ns);
      if (metric > worst_metric) {
        worst_metric = metric;
        worst_jitter = sv.selection_jitter_ns;
        worst = i;
      }
    }
    // Stop at NMIN (minclock) survivors, when the spread is already within
    // the peers' own jitter (max phi_s <= min psi), or at an immune peer.
    if (s.size <= minclock || worst_jitter <= min_peer_jitter) break;
    const PeerSummary& victim = peers[s.items[worst].index];
    if (victim.prefer || victim.true_chimer) break;
    selection.status[s.items[worst].index] =
        s.size > maxclock ? PeerStatus::kBackup : PeerStatus::kOutlier;
    s.erase_at(worst);
    ++discarded;
  }
  return discarded;
}

}  // namespace ntpd::net
