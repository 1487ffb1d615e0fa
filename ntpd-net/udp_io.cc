// Datagram I/O for UdpEndpoint. Requests bigger than kMaxDatagram are
// truncated by the kernel and dropped here: no NTP packet we answer is
// that large.
#include "ntpd-net/udp_io.h"

#include <netinet/in.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ntpd::net {
namespace {

constexpr std::size_t kMaxDatagram = 1024;
constexpr int kMaxBatch = 64;

// Where the request was addressed, carried into the reply's control data.
struct LocalAddress {
  bool v4 = false;
  bool v6 = false;
  in_pktinfo info4{};
  in6_pktinfo info6{};
};

void parse_control(msghdr& msg, common::UnixNs* received, LocalAddress* local) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *received = common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
               c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
      std::memcpy(&local->info4, CMSG_DATA(c), sizeof local->info4);
      local->v4 = true;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
               c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
      std::memcpy(&local->info6, CMSG_DATA(c), sizeof local->info6);
      local->v6 = true;
    }
  }
}

// Builds control data so the reply leaves from the address the request
// came to (RFC 5905 clients match replies on the server address).
std::size_t build_reply_control(const LocalAddress& local, std::span<std::uint8_t> space) {
  msghdr msg{};
  msg.msg_control = space.data();
  msg.msg_controllen = space.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr) return 0;
  if (local.v4) {
    in_pktinfo info{};
    info.ipi_spec_dst = local.info4.ipi_addr;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  if (local.v6) {
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof local.info6);
    std::memcpy(CMSG_DATA(c), &local.info6, sizeof local.info6);
    return CMSG_SPACE(sizeof local.info6);
  }
  return 0;
}

}  // namespace

common::UnixNs realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
}

UdpEndpoint::UdpEndpoint(common::UniqueFd fd, std::string label, int family)
    : fd_(std::move(fd)), label_(std::move(label)), family_(family) {}

void UdpEndpoint::drain(const Responder& respond, const ReplyFinalizer& finalize) {
  alignas(cmsghdr) std::array<std::uint8_t, 256> control{};
  alignas(cmsghdr) std::array<std::uint8_t, 64> reply_control{};
  std::array<std::uint8_t, kMaxDatagram> request{};
  std::array<std::uint8_t, kMaxDatagram> reply{};
  for (int i = 0; i < kMaxBatch; ++i) {
    sockaddr_storage from{};
    iovec iov{request.data(), request.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN, or an error the next readiness will retry
    ++received_;
    if ((msg.msg_flags & MSG_TRUNC) != 0) continue;
    common::UnixNs received{};
    LocalAddress local;
    parse_control(msg, &received, &local);
    if (received.ns == 0) received = realtime_now();
    std::size_t length =
        respond(std::span(request.data(), static_cast<std::size_t>(n)), from, received, reply);
    if (length == 0) continue;
    const std::size_t control_length = build_reply_control(local, reply_control);
    length = finalize(reply, length);
    if (length == 0) continue;
    iovec out_iov{reply.data(), length};
    msghdr out{};
    out.msg_name = &from;
    out.msg_namelen = msg.msg_namelen;
    out.msg_iov = &out_iov;
    out.msg_iovlen = 1;
    out.msg_control = control_length > 0 ? reply_control.data() : nullptr;
    out.msg_controllen = control_length;
    if (::sendmsg(fd_.get(), &out, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) ++sent_;
  }
}

}  // namespace ntpd::net
