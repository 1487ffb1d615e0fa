// Software transmit timestamps from the error queue (see tx_timestamps.h).
#include "ntpd-net/tx_timestamps.h"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ntpd::net {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kIpv6Header = 40;

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// The payload of the UDP datagram whose IP header starts at `ip`.
std::span<const std::uint8_t> udp_payload_at(std::span<const std::uint8_t> f, std::size_t ip) {
  if (f.size() <= ip) return {};
  const std::span<const std::uint8_t> packet = f.subspan(ip);
  std::size_t udp = 0;
  std::size_t ip_end = 0;
  if ((packet[0] >> 4) == 4) {
    const std::size_t header = (packet[0] & 0x0f) * 4u;
    if (header < 20 || packet.size() < header || packet[9] != kProtocolUdp) return {};
    ip_end = be16(packet, 2);
    udp = header;
  } else if ((packet[0] >> 4) == 6) {
    if (packet.size() < kIpv6Header || packet[6] != kProtocolUdp) return {};
    ip_end = kIpv6Header + be16(packet, 4);
    udp = kIpv6Header;
  } else {
    return {};
  }
  if (ip_end > packet.size() || ip_end < udp + kUdpHeader) return {};
  const std::size_t udp_length = be16(packet, udp + 4);
  if (udp_length < kUdpHeader || udp + udp_length > ip_end) return {};
  return packet.subspan(udp + kUdpHeader, udp_length - kUdpHeader);
}

}  // namespace

std::span<const std::uint8_t> looped_udp_payload(std::span<const std::uint8_t> frame) {
  if (frame.empty()) return {};
  const std::uint8_t version = frame[0] >> 4;
  if (version == 4 || version == 6) {
    if (auto payload = udp_payload_at(frame, 0); !payload.empty()) return payload;
  }
  if (frame.size() < kEthernetHeader) return {};
  std::size_t ip = kEthernetHeader;
  std::uint16_t type = be16(frame, 12);
  if (type == kEtherVlan && frame.size() >= kEthernetHeader + kVlanTag) {
    type = be16(frame, 16);
    ip += kVlanTag;
  }
  if (type != kEtherIpv4 && type != kEtherIpv6) return {};
  return udp_payload_at(frame, ip);
}

bool enable_tx_timestamps(int fd) {
  // Software timestamps only: generated where the driver hands the packet
  // to the device, with the packet looped back (no OPT_TSONLY) so that a
  // timestamp is matched by content, never by counting sends.
  const int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

bool enable_tx_timestamp_reports(int fd) {
  const int flags = SOF_TIMESTAMPING_SOFTWARE;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

std::size_t append_tx_timestamp_request(std::span<std::uint8_t> control, std::size_t used) {
  const std::uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE;
  if (used > control.size() || control.size() - used < CMSG_SPACE(sizeof flags)) return used;
  // Built by hand at an offset; `control` is cmsghdr-aligned and `used` is
  // a multiple of CMSG_ALIGN, so the header lands aligned.
  cmsghdr header{};
  header.cmsg_level = SOL_SOCKET;
  header.cmsg_type = SO_TIMESTAMPING;
  header.cmsg_len = CMSG_LEN(sizeof flags);
  std::memcpy(control.data() + used, &header, sizeof header);
  std::memcpy(control.data() + used + CMSG_LEN(0), &flags, sizeof flags);
  return used + CMSG_SPACE(sizeof flags);
}

int drain_tx_timestamps(int fd, const TxTimestampSink& on_timestamp, int max_messages) {
  alignas(cmsghdr) std::array<std::uint8_t, 512> control{};
  std::array<std::uint8_t, 1600> frame{};
  int delivered = 0;
  for (int i = 0; i < max_messages; ++i) {
    iovec iov{frame.data(), frame.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) break;
    if ((msg.msg_flags & MSG_TRUNC) != 0) continue;
    common::UnixNs sent{};
    bool from_timestamping = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
          c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
        scm_timestamping ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        sent = common::UnixNs{ts.ts[0].tv_sec * common::kNsPerSecond + ts.ts[0].tv_nsec};
      } else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
                 c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
        sock_extended_err err{};
        std::memcpy(&err, CMSG_DATA(c), sizeof err);
        from_timestamping = err.ee_errno == ENOMSG && err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING;
      }
    }
    if (!from_timestamping || sent.ns <= 0) continue;
    const auto payload = looped_udp_payload(std::span(frame.data(), static_cast<std::size_t>(n)));
    if (payload.empty()) continue;
    on_timestamp(payload, sent);
    ++delivered;
  }
  return delivered;
}

}  // namespace ntpd::net
