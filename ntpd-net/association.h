// One NTP association's protocol core, ntpd-rs style: the client (mode
// 3 -> 4) or symmetric (modes 1/2) on-wire protocol of RFC 5905 section 8,
// its clock filter (section 10), reach register and poll process (section
// 13). Pure code for ntpd-net: time, randomness and bytes come in as
// arguments, decisions and request bytes go out; no sockets, no clock reads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/time_types.h"
#include "ntpd-net/clock_filter.h"
#include "ntpd-net/interleave_client.h"
#include "ntpd-net/interleave_symmetric.h"
#include "ntpd-net/packet.h"
#include "ntpd-net/peer_summary.h"
#include "ntpd-net/server.h"

namespace ntpd::net {

inline constexpr std::int8_t kPollFloorLog2s = 3;                          // ntpd NTP_MINPOLL
inline constexpr std::int8_t kPollCeilingLog2s = 17;                       // ntpd NTP_MAXPOLL
inline constexpr int kIburstPackets = 6;                                   // ntpd NTP_IBURST
inline constexpr int kBurstPackets = 8;                                    // RFC 5905 BCOUNT
inline constexpr std::int64_t kBurstSpacingNs = 2 * common::kNsPerSecond;  // BTIME
// Poll intervals without a reply before unreachable() and poll backoff.
inline constexpr int kUnreachablePolls = 8;
inline constexpr common::UnixNs kNever{INT64_MAX};

enum class AssociationMode : std::uint8_t {
  kClient,            // sends mode 3, accepts mode 4
  kSymmetricActive,   // sends mode 1, accepts modes 1 and 2
  kSymmetricPassive,  // sends mode 2, accepts mode 1 (the shell mobilizes it on a mode 1)
};

struct AssociationConfig {
  std::uint32_t id = 0;  // association id, copied into PeerSummary
  AssociationMode mode = AssociationMode::kClient;
  std::uint8_t version = 4;        // 1..4 (others become 4)
  std::int8_t minpoll_log2s = 6;   // clamped to [3, 17]
  std::int8_t maxpoll_log2s = 10;  // clamped to [minpoll, 17]
  bool iburst = false;             // client only
  bool burst = false;              // client only
  bool xleave = false;             // interleaved mode (RFC 9769 sections 2 and 3, chrony's xleave)
  bool prefer = false;
  bool noselect = false;
  bool true_chimer = false;                                     // ntp.conf "true"
  std::int8_t precision_log2s = -20;                            // our clock's precision
  std::int64_t max_distance_ns = 3 * common::kNsPerSecond / 2;  // tos maxdist
  std::uint32_t source_address_hash = 0;                        // passed through to PeerSummary
  std::uint32_t address_refid = 0;  // the refid naming this server downstream (PeerSummary)
};

// RFC 5905 A.5.1.1 on-wire and header tests. Bits 0..12 are ntpd's flash
// bits (TEST1..TEST13, as ntpq shows them); bits 16+ are ours. Like
// chrony, every test is evaluated and the failures kept as a bitmask.
enum class OnWireTest : std::uint32_t {
  kDuplicate = 1u << 0,         // TEST1: transmit timestamp seen before (replay)
  kBogus = 1u << 1,             // TEST2: origin is not our outstanding transmit
  kUnsynchronized = 1u << 2,    // TEST3: zero origin, receive or transmit timestamp
  kAccessDenied = 1u << 3,      // TEST4: KoD DENY/RSTR acted on; demobilized
  kAuthentication = 1u << 4,    // TEST5: reserved for auth.h (not checked here)
  kBadSyncOrStratum = 1u << 5,  // TEST6: LI 3, stratum 0 or > 15, reftime after xmt
  kBadHeader = 1u << 6,         // TEST7: root delay / 2 + root dispersion >= MAXDISP
  kDistance = 1u << 10,         // TEST11: sample root distance > maxdist + PHI * poll
  kMalformed = 1u << 16,        // parse_packet rejected the datagram
  kWrongMode = 1u << 17,        // RFC 5905 section 9.2 table: DSCRD for our mode
  kBadRoundTrip = 1u << 18,     // T4 before T1, or later than MAXDISP (client) / 2 maxpolls
};

struct TestMask {
  std::uint32_t bits = 0;
  constexpr bool has(OnWireTest t) const { return (bits & static_cast<std::uint32_t>(t)) != 0; }
  constexpr void set(OnWireTest t) { bits |= static_cast<std::uint32_t>(t); }
  constexpr bool none() const { return bits == 0; }
  friend constexpr bool operator==(TestMask, TestMask) = default;
};
constexpr TestMask mask_of(OnWireTest t) { return TestMask{static_cast<std::uint32_t>(t)}; }

std::string_view to_string(OnWireTest test);  // "TEST2 bogus origin"
std::string to_string(TestMask mask);         // names joined by ", "; "" when none

struct Poll {
  bool due = false;     // call make_request now
  common::UnixNs next;  // when the next request is due (kNever once demobilized)
};

struct TransmitPlan {
  bool send = false;  // false once demobilized: send nothing
  std::array<std::uint8_t, kHeaderBytes> bytes{};
  std::size_t length = 0;  // kHeaderBytes when send
  common::UnixNs next_poll;
};

// RFC 5905 section 8: offset = reference - local (positive: local clock
// behind), delay >= our precision, dispersion epsilon at receive time.
struct Measurement {
  std::int64_t offset_ns = 0;
  std::int64_t delay_ns = 0;
  std::int64_t dispersion_ns = 0;
  std::int64_t root_distance_ns = 0;  // (root delay + delay) / 2 + root dispersion + epsilon
};

enum class ReplyAction : std::uint8_t {
  kDropped,      // a test failed (see failed); no sample, reach unchanged
  kAccepted,     // every test passed; reach set; the sample went to the filter
  kUnfit,        // TEST11 only: reach set, but the sample was not filtered
  kRateLimited,  // KoD RATE with a good origin: poll raised, bursts stopped
  kDenied,       // KoD DENY/RSTR with a good origin: association demobilized
};

struct ReceiveResult {
  ReplyAction action = ReplyAction::kDropped;
  TestMask failed;
  ParseError parse_error = ParseError::kNone;
  std::uint32_t kiss_code = 0;  // refid of a stratum-0 packet (refid_from_ascii)
  Measurement sample;           // set for kAccepted and kUnfit
  FilterUpdate filter = FilterUpdate::kNoValidSample;  // set for kAccepted
  bool interleaved = false;  // an interleaved reply (RFC 9769) completed the previous exchange
  // ...which had already given a basic sample: accepted, not filtered twice.
  bool repeated_exchange = false;
};

// On-wire pieces every association kind shares (this file's Association
// and broadcast_client.h), defined in association_onwire.cc.
//
// Parses a received datagram; on failure marks it kMalformed (with the
// parse error) in `result` and returns nullopt.
std::optional<NtpPacket> parse_received(std::span<const std::uint8_t> bytes, ReceiveResult& result);
// TEST6 and TEST7 of RFC 5905 A.5.1.1 on a packet's header. With
// `interleaved` (RFC 9769) the receive time, not the transmit time, is the
// latest time the server vouches for; without `latest_known` (interleaved
// symmetric packets, RFC 9769 section 3) the reference time is not compared.
TestMask check_header(const NtpPacket& p, common::UnixNs pivot, bool interleaved,
                      bool latest_known = true);
// A precision (log2 s) as ns, capped at MAXDISP.
std::int64_t precision_ns(std::int8_t log2s);
// The clock-filter part of a PeerSummary (RFC 5905 section 10): offset,
// delay and jitter once there is an estimate, dispersion grown to `now`,
// and the epoch of the sample in use. Defined in association.cc.
void fill_filter_summary(const ClockFilter& filter, common::UnixNs now, PeerSummary& s);

class Association {
 public:
  // startup_delay_ns: the randomized first poll, a random value the shell
  // picks (e.g. 0..2 s with iburst, up to 2^minpoll s without).
  Association(const AssociationConfig& config, common::UnixNs now, std::int64_t startup_delay_ns);

  // Whether a request is due at `now` (local time). Never due once demobilized.
  Poll poll_due(common::UnixNs now) const;
  // Runs one step of the poll process (reach shift, burst, backoff; RFC
  // 5905 A.5.7) and builds the request. Client mode sends the data-
  // minimized request of draft-ietf-ntp-data-minimization: zero origin,
  // receive and reference, and transmit = random_cookie (RFC 9109 spirit:
  // unpredictable), remembered to match the reply. Symmetric modes send
  // real timestamps (the peer needs them) and the system variables.
  TransmitPlan make_request(common::UnixNs now, std::uint64_t random_cookie);
  // The kernel's transmit timestamp of the request just built (optional;
  // refines T1). Also where interleaved mode (RFC 9769) will hook in.
  void note_transmit_time(common::UnixNs sent);
  // One datagram from the association's address. receive_time is the
  // kernel RX timestamp (T4); now is the local time of processing.
  ReceiveResult on_reply(std::span<const std::uint8_t> bytes, common::UnixNs receive_time,
                         common::UnixNs now);

  // From each ClockState: the poll the discipline asks for (applied at the
  // next poll, bounded by minpoll/maxpoll), sync state and, for symmetric
  // modes, what we tell the peer about ourselves.
  void set_system(const SystemVars& sys) { system_ = sys; }
  // ClockState.stepped: forget samples and on-wire state, restart polling
  // from minpoll after startup_delay_ns (RFC 5905 clear()). A KoD's raised
  // minpoll and demobilization survive.
  void reset(common::UnixNs now, std::int64_t startup_delay_ns);

  // What selection needs; dispersion_ns is already grown by PHI to `now`.
  PeerSummary summary(common::UnixNs now) const;

  std::uint8_t reach() const { return reach_; }
  std::int8_t poll_log2s() const { return host_poll_log2s_; }     // hpoll
  std::int8_t min_poll_log2s() const { return min_poll_log2s_; }  // raised by KoD RATE
  std::int8_t max_poll_log2s() const { return config_.maxpoll_log2s; }
  bool in_burst() const { return burst_left_ > 0; }
  // kUnreachablePolls poll intervals passed without a valid reply: the
  // shell may re-resolve the name or replace a pool server.
  bool unreachable() const { return missed_polls_ >= kUnreachablePolls; }
  bool demobilized() const { return demobilized_; }
  const AssociationConfig& config() const { return config_; }
  const ClockFilter& filter() const { return filter_; }

 private:
  struct OriginCheck {
    TestMask failed;
    bool matched = false;      // origin is our outstanding transmit timestamp
    bool record = false;       // remember the peer's transmit (org) and our receive (rec)
    bool interleaved = false;  // origin is our receive cookie/field: an interleaved reply
  };
  OriginCheck check_origin(const NtpPacket& packet) const;
  bool act_on_kiss(const NtpPacket& packet, common::UnixNs receive_time, common::UnixNs now,
                   ReceiveResult& result);
  void record_peer(const NtpPacket& packet, common::UnixNs receive_time);
  void accept_sample(const NtpPacket& packet, const Measurement& m, common::UnixNs receive_time,
                     common::UnixNs now, ReceiveResult& result);
  void start_poll_interval(common::UnixNs now);
  void fill_request(NtpPacket& x, common::UnixNs now, std::uint64_t random_cookie);
  std::int8_t interval_log2s() const;
  void schedule_after(common::UnixNs from);

  AssociationConfig config_;
  SystemVars system_;
  ClockFilter filter_;

  // Poll process (RFC 5905 section 13, A.5.7).
  std::int8_t min_poll_log2s_;
  std::int8_t host_poll_log2s_;
  std::int8_t peer_poll_log2s_;  // symmetric modes: the peer's advertised poll
  std::uint8_t reach_ = 0;
  int missed_polls_ = 0;  // poll intervals since the last valid reply (saturates)
  int burst_left_ = 0;    // packets still to send 2 s apart
  bool iburst_armed_ = true;
  bool polled_ = false;
  bool rate_limited_ = false;  // a KoD RATE: no more bursts
  bool demobilized_ = false;   // a KoD DENY/RSTR
  common::UnixNs next_poll_;
  common::UnixNs last_poll_;

  // On-wire state (RFC 5905 section 9.1 peer variables). Interleaved mode
  // (RFC 9769, chrony's xleave) extends this with the previous request's
  // kernel TX timestamp and the peer's previous receive/transmit pair, and
  // check_origin() then also accepts origin == our previous receive time.
  common::NtpTimestamp xmt_wire_;  // our last transmit field (client: the cookie); 0 = none
  common::UnixNs xmt_local_;       // T1: when that request left
  common::NtpTimestamp org_;       // peer's last transmit field (TEST1; symmetric: echoed)
  common::UnixNs rec_local_;       // when that arrived (symmetric: echoed)

  // Header of the last packet that passed TEST1-7.
  std::uint8_t leap_ = 3;
  std::uint8_t stratum_ = 16;
  std::uint32_t refid_ = 0;
  std::int64_t root_delay_ns_ = 0;
  std::int64_t root_dispersion_ns_ = 0;

  // Interleaved mode (RFC 9769): the open exchange and our receive cookie;
  // org_rx_ is the peer's last receive field (TEST1 then needs both equal).
  InterleaveClient xleave_;
  common::NtpTimestamp org_rx_;
  // Interleaved symmetric mode (RFC 9769 section 3).
  InterleaveSymmetric xsym_;
};

}  // namespace ntpd::net
