// Unit tests for ntpd-net/selection: root distance, the fitness tests of RFC
// 5905 A.5.5.3 (ntpd peer_unfit), the intersection algorithm of section
// 11.2.1 as table cases, and the truechimer / falseticker / fallback split.
#include "ntpd-net/selection.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ntpd::net {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint32_t kOwnAddress = 0xc0000264;  // 192.0.2.100: us

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
  p.refid = 0xc6336401;  // 198.51.100.1, its upstream
  p.reach = 0xff;
  p.poll_log2s = 6;
  p.source_address_hash = kOwnAddress;
  p.address_refid = 0xc0000200 + id;
  p.epoch_ns = 1;
  return p;
}

PeerSummary local_clock(std::uint8_t stratum) {
  PeerSummary p = server(100, 0);
  p.is_local_clock = true;
  p.stratum = stratum;
  p.delay_ns = 0;
  p.root_delay_ns = 0;
  p.root_dispersion_ns = 0;
  p.dispersion_ns = 10 * kMs;
  p.jitter_ns = 0;
  p.refid = 0x4c4f434c;  // "LOCL"
  p.address_refid = 0x7f7f0100;
  return p;
}

}  // namespace

// ------------------------------------------------------------ root distance

TEST(RootDistance, FollowsRfc5905FormulaAndFloor) {
  EXPECT_EQ(root_distance_ns(server(1, 0), kDefaultMinDistNs), 14 * kMs);
  PeerSummary zero = server(1, 0);
  zero.delay_ns = zero.dispersion_ns = zero.jitter_ns = 0;
  zero.root_delay_ns = zero.root_dispersion_ns = 0;
  EXPECT_EQ(root_distance_ns(zero, kDefaultMinDistNs), kDefaultMinDistNs);  // ntpd mindist floor
  EXPECT_EQ(root_distance_ns(zero, 0), 1);  // never zero: it is a divisor
  // The offset does not enter the distance.
  EXPECT_EQ(root_distance_ns(server(1, 900 * kMs), kDefaultMinDistNs), 14 * kMs);
}

// ------------------------------------------------------------ fitness tests

struct FitCase {
  std::string name;
  std::function<void(PeerSummary&, SystemParams&, SystemState&)> setup;
  FitFailures expected;
};

class FitTestTable : public ::testing::TestWithParam<FitCase> {};

TEST_P(FitTestTable, MatchesPeerUnfit) {
  PeerSummary p = server(1, 0);
  SystemParams params;
  SystemState state;
  state.refid = 0xc0000299;
  GetParam().setup(p, params, state);
  EXPECT_EQ(check_fit(p, params, state), GetParam().expected);
}

// Lambda of server() is 14 ms; test 11 fires at maxdist + PHI * 2^poll.
constexpr std::int64_t kPoll6Allowance = kPhiNsPerSecond * 64;

const FitCase kFitCases[] = {
    {"healthy", [](PeerSummary&, SystemParams&, SystemState&) {}, 0},
    {"leap_unsynchronized", [](PeerSummary& p, SystemParams&, SystemState&) { p.leap = 3; },
     fit_bit(FitTest::kStratum)},
    {"stratum_16", [](PeerSummary& p, SystemParams&, SystemState&) { p.stratum = 16; },
     fit_bit(FitTest::kStratum)},
    {"stratum_15_at_ceiling", [](PeerSummary& p, SystemParams&, SystemState&) { p.stratum = 15; },
     fit_bit(FitTest::kStratum)},
    {"stratum_14_below_ceiling",
     [](PeerSummary& p, SystemParams&, SystemState&) { p.stratum = 14; }, 0},
    {"below_floor",
     [](PeerSummary& p, SystemParams& s, SystemState&) {
       s.floor = 3;
       p.stratum = 2;
     },
     fit_bit(FitTest::kStratum)},
    {"distance_just_inside",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.root_dispersion_ns += kDefaultMaxDistNs + kPoll6Allowance - 14 * kMs - 1;
     },
     0},
    {"distance_at_threshold",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.root_dispersion_ns += kDefaultMaxDistNs + kPoll6Allowance - 14 * kMs;
     },
     fit_bit(FitTest::kDistance)},
    {"distance_allowance_grows_with_poll",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.root_dispersion_ns += kDefaultMaxDistNs + kPoll6Allowance - 14 * kMs;
       p.poll_log2s = 10;
     },
     0},
    {"tos_maxdist", [](PeerSummary&, SystemParams& s, SystemState&) { s.maxdist_ns = 10 * kMs; },
     fit_bit(FitTest::kDistance)},
    {"local_clock_exempt_from_distance",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.is_local_clock = true;
       p.root_dispersion_ns = 10'000 * kMs;
     },
     0},
    {"loop_refid_is_our_address",
     [](PeerSummary& p, SystemParams&, SystemState&) { p.refid = kOwnAddress; },
     fit_bit(FitTest::kLoop)},
    {"loop_refid_is_our_refid",
     [](PeerSummary& p, SystemParams&, SystemState& st) { p.refid = st.refid; },
     fit_bit(FitTest::kLoop)},
    {"loop_not_tested_at_stratum_1",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.stratum = 1;
       p.refid = kOwnAddress;
     },
     0},
    {"loop_exempts_orphan_loopback",
     [](PeerSummary& p, SystemParams&, SystemState& st) {
       st.refid = kRefidLoopback;
       p.refid = kRefidLoopback;
     },
     0},
    {"loop_unknown_own_address",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.source_address_hash = 0;
       p.refid = 0;
     },
     0},
    {"unreachable", [](PeerSummary& p, SystemParams&, SystemState&) { p.reach = 0; },
     fit_bit(FitTest::kUnreachable)},
    {"noselect", [](PeerSummary& p, SystemParams&, SystemState&) { p.noselect = true; },
     fit_bit(FitTest::kNoSelect)},
    {"several_at_once",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.leap = 3;
       p.reach = 0;
     },
     static_cast<FitFailures>(fit_bit(FitTest::kStratum) | fit_bit(FitTest::kUnreachable))},
    {"negative_delay", [](PeerSummary& p, SystemParams&, SystemState&) { p.delay_ns = -1; },
     fit_bit(FitTest::kInvalid)},
    {"absurd_offset",
     [](PeerSummary& p, SystemParams&, SystemState&) { p.offset_ns = kMaxPeerOffsetNs + 1; },
     fit_bit(FitTest::kInvalid)},
    {"absurd_dispersion",
     [](PeerSummary& p, SystemParams&, SystemState&) {
       p.root_dispersion_ns = kMaxPeerDurationNs + 1;
     },
     fit_bit(FitTest::kInvalid)},
    {"leap_out_of_range", [](PeerSummary& p, SystemParams&, SystemState&) { p.leap = 4; },
     fit_bit(FitTest::kInvalid)},
};

INSTANTIATE_TEST_SUITE_P(Rfc5905A553, FitTestTable, ::testing::ValuesIn(kFitCases),
                         [](const auto& param_info) { return param_info.param.name; });

// ------------------------------------------------------------ intersection

struct IntersectionCase {
  std::string name;
  std::vector<CorrectnessInterval> intervals;  // in ms
  bool found;
  std::int64_t low_ms;
  std::int64_t high_ms;
  std::size_t allowed;
};

class IntersectionTable : public ::testing::TestWithParam<IntersectionCase> {};

TEST_P(IntersectionTable, FindsMajorityInterval) {
  std::vector<CorrectnessInterval> in;
  for (const auto& c : GetParam().intervals)
    in.push_back({c.offset_ns * kMs, c.root_distance_ns * kMs});
  const Intersection got = intersect_intervals(in);
  EXPECT_EQ(got.found, GetParam().found);
  if (GetParam().found) {
    EXPECT_EQ(got.low_ns, GetParam().low_ms * kMs);
    EXPECT_EQ(got.high_ns, GetParam().high_ms * kMs);
    EXPECT_EQ(got.falsetickers_allowed, GetParam().allowed);
  }
}

const IntersectionCase kIntersectionCases[] = {
    {"empty", {}, false, 0, 0, 0},
    {"single", {{0, 10}}, true, -10, 10, 0},
    {"three_agree", {{0, 10}, {2, 10}, {-1, 10}}, true, -8, 9, 0},
    {"one_of_three_lies", {{0, 10}, {2, 10}, {100, 10}}, true, -8, 10, 1},
    {"two_disjoint_no_majority", {{0, 10}, {100, 10}}, false, 0, 0, 0},
    {"two_pairs_no_majority", {{0, 10}, {1, 10}, {100, 10}, {101, 10}}, false, 0, 0, 0},
    {"touching_is_not_an_interval", {{0, 10}, {20, 10}}, false, 0, 0, 0},
    {"two_of_five_lie_together",
     {{0, 14}, {1, 14}, {-1, 14}, {500, 14}, {501, 14}},
     true,
     -13,
     13,
     2},
    // ntpd's form does not require the points to be contiguous: a wide
    // interval covering two disjoint clusters makes [low, high] span both.
    {"wide_interval_spans_both", {{0, 10}, {100, 10}, {50, 60}}, true, -10, 110, 1},
    {"nested", {{0, 100}, {10, 5}, {12, 5}}, true, 7, 15, 0},
};

INSTANTIATE_TEST_SUITE_P(Rfc5905Section1121, IntersectionTable,
                         ::testing::ValuesIn(kIntersectionCases),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(Intersection, TruechimerIsAnyOverlap) {
  const Intersection i{true, -10, 10, 1};
  EXPECT_TRUE(is_truechimer({0, 1}, i));
  EXPECT_TRUE(is_truechimer({15, 5}, i));    // touches the high end
  EXPECT_TRUE(is_truechimer({-30, 25}, i));  // midpoint outside, interval overlaps
  EXPECT_FALSE(is_truechimer({16, 5}, i));
  EXPECT_FALSE(is_truechimer({0, 100}, Intersection{}));  // nothing found: nobody
}

// ------------------------------------------------------------ selection

TEST(SelectTruechimers, TwoLiarsOfFiveAreFalsetickers) {
  const std::vector<PeerSummary> peers = {server(1, 1 * kMs), server(2, -2 * kMs),
                                          server(3, 500 * kMs), server(4, 0), server(5, 502 * kMs)};
  const SelectionResult r = select_truechimers(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(r.candidate_count, 5u);
  EXPECT_EQ(r.intersection.falsetickers_allowed, 2u);
  EXPECT_EQ(r.status[2], PeerStatus::kFalseticker);
  EXPECT_EQ(r.status[4], PeerStatus::kFalseticker);
  for (std::size_t i : {0u, 1u, 3u}) EXPECT_EQ(r.status[i], PeerStatus::kCandidate) << i;
  ASSERT_EQ(r.survivors.size, 3u);
  EXPECT_EQ(r.survivors.items[0].index, 0);
  EXPECT_EQ(r.survivors.items[0].root_distance_ns, 14 * kMs);
  EXPECT_EQ(r.fallback, Fallback::kNone);
}

TEST(SelectTruechimers, TrueFlagSurvivesAnyway) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 1 * kMs), server(3, 500 * kMs)};
  peers[2].true_chimer = true;
  const SelectionResult r = select_truechimers(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(r.status[2], PeerStatus::kCandidate);
  EXPECT_EQ(r.survivors.size, 3u);
}

TEST(SelectTruechimers, UnfitPeersNeverEnterTheIsland) {
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 0), server(3, 0)};
  peers[1].reach = 0;
  peers[2].stratum = 16;
  const SelectionResult r = select_truechimers(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(r.candidate_count, 1u);
  EXPECT_EQ(r.status[1], PeerStatus::kRejected);
  EXPECT_EQ(r.fit_failures[1], fit_bit(FitTest::kUnreachable));
  EXPECT_EQ(r.fit_failures[2], fit_bit(FitTest::kStratum));
}

TEST(SelectTruechimers, LocalClockIsOnlyAFallback) {
  SystemParams params;
  params.orphan_wait_over = true;
  const std::vector<PeerSummary> with_servers = {server(1, 0), local_clock(10), server(2, 0)};
  SelectionResult r = select_truechimers(with_servers, params, SystemState{});
  EXPECT_EQ(r.status[1], PeerStatus::kFallback);
  EXPECT_EQ(r.survivors.size, 2u);
  EXPECT_EQ(r.fallback, Fallback::kNone);

  // No server agrees with another: the local clock takes over.
  const std::vector<PeerSummary> split = {server(1, 0), local_clock(10), server(2, 500 * kMs)};
  r = select_truechimers(split, params, SystemState{});
  EXPECT_EQ(r.status[0], PeerStatus::kFalseticker);
  ASSERT_EQ(r.survivors.size, 1u);
  EXPECT_EQ(r.survivors.items[0].index, 1);
  EXPECT_EQ(r.fallback, Fallback::kLocalClock);

  // Only the local clock, but the orphan wait is still running.
  params.orphan_wait_over = false;
  const std::vector<PeerSummary> alone = {local_clock(10)};
  r = select_truechimers(alone, params, SystemState{});
  EXPECT_EQ(r.survivors.size, 0u);
  EXPECT_EQ(r.status[0], PeerStatus::kFallback);
}

TEST(SelectTruechimers, PreferDoesNotPromoteTheLocalClock) {
  SystemParams params;
  params.orphan_wait_over = true;
  std::vector<PeerSummary> peers = {server(1, 0), local_clock(3)};
  peers[1].prefer = true;
  const SelectionResult r = select_truechimers(peers, params, SystemState{});
  ASSERT_EQ(r.survivors.size, 1u);
  EXPECT_EQ(r.survivors.items[0].index, 0);
}

TEST(SelectTruechimers, OrphanParentElectionByLowestAddress) {
  SystemParams params;
  params.orphan_stratum = 8;
  std::vector<PeerSummary> peers = {server(1, 0), server(2, 0), server(3, 0), server(4, 0)};
  for (auto& p : peers) p.stratum = 8;  // all orphan parents
  peers[0].address_refid = 0xc0000270;  // above our own address: not eligible
  peers[1].address_refid = 0xc0000230;
  peers[2].address_refid = 0xc0000220;  // lowest: elected
  peers[3].stratum = 9;                 // an orphan child: may descend from us
  const SelectionResult r = select_truechimers(peers, params, SystemState{});
  EXPECT_EQ(r.status[0], PeerStatus::kFallback);
  EXPECT_EQ(r.status[3], PeerStatus::kRejected);
  EXPECT_EQ(r.fit_failures[3], fit_bit(FitTest::kOrphanStratum));
  ASSERT_EQ(r.survivors.size, 1u);
  EXPECT_EQ(r.survivors.items[0].index, 2);
  EXPECT_EQ(r.fallback, Fallback::kOrphanParentPeer);

  // When our own address is the lowest, nobody is elected: we lead.
  peers[1].address_refid = peers[2].address_refid = 0xc00002f0;
  const SelectionResult us = select_truechimers(peers, params, SystemState{});
  EXPECT_EQ(us.survivors.size, 0u);
}

TEST(SelectTruechimers, StratumBelowOrphanIsANormalCandidate) {
  SystemParams params;
  params.orphan_stratum = 8;
  const std::vector<PeerSummary> peers = {server(1, 0)};
  const SelectionResult r = select_truechimers(peers, params, SystemState{});
  EXPECT_EQ(r.status[0], PeerStatus::kCandidate);
  EXPECT_EQ(r.fallback, Fallback::kNone);
}

TEST(SelectTruechimers, CapsAtMaxPeers) {
  std::vector<PeerSummary> peers;
  for (std::uint32_t i = 0; i < kMaxPeers + 6; ++i) peers.push_back(server(i, 0));
  const SelectionResult r = select_truechimers(peers, SystemParams{}, SystemState{});
  EXPECT_EQ(r.peer_count, kMaxPeers);
  EXPECT_EQ(r.survivors.size, kMaxPeers);
}

TEST(TallyCode, MatchesNtpq) {
  EXPECT_EQ(tally_code(PeerStatus::kRejected), ' ');
  EXPECT_EQ(tally_code(PeerStatus::kFalseticker), 'x');
  EXPECT_EQ(tally_code(PeerStatus::kOutlier), '-');
  EXPECT_EQ(tally_code(PeerStatus::kBackup), '#');
  EXPECT_EQ(tally_code(PeerStatus::kCandidate), '+');
  EXPECT_EQ(tally_code(PeerStatus::kSystemPeer), '*');
}

}  // namespace ntpd::net
