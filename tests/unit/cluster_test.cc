// Unit tests for ntpd-net/cluster: selection jitter (RFC 5905 section
// 11.2.2) and the outlier-discarding loop with its stopping rules (minclock,
// max selection jitter vs min peer jitter, prefer/true immunity, maxclock).
#include "ntpd-net/cluster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "ntpd-net/selection.h"

namespace ntpd::net {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kUs = 1'000;

PeerSummary server(std::uint32_t id, std::int64_t offset_ns, std::int64_t root_dispersion_ns) {
  PeerSummary p;
  p.id = id;
  p.offset_ns = offset_ns;
  p.delay_ns = 10 * kMs;
  p.dispersion_ns = 1 * kMs;
  p.jitter_ns = 100 * kUs;
  p.root_delay_ns = 5 * kMs;
  p.root_dispersion_ns = root_dispersion_ns;
  p.stratum = 2;
  p.leap = 0;
  p.reach = 0xff;
  p.address_refid = 0xc0000200 + id;
  return p;
}

// Selection over `peers` with default parameters and the given clock count.
SelectionResult selected(const std::vector<PeerSummary>& peers, const SystemParams& params) {
  return select_truechimers(peers, params, SystemState{});
}

std::vector<std::uint8_t> survivor_indices(const SelectionResult& r) {
  std::vector<std::uint8_t> out;
  for (const Survivor& s : r.survivors.view()) out.push_back(s.index);
  return out;
}

}  // namespace

TEST(SelectionJitter, RmsOfOffsetDifferences) {
  const std::vector<PeerSummary> peers = {server(1, 0, 5 * kMs), server(2, 3 * kMs, 5 * kMs),
                                          server(3, 6 * kMs, 5 * kMs)};
  SurvivorList s;
  for (std::uint8_t i = 0; i < 3; ++i) s.push_back({i, 14 * kMs, 0.0});
  // phi_s(0) = sqrt((0 + 9 + 36) / 2) ms; phi_s(1) = sqrt((9 + 0 + 9) / 2) ms.
  EXPECT_NEAR(selection_jitter_ns(peers, s, 0), std::sqrt(22.5) * kMs, 1.0);
  EXPECT_NEAR(selection_jitter_ns(peers, s, 1), 3.0 * kMs, 1.0);
  SurvivorList one;
  one.push_back({0, 14 * kMs, 0.0});
  EXPECT_EQ(selection_jitter_ns(peers, one, 0), 0.0);
}

TEST(Cluster, DiscardsOutliersDownToMinclock) {
  // Wide intervals, so everyone is a truechimer; offsets spread far beyond
  // the 0.1 ms peer jitter.
  const std::vector<PeerSummary> peers = {
      server(1, 0, 200 * kMs), server(2, 1 * kMs, 200 * kMs), server(3, -1 * kMs, 200 * kMs),
      server(4, 80 * kMs, 200 * kMs), server(5, -60 * kMs, 200 * kMs)};
  SystemParams params;
  SelectionResult r = selected(peers, params);
  ASSERT_EQ(r.survivors.size, 5u);
  EXPECT_EQ(cluster_survivors(peers, params, r), 2u);
  EXPECT_EQ(survivor_indices(r), (std::vector<std::uint8_t>{0, 1, 2}));
  EXPECT_EQ(r.status[3], PeerStatus::kOutlier);
  EXPECT_EQ(r.status[4], PeerStatus::kOutlier);
  // phi_s left for the final set: survivor 0 sits between +-1 ms.
  EXPECT_NEAR(r.survivors.items[0].selection_jitter_ns, 1.0 * kMs, 1.0);
}

TEST(Cluster, StopsAtMinclock) {
  const std::vector<PeerSummary> peers = {server(1, 0, 200 * kMs), server(2, 1 * kMs, 200 * kMs),
                                          server(3, 90 * kMs, 200 * kMs)};
  SystemParams params;
  SelectionResult r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 0u);
  EXPECT_EQ(r.survivors.size, 3u);

  params.minclock = 2;
  r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 1u);
  EXPECT_EQ(survivor_indices(r), (std::vector<std::uint8_t>{0, 1}));
}

TEST(Cluster, StopsWhenSpreadIsWithinPeerJitter) {
  std::vector<PeerSummary> peers;
  for (std::uint32_t i = 0; i < 6; ++i) {
    peers.push_back(server(i, static_cast<std::int64_t>(i) * 100 * kUs, 5 * kMs));
    peers.back().jitter_ns = 2 * kMs;  // every phi_s is below this
  }
  SystemParams params;
  SelectionResult r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 0u);
  EXPECT_EQ(r.survivors.size, 6u);
}

TEST(Cluster, PreferAndTrueAreImmune) {
  std::vector<PeerSummary> peers = {server(1, 0, 200 * kMs), server(2, 1 * kMs, 200 * kMs),
                                    server(3, -1 * kMs, 200 * kMs), server(4, 80 * kMs, 200 * kMs)};
  peers[3].prefer = true;
  SystemParams params;
  SelectionResult r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 0u);  // ntpd stops, does not skip
  EXPECT_EQ(r.survivors.size, 4u);

  peers[3].prefer = false;
  peers[3].true_chimer = true;
  r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 0u);
}

TEST(Cluster, WeighsSelectionJitterByRootDistance) {
  // Two symmetric outliers with the same phi_s: the one with the larger
  // root distance goes first (ntpd's phi_s * Lambda metric).
  const std::vector<PeerSummary> peers = {server(1, 0, 200 * kMs), server(2, 0, 200 * kMs),
                                          server(3, 0, 200 * kMs), server(4, 50 * kMs, 300 * kMs),
                                          server(5, -50 * kMs, 200 * kMs)};
  SystemParams params;
  params.minclock = 4;
  SelectionResult r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 1u);
  EXPECT_EQ(r.status[3], PeerStatus::kOutlier);
  EXPECT_EQ(r.status[4], PeerStatus::kCandidate);
}

TEST(Cluster, DropsAboveMaxclockAreBackups) {
  std::vector<PeerSummary> peers;
  for (std::uint32_t i = 0; i < 6; ++i) {
    peers.push_back(server(i, static_cast<std::int64_t>(i * i) * kMs, 200 * kMs));
  }
  SystemParams params;
  params.minclock = 2;
  params.maxclock = 4;
  SelectionResult r = selected(peers, params);
  EXPECT_EQ(cluster_survivors(peers, params, r), 4u);
  std::size_t backups = 0;
  std::size_t outliers = 0;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    backups += r.status[i] == PeerStatus::kBackup;
    outliers += r.status[i] == PeerStatus::kOutlier;
  }
  EXPECT_EQ(backups, 2u);   // dropped at sizes 6 and 5
  EXPECT_EQ(outliers, 2u);  // dropped at sizes 4 and 3
}

TEST(Cluster, SystemPeerSpreadCountsLessItsJitter) {
  // Four survivors, one to drop. Peer 3 (+0.8 ms) is the worst by phi_s; as
  // the system peer with psi 1 ms, it stays and the next worst (-0.6 ms)
  // goes. Once it is a real outlier (+5 ms), it goes anyway.
  std::vector<PeerSummary> peers = {server(1, 0, 5 * kMs), server(2, 100 * kUs, 5 * kMs),
                                    server(3, 800 * kUs, 5 * kMs), server(4, -600 * kUs, 5 * kMs)};
  peers[2].jitter_ns = 1 * kMs;
  SystemParams params;
  SelectionResult r = selected(peers, params);
  cluster_survivors(peers, params, r);
  EXPECT_EQ(r.status[2], PeerStatus::kOutlier);

  r = selected(peers, params);
  cluster_survivors(peers, params, r, 3u);
  EXPECT_EQ(r.status[2], PeerStatus::kCandidate);
  EXPECT_EQ(r.status[3], PeerStatus::kOutlier);

  peers[2].offset_ns = 5 * kMs;
  r = selected(peers, params);
  cluster_survivors(peers, params, r, 3u);
  EXPECT_EQ(r.status[2], PeerStatus::kOutlier);
}

TEST(Cluster, NeverTouchesFalsetickers) {
  const std::vector<PeerSummary> peers = {server(1, 0, 5 * kMs), server(2, 1 * kMs, 5 * kMs),
                                          server(3, 0, 5 * kMs), server(4, 900 * kMs, 5 * kMs)};
  SystemParams params;
  params.minclock = 1;
  SelectionResult r = selected(peers, params);
  cluster_survivors(peers, params, r);
  EXPECT_EQ(r.status[3], PeerStatus::kFalseticker);
}

}  // namespace ntpd::net
