// Broadcast server core (see broadcast_server.h): a fixed schedule and the
// mode 5 bytes. No socket, no clock read.
#include "ntpd-net/broadcast_server.h"

#include <algorithm>

#include "ntpd-net/clock_filter.h"

namespace ntpd::net {
namespace {

constexpr std::uint8_t kLeapNotInSync = 3;
constexpr std::uint8_t kMaxStratum = 15;

BroadcastServerConfig normalized(BroadcastServerConfig c) {
  if (c.version < kMinVersion || c.version > kMaxVersion) c.version = kMaxVersion;
  c.poll_log2s = std::clamp<std::int8_t>(c.poll_log2s, 3, 17);
  return c;
}

}  // namespace

std::size_t build_broadcast(const SystemVars& sys, std::uint8_t version, std::int8_t poll_log2s,
                            common::UnixNs now, std::span<std::uint8_t> out) {
  if (!sys.synchronized || sys.leap == kLeapNotInSync || sys.stratum < 1 ||
      sys.stratum > kMaxStratum) {
    return 0;
  }
  NtpPacket p;
  p.leap = sys.leap;
  p.version = version;
  p.mode = static_cast<std::uint8_t>(Mode::kBroadcast);
  p.stratum = sys.stratum;
  p.poll_log2s = poll_log2s;
  p.precision_log2s = sys.precision_log2s;
  p.root_delay = common::to_ntp_short(std::max<std::int64_t>(sys.root_delay_ns, 0));
  p.root_dispersion = common::to_ntp_short(std::max<std::int64_t>(sys.root_dispersion_ns, 0));
  p.refid = sys.refid;
  if (sys.reference_time.ns != 0) p.reference_time = common::to_ntp(sys.reference_time);
  // RFC 5905 section 9.2: a broadcast packet answers nobody, so origin and
  // receive stay zero; the client takes T3 and its own arrival time.
  p.transmit_time = common::to_ntp(now);
  return build_packet(p, out);
}

BroadcastServer::BroadcastServer(const BroadcastServerConfig& config, common::UnixNs now,
                                 std::int64_t first_delay_ns)
    : config_(normalized(config)),
      next_{now.ns + std::clamp<std::int64_t>(first_delay_ns, 0, log2s_to_ns(config_.poll_log2s))} {
}

std::size_t BroadcastServer::transmit(const SystemVars& sys, common::UnixNs now,
                                      std::span<std::uint8_t> out) {
  // A fixed cadence from the last send: a late wakeup does not bunch packets.
  next_ = common::UnixNs{std::max(next_.ns, now.ns - log2s_to_ns(config_.poll_log2s)) +
                         log2s_to_ns(config_.poll_log2s)};
  if (next_ <= now) next_ = common::UnixNs{now.ns + log2s_to_ns(config_.poll_log2s)};
  const std::size_t length = build_broadcast(sys, config_.version, config_.poll_log2s, now, out);
  if (length > 0) ++sent_;
  return length;
}

}  // namespace ntpd::net
