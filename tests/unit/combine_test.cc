// Unit tests for ntpd-net/combine: combining (RFC 5905 section 11.2.3), the
// leap vote, clock_update, system peer choice with clockhop avoidance, and
// simulation-style runs of the whole system process (issue 4): liars,
// disagreement, prefer, local clock, orphan mode, stable system peer.
#include "ntpd-net/combine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "ntpd-net/cluster.h"
#include "ntpd-net/selection.h"

namespace ntpd::net {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kUs = 1'000;
constexpr std::uint32_t kOwnAddress = 0xc0000264;
constexpr std::uint32_t kLocalClockAddress = 0x7f7f0100;  // 127.127.1.0

// A healthy stratum-2 server: Lambda = (10 + 5) / 2 + 1 + 5 + 0.5 = 14 ms.
PeerSummary server(std::uint32_t id, std::int64_t offset_ns) {
  PeerSummary p;
  p.id = id;
  p.offset_ns = offset_ns;
  p.delay_ns = 10 * kMs;
  p.dispersion_ns = 1 * kMs;
  p.jitter_ns = kMs / 2;
  p.root_delay_ns = 5 * kMs;
  p.root_dispersion_ns = 5 * kMs;
  p.stratum = 2;
  p.leap = 0;
  p.refid = 0xc6336401;
  p.reach = 0xff;
  p.poll_log2s = 6;
  p.source_address_hash = kOwnAddress;
  p.address_refid = 0xc0000200 + id;
  p.epoch_ns = 1;
  return p;
}

PeerSummary local_clock(std::uint8_t fudge_stratum) {
  PeerSummary p = server(100, 0);
  p.is_local_clock = true;
  p.stratum = fudge_stratum;
  p.delay_ns = p.root_delay_ns = p.root_dispersion_ns = p.jitter_ns = 0;
  p.dispersion_ns = 10 * kMs;  // ntpd refclock_local DISPERSION
  p.refid = 0x4c4f434c;        // "LOCL"
  p.address_refid = kLocalClockAddress;
  return p;
}

SurvivorList survivors_of(const std::vector<PeerSummary>& peers, std::int64_t mindist_ns) {
  SurvivorList s;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    s.push_back({static_cast<std::uint8_t>(i), root_distance_ns(peers[i], mindist_ns), 0.0});
  }
  for (std::size_t i = 0; i < s.size; ++i) {
    s.items[i].selection_jitter_ns = selection_jitter_ns(peers, s, i);
  }
  return s;
}

SystemParams fallback_ready() {
  SystemParams p;
  p.orphan_wait_over = true;
  return p;
}

}  // namespace

// ------------------------------------------------------------ combining

TEST(Combine, WeightsByInverseRootDistance) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 4 * kMs)};
  peers[0].root_dispersion_ns = 5 * kMs + (10 * kMs - 14 * kMs);  // Lambda 10 ms
  peers[1].root_dispersion_ns = 5 * kMs + (30 * kMs - 14 * kMs);  // Lambda 30 ms
  const SurvivorList s = survivors_of(peers, kDefaultMinDistNs);
  ASSERT_EQ(s.items[0].root_distance_ns, 10 * kMs);
  ASSERT_EQ(s.items[1].root_distance_ns, 30 * kMs);
  const CombinedEstimate e = combine_survivors(peers, s, 0);
  // Theta = (0/10 + 4/30) / (1/10 + 1/30) = 1 ms.
  EXPECT_EQ(e.offset_ns, 1 * kMs);
  // jitter = sqrt(a * sum x_i (theta_i - theta_p)^2 + psi_p^2) = sqrt(4 + 0.25) ms.
  EXPECT_NEAR(static_cast<double>(e.jitter_ns), std::sqrt(4.25) * kMs, 2.0);
}

TEST(Combine, SingleSurvivorIsItself) {
  const std::vector<PeerSummary> peers = {server(1, -7 * kMs)};
  const CombinedEstimate e = combine_survivors(peers, survivors_of(peers, kDefaultMinDistNs), 0);
  EXPECT_EQ(e.offset_ns, -7 * kMs);
  EXPECT_EQ(e.jitter_ns, kMs / 2);
}

TEST(Combine, StaysWithinSurvivorOffsetsAtExtremes) {
  const std::vector<PeerSummary> peers = {server(1, kMaxPeerOffsetNs),
                                          server(2, kMaxPeerOffsetNs - 3),
                                          server(3, kMaxPeerOffsetNs - 1)};
  const CombinedEstimate e = combine_survivors(peers, survivors_of(peers, kDefaultMinDistNs), 1);
  EXPECT_GE(e.offset_ns, kMaxPeerOffsetNs - 3);
  EXPECT_LE(e.offset_ns, kMaxPeerOffsetNs);
}

// ------------------------------------------------------------ leap vote

struct LeapCase {
  std::vector<std::uint8_t> leaps;
  std::uint8_t expected;
};

class LeapVote : public ::testing::TestWithParam<LeapCase> {};

TEST_P(LeapVote, MajorityOfSurvivors) {
  std::vector<PeerSummary> peers;
  for (std::uint8_t leap : GetParam().leaps) {
    peers.push_back(server(static_cast<std::uint32_t>(peers.size()), 0));
    peers.back().leap = leap;
  }
  EXPECT_EQ(vote_leap(peers, survivors_of(peers, kDefaultMinDistNs)), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(NtpdClockUpdate, LeapVote,
                         ::testing::Values(LeapCase{{0}, 0}, LeapCase{{1}, 1}, LeapCase{{2}, 2},
                                           LeapCase{{1, 0}, 0}, LeapCase{{1, 1}, 1},
                                           LeapCase{{1, 0, 0}, 0}, LeapCase{{1, 1, 0}, 1},
                                           LeapCase{{1, 2, 0}, 0}, LeapCase{{2, 2, 1}, 2},
                                           LeapCase{{1, 1, 2, 2}, 0}, LeapCase{{1, 1, 0, 0}, 0},
                                           LeapCase{{1, 1, 1, 0, 0}, 1}));

// ------------------------------------------------------------ clock update

TEST(ClockUpdate, FollowsRfc5905A556) {
  PeerSummary p = server(7, 2 * kMs);
  const AdvertisedState a = clock_update(p, {2 * kMs, 1 * kMs}, 1, kDefaultMinDistNs);
  EXPECT_TRUE(a.synchronized);
  EXPECT_EQ(a.leap, 1);
  EXPECT_EQ(a.stratum, 3);
  EXPECT_EQ(a.refid, p.address_refid);                     // stratum > 0: the peer's address
  EXPECT_EQ(a.root_delay_ns, 15 * kMs);                    // delta + DELTA_r
  EXPECT_EQ(a.root_dispersion_ns, (5 + 1 + 1 + 2) * kMs);  // E_r + eps + jitter + |Theta|

  p.stratum = 0;  // a reference clock: its own refid
  EXPECT_EQ(clock_update(p, {}, 0, kDefaultMinDistNs).refid, p.refid);

  p.root_dispersion_ns = p.dispersion_ns = 0;  // floored at mindist
  EXPECT_EQ(clock_update(p, {}, 0, kDefaultMinDistNs).root_dispersion_ns, kDefaultMinDistNs);
  p.is_local_clock = true;  // ... except for the (reference) local clock
  EXPECT_EQ(clock_update(p, {}, 0, kDefaultMinDistNs).root_dispersion_ns, 0);
}

TEST(ClockUpdate, OrphanParentState) {
  const AdvertisedState a = orphan_parent_state(6);
  EXPECT_TRUE(a.synchronized);
  EXPECT_EQ(a.leap, 0);
  EXPECT_EQ(a.stratum, 6);
  EXPECT_EQ(a.refid, kRefidLoopback);
  EXPECT_EQ(orphan_parent_state(1).refid, 0x4f525048u);  // "ORPH"
}

// ------------------------------------------------------------ system peer choice

TEST(ChooseSystemPeer, LowestMetricThenPrefer) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 0), server(3, 0)};
  peers[1].stratum = 1;  // stratum * mindist dominates
  SurvivorList s = survivors_of(peers, kDefaultMinDistNs);
  EXPECT_EQ(choose_system_peer(peers, s, SystemParams{}, SystemState{}).survivor, 1u);
  peers[2].prefer = true;
  EXPECT_EQ(choose_system_peer(peers, s, SystemParams{}, SystemState{}).survivor, 2u);
}

TEST(ChooseSystemPeer, KeepsIncumbentAgainstMarginalChallenger) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 200 * kUs)};
  peers[1].root_dispersion_ns -= 300 * kUs;  // better, but within the reselect margin
  SystemState state;
  state.system_peer_id = 1;
  const SurvivorList s = survivors_of(peers, kDefaultMinDistNs);
  const PeerChoice c = choose_system_peer(peers, s, SystemParams{}, state);
  EXPECT_EQ(c.survivor, 0u);
  EXPECT_EQ(c.clockhop_ns, 0);
}

TEST(ChooseSystemPeer, NtpdClockhopDecay) {
  // A clearly better challenger (lower stratum) whose offset is 300 us from
  // the incumbent's: thresholds 1 ms, 0.5 ms, then 0.25 ms < 300 us: hop.
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 300 * kUs)};
  peers[1].stratum = 1;
  const SurvivorList s = survivors_of(peers, kDefaultMinDistNs);
  SystemState state;
  state.system_peer_id = 1;
  PeerChoice c = choose_system_peer(peers, s, SystemParams{}, state);
  EXPECT_EQ(c.survivor, 0u);
  EXPECT_EQ(c.clockhop_ns, kDefaultMinDistNs);
  state.clockhop_ns = c.clockhop_ns;
  c = choose_system_peer(peers, s, SystemParams{}, state);
  EXPECT_EQ(c.survivor, 0u);
  EXPECT_EQ(c.clockhop_ns, kDefaultMinDistNs / 2);
  state.clockhop_ns = c.clockhop_ns;
  c = choose_system_peer(peers, s, SystemParams{}, state);
  EXPECT_EQ(c.survivor, 1u);
  EXPECT_EQ(c.clockhop_ns, 0);
}

TEST(ChooseSystemPeer, HopsAtOnceWhenOffsetsDisagreeByMindist) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 2 * kMs)};
  peers[1].stratum = 1;
  SystemState state;
  state.system_peer_id = 1;
  EXPECT_EQ(choose_system_peer(peers, survivors_of(peers, kDefaultMinDistNs), SystemParams{}, state)
                .survivor,
            1u);
}

// ------------------------------------------------------------ simulations

TEST(SystemProcess, TwoLiarsOfFiveAreRejected) {
  // Issue 4: five servers, two of which lie by 0.5 s in the same direction.
  std::vector<PeerSummary> peers = {server(1, 3 * kMs), server(2, 500 * kMs), server(3, 2 * kMs),
                                    server(4, 501 * kMs), server(5, 4 * kMs)};
  const SystemDecision d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.status, SyncStatus::kSynchronized);
  EXPECT_EQ(d.selection.status[1], PeerStatus::kFalseticker);
  EXPECT_EQ(d.selection.status[3], PeerStatus::kFalseticker);
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_GE(d.sample->offset_ns, 2 * kMs);
  EXPECT_LE(d.sample->offset_ns, 4 * kMs);
  EXPECT_NEAR(static_cast<double>(d.sample->offset_ns), 3.0 * kMs, 1.0 * kMs);
  EXPECT_EQ(d.sample->stratum, 2);
  EXPECT_EQ(d.sample->leap, 0);
  EXPECT_EQ(d.sample->delay_ns, 15 * kMs);
  EXPECT_EQ(d.sample->root_distance_ns, 14 * kMs);
  EXPECT_EQ(d.sample->poll_log2s, 6);
  EXPECT_EQ(d.advertised.stratum, 3);
  ASSERT_TRUE(d.system_peer_index.has_value());
  EXPECT_EQ(d.selection.status[*d.system_peer_index], PeerStatus::kSystemPeer);
  EXPECT_EQ(d.sample->system_peer_id, peers[*d.system_peer_index].id);
  EXPECT_EQ(d.sample->refid, peers[*d.system_peer_index].address_refid);
  EXPECT_TRUE(d.new_system_peer);
}

TEST(SystemProcess, FalsetickerWithHugeRootDistance) {
  // Beyond maxdist: unfit, never even a candidate.
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 2 * kMs),
                                    server(4, 2'000 * kMs)};
  peers[3].root_dispersion_ns = 3'000 * kMs;
  SystemDecision d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.selection.status[3], PeerStatus::kRejected);
  EXPECT_TRUE(has_failure(d.selection.fit_failures[3], FitTest::kDistance));
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_LE(d.sample->offset_ns, 2 * kMs);

  // Within maxdist but wide: its interval overlaps the truth, so it is a
  // truechimer; clustering then votes it off and combining ignores it.
  peers[3].offset_ns = 800 * kMs;
  peers[3].root_dispersion_ns = 1'000 * kMs;
  d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.selection.status[3], PeerStatus::kOutlier);
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_GE(d.sample->offset_ns, 0);
  EXPECT_LE(d.sample->offset_ns, 2 * kMs);
}

TEST(SystemProcess, NoMajorityMeansUnsynchronized) {
  const std::vector<PeerSummary> peers = {server(1, 0), server(2, 300 * kMs), server(3, 600 * kMs),
                                          server(4, 900 * kMs)};
  SystemState was_synced;
  was_synced.system_peer_id = 1;
  const SystemDecision d = run_system_process(peers, SystemParams{}, was_synced);
  EXPECT_EQ(d.status, SyncStatus::kUnsynchronized);
  EXPECT_FALSE(d.sample.has_value());
  EXPECT_FALSE(d.system_peer_index.has_value());
  EXPECT_FALSE(d.advertised.synchronized);
  EXPECT_EQ(d.advertised.leap, 3);
  EXPECT_EQ(d.advertised.stratum, 16);
  EXPECT_TRUE(d.lost_system_peer);
  EXPECT_FALSE(d.next_state.system_peer_id.has_value());
  for (std::size_t i = 0; i < peers.size(); ++i) {
    EXPECT_EQ(d.selection.status[i], PeerStatus::kFalseticker);
  }
}

TEST(SystemProcess, PreferPeerGivesItsOwnOffset) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 3 * kMs)};
  peers[2].prefer = true;
  SystemDecision d = run_system_process(peers, SystemParams{}, SystemState{});
  ASSERT_EQ(d.system_peer_index, 2u);
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_EQ(d.sample->offset_ns, 3 * kMs);
  EXPECT_EQ(d.sample->jitter_ns, kMs / 2);

  // A prefer peer that is a falseticker gets no say.
  peers[2].offset_ns = 700 * kMs;
  d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.selection.status[2], PeerStatus::kFalseticker);
  EXPECT_NE(d.system_peer_index, 2u);
}

TEST(SystemProcess, OnlyLocalClockIsSynchronizedAtFudgeStratum) {
  const std::vector<PeerSummary> peers = {local_clock(10)};
  const SystemDecision d = run_system_process(peers, fallback_ready(), SystemState{});
  EXPECT_EQ(d.status, SyncStatus::kSynchronized);
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_EQ(d.sample->stratum, 10);     // the system peer's (fudge) stratum
  EXPECT_EQ(d.advertised.stratum, 11);  // ntpd clock_update: peer + 1
  EXPECT_EQ(d.advertised.refid, kLocalClockAddress);
  EXPECT_EQ(d.advertised.leap, 0);
  EXPECT_EQ(d.sample->offset_ns, 0);

  // Not before the orphan wait is over (ntpd orphwait).
  EXPECT_EQ(run_system_process(peers, SystemParams{}, SystemState{}).status,
            SyncStatus::kUnsynchronized);
}

TEST(SystemProcess, LocalClockOnlyWhenServersFail) {
  std::vector<PeerSummary> peers = {server(1, 5 * kMs), server(2, 6 * kMs), local_clock(5)};
  SystemDecision d = run_system_process(peers, fallback_ready(), SystemState{});
  EXPECT_EQ(d.selection.status[2], PeerStatus::kFallback);
  EXPECT_NE(d.system_peer_index, 2u);
  EXPECT_EQ(d.advertised.stratum, 3);

  peers[0].reach = peers[1].reach = 0;  // both servers went silent
  d = run_system_process(peers, fallback_ready(), d.next_state);
  EXPECT_EQ(d.system_peer_index, 2u);
  EXPECT_EQ(d.advertised.stratum, 6);
  EXPECT_TRUE(d.new_system_peer);
}

TEST(SystemProcess, LeapVoteNeedsAMajority) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 2 * kMs)};
  peers[0].leap = 1;  // one server alone announces a leap second
  SystemDecision d = run_system_process(peers, SystemParams{}, SystemState{});
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_EQ(d.sample->leap, 0);
  EXPECT_EQ(d.advertised.leap, 0);
  peers[2].leap = 1;
  d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.sample->leap, 1);
  EXPECT_EQ(d.advertised.leap, 1);
  // A falseticker's vote does not count.
  peers[2].leap = 0;
  peers.push_back(server(4, 900 * kMs));
  peers.back().leap = 1;
  peers.push_back(server(5, 3 * kMs));
  d = run_system_process(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(d.selection.status[3], PeerStatus::kFalseticker);
  EXPECT_EQ(d.sample->leap, 0);
}

TEST(SystemProcess, MinsaneKeepsTheBuildingDark) {
  const std::vector<PeerSummary> peers = {server(1, 0)};
  SystemParams params;
  EXPECT_EQ(run_system_process(peers, params, SystemState{}).status, SyncStatus::kSynchronized);
  params.minsane = 2;
  EXPECT_EQ(run_system_process(peers, params, SystemState{}).status, SyncStatus::kUnsynchronized);
}

TEST(SystemProcess, SampleOnlyForNewSystemPeerData) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 2 * kMs)};
  for (auto& p : peers) p.epoch_ns = 64;
  SystemDecision d = run_system_process(peers, SystemParams{}, SystemState{});
  ASSERT_TRUE(d.sample.has_value());
  EXPECT_EQ(d.next_state.last_epoch_ns, 64);
  d = run_system_process(peers, SystemParams{}, d.next_state);  // nothing new
  EXPECT_EQ(d.status, SyncStatus::kSynchronized);
  EXPECT_FALSE(d.sample.has_value());
  for (auto& p : peers) p.epoch_ns = 128;
  d = run_system_process(peers, SystemParams{}, d.next_state);
  EXPECT_TRUE(d.sample.has_value());
}

TEST(SystemProcess, OrphanModeAlone) {
  SystemParams params;
  params.orphan_stratum = 7;
  const std::vector<PeerSummary> none;
  EXPECT_EQ(run_system_process(none, params, SystemState{}).status, SyncStatus::kUnsynchronized);
  params.orphan_wait_over = true;
  const SystemDecision d = run_system_process(none, params, SystemState{});
  EXPECT_EQ(d.status, SyncStatus::kOrphanParent);
  EXPECT_FALSE(d.sample.has_value());
  EXPECT_TRUE(d.advertised.synchronized);
  EXPECT_EQ(d.advertised.stratum, 7);
  EXPECT_EQ(d.advertised.refid, kRefidLoopback);
  EXPECT_EQ(d.next_state.refid, kRefidLoopback);
}

TEST(SystemProcess, OrphanMeshFollowsTheLowestAddress) {
  SystemParams params;
  params.orphan_stratum = 7;
  params.orphan_wait_over = true;
  std::vector<PeerSummary> peers = {server(1, 1 * kMs)};
  peers[0].stratum = 7;
  peers[0].refid = kRefidLoopback;      // it is an orphan parent itself
  peers[0].address_refid = 0xc0000201;  // below ours: it leads
  SystemDecision d = run_system_process(peers, params, SystemState{});
  EXPECT_EQ(d.status, SyncStatus::kSynchronized);
  EXPECT_EQ(d.advertised.stratum, 8);
  ASSERT_TRUE(d.sample.has_value());

  peers[0].address_refid = 0xc00002ff;  // above ours: we lead
  d = run_system_process(peers, params, SystemState{});
  EXPECT_EQ(d.status, SyncStatus::kOrphanParent);
  EXPECT_EQ(d.advertised.stratum, 7);

  // A real server below the orphan stratum wins over orphan mode.
  peers.push_back(server(2, 0));
  d = run_system_process(peers, params, SystemState{});
  EXPECT_EQ(d.system_peer_index, 1u);
  EXPECT_EQ(d.advertised.stratum, 3);
}

// Seeded noise for the stability runs; portable (no <random> distributions).
class Noise {
 public:
  explicit Noise(std::uint32_t seed) : rng_(seed) {}
  std::int64_t uniform(std::int64_t amplitude) {
    const auto span = static_cast<std::uint64_t>(2 * amplitude + 1);
    return static_cast<std::int64_t>(rng_() % span) - amplitude;
  }

 private:
  std::mt19937_64 rng_;
};

// Equal servers polled at 64 s on staggered phases, every 16 s an update:
// offsets +-50 us, jitter 200 +- 30 us, dispersion growing by PHI between
// polls (the sawtooth that makes root distances cross all the time).
std::size_t count_hops(std::size_t server_count, std::uint32_t seed, std::size_t rounds) {
  Noise noise(seed);
  std::vector<PeerSummary> peers;
  for (std::uint32_t i = 0; i < server_count; ++i) peers.push_back(server(i + 1, 0));
  SystemState state;
  std::size_t hops = 0;
  std::optional<std::uint32_t> last;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::int64_t now_s = static_cast<std::int64_t>(round) * 16;
    for (std::size_t i = 0; i < peers.size(); ++i) {
      const std::int64_t phase_s =
          static_cast<std::int64_t>(i) * 64 / static_cast<std::int64_t>(server_count);
      const std::int64_t age_s = (now_s + phase_s) % 64;
      if (age_s < 16) {  // this server just answered
        peers[i].offset_ns = noise.uniform(50 * kUs);
        peers[i].jitter_ns = 200 * kUs + noise.uniform(30 * kUs);
        peers[i].epoch_ns = now_s * 1'000'000'000;
      }
      peers[i].dispersion_ns = 1 * kMs + kPhiNsPerSecond * age_s;
    }
    const SystemDecision d = run_system_process(peers, SystemParams{}, state);
    if (d.status != SyncStatus::kSynchronized) return rounds;  // fail loudly
    const std::uint32_t id = peers[*d.system_peer_index].id;
    if (last && *last != id) ++hops;
    last = id;
    state = d.next_state;
  }
  return hops;
}

TEST(SystemProcess, StableSystemPeerAmongEqualServers) {
  for (const std::size_t servers : {2u, 3u, 5u, 8u}) {
    for (std::uint32_t seed = 1; seed <= 5; ++seed) {
      EXPECT_EQ(count_hops(servers, seed, 2'000), 0u) << servers << " servers, seed " << seed;
    }
  }
}

TEST(SystemProcess, HopsToAClearlyBetterServer) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 40 * kUs)};
  SystemState state;
  state.system_peer_id = 1;
  peers[1].stratum = 1;  // a stratum-1 server agreeing within 40 us
  std::size_t round = 0;
  for (; round < 20; ++round) {
    const SystemDecision d = run_system_process(peers, SystemParams{}, state);
    state = d.next_state;
    if (state.system_peer_id == 2u) break;
  }
  EXPECT_GE(round, 4u);   // ntpd's clockhop delays the move...
  EXPECT_LT(round, 10u);  // ... but not for long
  const SystemDecision after = run_system_process(peers, SystemParams{}, state);
  EXPECT_EQ(after.next_state.system_peer_id, 2u);  // and it stays
}

TEST(SystemProcess, HopsAtOnceWhenTheSystemPeerIsNoLongerASurvivor) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 2 * kMs)};
  SystemState state;
  state.system_peer_id = 3;
  peers[2].reach = 0;
  const SystemDecision d = run_system_process(peers, SystemParams{}, state);
  EXPECT_NE(d.next_state.system_peer_id, 3u);
  EXPECT_TRUE(d.new_system_peer);
}

TEST(SystemProcess, LoopTestUsesOurRefid) {
  // B is synchronized to our system peer A: test 12 keeps B out.
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 0)};
  const SystemDecision first = run_system_process({peers.data(), 1}, SystemParams{}, SystemState{});
  ASSERT_EQ(first.next_state.refid, peers[0].address_refid);
  peers[1].stratum = 3;
  peers[1].refid = peers[0].address_refid;
  const SystemDecision d = run_system_process(peers, SystemParams{}, first.next_state);
  EXPECT_TRUE(has_failure(d.selection.fit_failures[1], FitTest::kLoop));
}

}  // namespace ntpd::net
