// Interleaved client/server mode, server side (see interleave_server.h).
// Never changes a reply's length and never answers a request it would not
// answer in basic mode: it only rewrites two timestamps of a built reply.
#include "ntpd-net/interleave_server.h"

#include <netinet/in.h>

#include <cstring>

namespace ntpd::net {
namespace {

constexpr std::size_t kOffsetOrigin = 24;  // RFC 5905 figure 8
constexpr std::size_t kOffsetReceive = 32;
constexpr std::size_t kOffsetTransmit = 40;

std::uint64_t fnv1a(const void* data, std::size_t length, std::uint64_t hash) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < length; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  return hash;
}

}  // namespace

std::uint64_t interleave_client_key(const sockaddr_storage& from) {
  constexpr std::uint64_t kBasis = 0xcbf29ce484222325ULL;
  if (from.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(from);
    return fnv1a(&v4.sin_addr, sizeof v4.sin_addr, kBasis ^ AF_INET);
  }
  if (from.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(from);
    return fnv1a(&v6.sin6_addr, sizeof v6.sin6_addr, kBasis ^ AF_INET6);
  }
  return kBasis;
}

std::optional<common::UnixNs> interleaved_previous_transmit(const NtpPacket& request,
                                                            std::uint64_t client,
                                                            const InterleaveStore& store) {
  if (static_cast<Mode>(request.mode) != Mode::kClient) return std::nullopt;
  // The client echoes our earlier receive timestamp as origin and sends a
  // receive field of its own that our interleaved reply echoes back; a
  // receive equal to transmit could not tell the two reply kinds apart.
  if (request.origin_time.is_zero() || request.receive_time.is_zero() ||
      request.receive_time == request.transmit_time) {
    return std::nullopt;
  }
  return store.transmit_time(request.origin_time, client);
}

bool make_interleaved_reply(std::span<std::uint8_t> reply, common::NtpTimestamp request_receive,
                            common::UnixNs previous_transmit) {
  if (reply.size() < kHeaderBytes) return false;
  store_be64(reply, kOffsetOrigin, request_receive.raw);
  store_be64(reply, kOffsetTransmit, common::to_ntp(previous_transmit).raw);
  return true;
}

InterleavePending InterleaveServer::prepare(std::span<const std::uint8_t> request,
                                            std::uint64_t client, std::span<std::uint8_t> reply,
                                            std::size_t length) {
  InterleavePending pending;
  if (length < kHeaderBytes || length > reply.size()) return pending;
  ParseError why = ParseError::kNone;
  const auto parsed = parse_packet(request, &why);
  if (!parsed || (reply[0] & 0x7) != static_cast<std::uint8_t>(Mode::kServer)) return pending;
  pending.remember = true;
  pending.key = common::NtpTimestamp{load_be64(reply, kOffsetReceive)};
  pending.client = client;
  const auto previous = interleaved_previous_transmit(*parsed, client, store_);
  if (!previous) return pending;
  make_interleaved_reply(reply.first(length), parsed->receive_time, *previous);
  pending.interleaved = true;
  ++interleaved_;
  return pending;
}

void InterleaveServer::sent(const InterleavePending& reply, common::UnixNs now) {
  if (reply.remember) store_.save(reply.key, reply.client, now);
}

bool InterleaveServer::kernel_transmit(std::span<const std::uint8_t> datagram,
                                       common::UnixNs sent) {
  if (datagram.size() < kHeaderBytes ||
      (datagram[0] & 0x7) != static_cast<std::uint8_t>(Mode::kServer)) {
    return false;
  }
  const common::NtpTimestamp key{load_be64(datagram, kOffsetReceive)};
  // The user-space stamp is taken before sendmsg, so the kernel's is later.
  if (!store_.refine(key, sent, 0, kMaxTransmitLateNs)) return false;
  ++kernel_stamps_;
  return true;
}

}  // namespace ntpd::net
