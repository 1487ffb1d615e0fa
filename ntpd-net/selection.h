// Selection, first step of the system process (RFC 5905 section 11.2.1,
// A.5.5.1-3; ntpd 4.2.8 clock_select, peer_unfit): fitness tests, the
// intersection that splits truechimers from falsetickers, and the fallbacks
// (local clock, orphan parent). Pure ntpd-net core: no I/O, clock or heap.
// Never picks the system peer or combines. Offsets: reference - local.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "ntpd-net/clock_filter.h"  // kPhiNsPerSecond (RFC 5905 PHI)
#include "ntpd-net/peer_summary.h"

namespace ntpd::net {

// At most this many associations take part; further entries are ignored.
inline constexpr std::size_t kMaxPeers = 64;
inline constexpr std::uint8_t kStratumUnspec = 16;                // RFC 5905 MAXSTRAT
inline constexpr std::int64_t kDefaultMaxDistNs = 1'500'000'000;  // tos maxdist (NTP_MAXDIST)
inline constexpr std::int64_t kDefaultMinDistNs = 1'000'000;      // tos mindist (ntpd 1 ms)
// Inputs beyond these are corrupt (FitTest::kInvalid): |offset| up to ~73
// years, durations up to 65536 s (the largest NTP short-format value).
inline constexpr std::int64_t kMaxPeerOffsetNs = std::int64_t{1} << 61;
inline constexpr std::int64_t kMaxPeerDurationNs = 65'536LL * 1'000'000'000LL;
// Durations in a SystemSample are clamped to RFC 5905 MAXDISP (16 s).
inline constexpr std::int64_t kMaxSampleDurationNs = 16LL * 1'000'000'000LL;
// ntpd LOOPBACKADR: the orphan parent's refid, exempt from the loop test.
inline constexpr std::uint32_t kRefidLoopback = 0x7f000001;

// The `tos` settings (ntp.conf) and timers that selection depends on.
struct SystemParams {
  std::int64_t maxdist_ns = kDefaultMaxDistNs;  // distance threshold (test 11)
  std::int64_t mindist_ns = kDefaultMinDistNs;  // root distance floor, clockhop scale
  int minclock = 3;                             // clustering stops at this many survivors (NMIN)
  int maxclock = 10;                            // peers dropped above this count are "backup" ('#')
  int minsane = 1;                              // fewer survivors than this: no system peer
  std::uint8_t floor = 0;                       // reject peers below this stratum
  std::uint8_t ceiling = 15;  // reject peers at or above this stratum (ntpd default)
  std::optional<std::uint8_t> orphan_stratum;  // tos orphan N (1..15); empty: off
  // ntpd orphwait (tos orphanwait): the shell's startup / lost-peer timer
  // has run out. Gates the local clock fallback and becoming orphan parent.
  bool orphan_wait_over = false;
};

// What the previous decision left behind (SystemDecision::next_state).
struct SystemState {
  std::optional<std::uint32_t> system_peer_id;  // last system peer, if any
  // The system refid we advertise (loop test 12); ntpd starts with "INIT".
  std::uint32_t refid = 0x494e4954;
  std::int64_t clockhop_ns = 0;  // ntpd sys_clockhop: the decaying hop threshold
  // epoch_ns of the peer sample behind the last SystemSample (ntpd sys_epoch).
  std::int64_t last_epoch_ns = std::numeric_limits<std::int64_t>::min();
};

// Fitness test failures (RFC 5905 A.5.5.3 fit(), ntpd peer_unfit TEST10-13),
// a bit mask so logs and mode 6 can say why a peer was rejected.
enum class FitTest : std::uint16_t {
  kInvalid = 1U << 0,        // corrupt numbers: negative duration, absurd offset, leap > 3
  kStratum = 1U << 1,        // test 10: leap 3, or stratum < floor or >= ceiling
  kDistance = 1U << 2,       // test 11: root distance >= maxdist + PHI * 2^poll
  kLoop = 1U << 3,           // test 12: synchronized to us or to our system peer
  kUnreachable = 1U << 4,    // test 13: reach register is zero
  kNoSelect = 1U << 5,       // test 13 (ntpd): configured noselect
  kOrphanStratum = 1U << 6,  // stratum above tos orphan: may descend from us (ntp bug 2050)
};
using FitFailures = std::uint16_t;
constexpr FitFailures fit_bit(FitTest test) { return static_cast<FitFailures>(test); }
constexpr bool has_failure(FitFailures mask, FitTest test) { return (mask & fit_bit(test)) != 0; }

// Where each peer ended up, with ntpq's tally codes (ntpd CTL_PST_SEL_*).
enum class PeerStatus : std::uint8_t {
  kRejected,     // ' ' failed a fitness test (see fit_failures)
  kFallback,     // ' ' fit, but a last resort (local clock, orphan parent) not needed
  kFalseticker,  // 'x' correctness interval misses the intersection (section 11.2.1)
  kOutlier,      // '-' discarded by clustering (section 11.2.2)
  kBackup,       // '#' discarded by clustering while more than maxclock remained
  kCandidate,    // '+' survivor, combined into the system offset
  kSystemPeer,   // '*'
};
char tally_code(PeerStatus status);

// A survivor of selection (and later of clustering).
struct Survivor {
  std::uint8_t index = 0;             // into the peers span
  std::int64_t root_distance_ns = 0;  // Lambda: interval half-width and combine weight 1/Lambda
  double selection_jitter_ns = 0;     // phi_s, filled by cluster_survivors
};

// Fixed-capacity list of survivors, in input order.
struct SurvivorList {
  std::array<Survivor, kMaxPeers> items{};
  std::size_t size = 0;

  void push_back(const Survivor& s) {
    if (size < kMaxPeers) items[size++] = s;
  }
  void erase_at(std::size_t i);
  std::span<const Survivor> view() const { return {items.data(), size}; }
};

// A correctness interval [offset - Lambda, offset + Lambda].
struct CorrectnessInterval {
  std::int64_t offset_ns = 0;
  std::int64_t root_distance_ns = 0;
};

struct Intersection {
  bool found = false;  // false: no majority agrees ("the Albanians won")
  std::int64_t low_ns = 0;
  std::int64_t high_ns = 0;
  std::size_t falsetickers_allowed = 0;
};

enum class Fallback : std::uint8_t { kNone, kLocalClock, kOrphanParentPeer };

struct SelectionResult {
  std::size_t peer_count = 0;  // min(peers.size(), kMaxPeers)
  std::array<PeerStatus, kMaxPeers> status{};
  std::array<FitFailures, kMaxPeers> fit_failures{};
  std::size_t candidate_count = 0;  // fit peers that entered the intersection
  Intersection intersection;
  SurvivorList survivors;  // the truechimers, or the one fallback
  Fallback fallback = Fallback::kNone;
};

// RFC 5905 A.5.5.2 root_dist / ntpd root_distance, in ns:
//   Lambda = (delta + DELTA_r) / 2 + epsilon + E_r + psi, at least mindist_ns
// (and at least 1 ns). The PHI * age term is already in dispersion_ns.
// Components are clamped to [0, kMaxPeerDurationNs], so it never overflows.
std::int64_t root_distance_ns(const PeerSummary& peer, std::int64_t mindist_ns);

// The fitness tests of RFC 5905 A.5.5.3 as ntpd applies them (peer_unfit):
// returns 0 when fit. `state.refid` is our current system refid (test 12).
FitFailures check_fit(const PeerSummary& peer, const SystemParams& params,
                      const SystemState& state);

// The intersection algorithm (RFC 5905 section 11.2.1, in ntpd's form): for
// f = 0, 1, ... while 2f < n, find the smallest interval [low, high] with
// points from at least n - f correctness intervals; success when high > low.
Intersection intersect_intervals(std::span<const CorrectnessInterval> intervals);

// ntpd's truechimer rule: the correctness interval overlaps [low, high].
bool is_truechimer(const CorrectnessInterval& interval, const Intersection& intersection);

// Fitness tests, orphan/local-clock sorting, intersection, truechimers.
// Survivors are the truechimers plus peers marked true_chimer; when there
// are none, the local clock (once orphan_wait_over), else the elected
// orphan parent peer, is the sole survivor (ntpd clock_select fallbacks).
SelectionResult select_truechimers(std::span<const PeerSummary> peers, const SystemParams& params,
                                   const SystemState& state);

}  // namespace ntpd::net
