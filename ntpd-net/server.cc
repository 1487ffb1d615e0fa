// The stateless server reply (see server.h). Decides from the request and
// the system variables only; it must never keep per-client state, read a
// clock, or emit more bytes than it received.
#include "ntpd-net/server.h"

namespace ntpd::net {
namespace {

constexpr std::size_t kOffsetTransmit = 40;  // RFC 5905 figure 8
constexpr std::uint8_t kLeapNotInSync = 3;   // RFC 5905 figure 9
// RFC 5905 figure 11: stratum 16 (unsynchronized) is 0 on the wire.
// ntpd fast_xmit sends STRATUM_TO_PKT(sys_stratum), which maps 16 to 0.
constexpr std::uint8_t kStratumUnspecifiedWire = 0;
constexpr std::uint8_t kMaxSyncedStratum = 15;

ServerDecision ignore(IgnoreReason reason, ParseError parse_error = ParseError::kNone) {
  return ServerDecision{ServerDecision::Action::kIgnore, 0, reason, parse_error};
}

// The mode we answer with, or kReserved for "do not answer".
Mode reply_mode(const NtpPacket& request) {
  switch (static_cast<Mode>(request.mode)) {
    case Mode::kClient:
      return Mode::kServer;
    case Mode::kReserved:
      // ntpd receive(): "In very early NTP versions mode 0 was equivalent
      // to what later versions would interpret as client mode"; only for
      // version 1 (NTP_OLDVERSION); other versions drop it.
      return request.version == 1 ? Mode::kServer : Mode::kReserved;
    case Mode::kSymmetricActive:
      // ntpd receive(), AM_NEWPASS without authentication: fast_xmit with
      // MODE_PASSIVE and no association (w32time's symmetric requests).
      return Mode::kSymmetricPassive;
    default:
      // Modes 2, 4, 5 need an association; 6 and 7 are control/private.
      return Mode::kReserved;
  }
}

// ntpd fast_xmit: xpkt.ppoll = max(rpkt->ppoll, ntp_minpoll), compared as
// unsigned bytes: 0..2 become 3, and a negative (sub-second, as chrony
// clients use) poll compares as 128..255 and is echoed unchanged.
std::int8_t reply_poll(std::int8_t request_poll) {
  if (request_poll >= 0 && request_poll < kMinPollLog2s) return kMinPollLog2s;
  return request_poll;
}

common::NtpTimestamp reference_timestamp(common::UnixNs reference_time) {
  // RFC 5905 section 6: a zero timestamp means "unknown"; ntpd sends its
  // never-set sys_reftime as zero.
  if (reference_time.ns == 0) return common::NtpTimestamp{};
  return common::to_ntp(reference_time);
}

NtpPacket reply_header(const NtpPacket& request, Mode mode, common::UnixNs receive_time,
                       common::UnixNs transmit_time, const SystemVars& sys) {
  NtpPacket reply;
  reply.version = request.version;  // ntpd: PKT_VERSION(rpkt->li_vn_mode)
  reply.mode = static_cast<std::uint8_t>(mode);
  reply.poll_log2s = reply_poll(request.poll_log2s);
  reply.precision_log2s = sys.precision_log2s;
  reply.root_delay = common::to_ntp_short(sys.root_delay_ns);
  reply.root_dispersion = common::to_ntp_short(sys.root_dispersion_ns);
  reply.reference_time = reference_timestamp(sys.reference_time);
  // RFC 5905 section 9.2 / ntpd: origin is the request's transmit
  // timestamp, copied as received (even zero), so the client can match it.
  reply.origin_time = request.transmit_time;
  reply.receive_time = common::to_ntp(receive_time);
  reply.transmit_time = common::to_ntp(transmit_time);

  const bool synced = sys.synchronized && sys.stratum >= 1 && sys.stratum <= kMaxSyncedStratum;
  if (synced) {
    reply.leap = static_cast<std::uint8_t>(sys.leap & 0x3);
    reply.stratum = sys.stratum;
    reply.refid = sys.refid;
  } else {
    // RFC 5905 section 7.3: LI 3 = clock unsynchronized; ntpd answers
    // with sys_leap = LEAP_NOTINSYNC, stratum 16 sent as 0, refid "INIT".
    reply.leap = kLeapNotInSync;
    reply.stratum = kStratumUnspecifiedWire;
    reply.refid = kRefidInit;
  }
  return reply;
}

}  // namespace

std::string_view to_string(IgnoreReason reason) {
  switch (reason) {
    case IgnoreReason::kNone:
      return "none";
    case IgnoreReason::kUnparseable:
      return "unparseable packet";
    case IgnoreReason::kModeNotServed:
      return "mode not served";
    case IgnoreReason::kOutputTooSmall:
      return "output buffer too small";
    case IgnoreReason::kWouldAmplify:
      return "reply would be longer than the request";
  }
  return "unknown ignore reason";
}

ServerDecision respond(std::span<const std::uint8_t> request, common::UnixNs receive_time,
                       common::UnixNs transmit_time, const SystemVars& sys,
                       std::span<std::uint8_t> out) {
  ParseError why = ParseError::kNone;
  const std::optional<NtpPacket> parsed = parse_packet(request, &why);
  if (!parsed) return ignore(IgnoreReason::kUnparseable, why);

  const Mode mode = reply_mode(*parsed);
  if (mode == Mode::kReserved) return ignore(IgnoreReason::kModeNotServed);

  // Extension fields and MACs are not echoed yet; a later MAC goes after
  // the header and must still respect this bound.
  const std::size_t reply_length = kHeaderBytes;
  if (reply_length > request.size()) return ignore(IgnoreReason::kWouldAmplify);
  if (out.size() < reply_length) return ignore(IgnoreReason::kOutputTooSmall);

  const NtpPacket reply = reply_header(*parsed, mode, receive_time, transmit_time, sys);
  const std::size_t written = build_packet(reply, out);
  return ServerDecision{ServerDecision::Action::kReply, written, IgnoreReason::kNone,
                        ParseError::kNone};
}

bool stamp_transmit(std::span<std::uint8_t> reply, common::UnixNs now) {
  if (reply.size() < kHeaderBytes) return false;
  store_be64(reply, kOffsetTransmit, common::to_ntp(now).raw);
  return true;
}

}  // namespace ntpd::net
