// The stateless server reply (RFC 5905 sections 8 and 9, ntpd fast_xmit):
// given a request's bytes, two timestamps and the system variables, decide
// to ignore or to answer, and write the answer. Pure code for ntpd-net: no
// clock reads, sockets, allocation or exceptions; never writes a reply
// longer than the request (no amplification, DESIGN.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/time_types.h"
#include "ntpd-net/packet.h"

namespace ntpd::net {

// ntpd NTP_MINPOLL: the smallest poll exponent a reply advertises.
inline constexpr std::int8_t kMinPollLog2s = 3;
// refid sent while unsynchronized (ntpd's initial sys_refid; also an
// RFC 5905 section 7.4 kiss code clients treat as "not yet synchronized").
inline constexpr std::uint32_t kRefidInit = refid_from_ascii("INIT");

// What the server says about itself; the shell copies it from the latest
// ClockState and the selection result.
struct SystemVars {
  bool synchronized = false;
  std::uint8_t leap = 3;      // RFC 5905 LI, 0..3 (used when synchronized)
  std::uint8_t stratum = 16;  // 1..15 when synchronized; 16 = unsynchronized
  std::int8_t precision_log2s = -20;
  std::int64_t root_delay_ns = 0;       // >= 0; clamped to the 16.16 range
  std::int64_t root_dispersion_ns = 0;  // >= 0; clamped to the 16.16 range
  std::uint32_t refid = 0;              // see refid_from_ascii
  common::UnixNs reference_time;        // last clock update; {0} = never (sent as 0)
  // The system poll exponent. Not put in server replies: ntpd fast_xmit
  // advertises the client's poll (see respond), kept for mode 6 readouts.
  std::int8_t poll_log2s = 6;
};

enum class IgnoreReason : std::uint8_t {
  kNone = 0,
  kUnparseable,     // parse_packet rejected it; see parse_error
  kModeNotServed,   // modes 0 (v2-4), 2, 4, 5; 6 and 7 belong to other modules
  kOutputTooSmall,  // out cannot hold the reply
  kWouldAmplify,    // the reply would be longer than the request
};

std::string_view to_string(IgnoreReason reason);

struct ServerDecision {
  enum class Action : std::uint8_t { kIgnore, kReply };
  Action action = Action::kIgnore;
  std::size_t length = 0;  // bytes written to out when kReply
  IgnoreReason reason = IgnoreReason::kNone;
  ParseError parse_error = ParseError::kNone;
};

// Answers one request received at receive_time (the kernel RX timestamp).
// Replies to mode 3 (and NTPv1 mode 0, which ntpd treats as client) with
// mode 4, and to mode 1 with a stateless mode 2 (ntpd does this for an
// unknown, unauthenticated symmetric active peer, which is what w32time
// sends); the caller routes packets of known associations elsewhere.
// The reply echoes the version, copies the request's transmit timestamp
// bit-exact into origin, and carries transmit_time; the shell may restamp
// it with stamp_transmit just before sending. Reply length is 48 bytes and
// never more than request.size().
ServerDecision respond(std::span<const std::uint8_t> request, common::UnixNs receive_time,
                       common::UnixNs transmit_time, const SystemVars& sys,
                       std::span<std::uint8_t> out);

// Overwrites only the transmit timestamp (bytes 40..47) of a built reply.
// Returns false, writing nothing, if reply is shorter than the header. If a
// MAC is ever appended, stamp before computing it.
bool stamp_transmit(std::span<std::uint8_t> reply, common::UnixNs now);

}  // namespace ntpd::net
