// Broadcast and multicast client sockets (see broadcast_sockets.h).
#include "ntpd-clock/broadcast_sockets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/log.h"

namespace ntpd::clock {
namespace {

struct IfaddrsFree {
  void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

std::string text_of(in_addr address) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address, text, sizeof text);
  return text;
}

// A UDP socket bound to address:port with kernel receive timestamps and
// PKTINFO (what udp_io expects of every inherited socket).
common::UniqueFd bind_receive_socket(in_addr address, std::uint16_t port, std::string* error) {
  common::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int on = 1;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr = address;
  if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
      setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 ||
      bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
    *error = "cannot bind " + text_of(address) + " port " + std::to_string(port) + ": " +
             std::strerror(errno);
    return {};
  }
  return fd;
}

bool is_wildcard_v4(const OpenedListenSocket& s) {
  return s.address == "0.0.0.0" && !s.receive_only;
}

// Joins `group` on every up, multicast-capable IPv4 interface; the count.
int join_everywhere(int fd, in_addr group, const ifaddrs* list) {
  int joined = 0;
  std::vector<unsigned> done;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_MULTICAST) == 0) continue;
    const unsigned index = if_nametoindex(i->ifa_name);
    if (index == 0 || std::find(done.begin(), done.end(), index) != done.end()) continue;
    done.push_back(index);
    ip_mreqn request{};
    request.imr_multiaddr = group;
    request.imr_ifindex = static_cast<int>(index);
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) == 0) {
      ++joined;
    } else {
      common::logf(LOG_WARNING, "IO: cannot join %s on %s: %s", text_of(group).c_str(), i->ifa_name,
                   std::strerror(errno));
    }
  }
  return joined;
}

void open_broadcast(const BroadcastClientSockets& spec, const ifaddrs* list,
                    std::vector<OpenedListenSocket>* sockets, int* opened) {
  if (std::any_of(sockets->begin(), sockets->end(), is_wildcard_v4)) {
    // The wildcard socket already receives every broadcast to port 123.
    ++*opened;
    return;
  }
  std::vector<in_addr_t> seen;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_BROADCAST) == 0) continue;
    if (i->ifa_broadaddr == nullptr || i->ifa_broadaddr->sa_family != AF_INET) continue;
    const in_addr broadcast = reinterpret_cast<const sockaddr_in*>(i->ifa_broadaddr)->sin_addr;
    if (std::find(seen.begin(), seen.end(), broadcast.s_addr) != seen.end()) continue;
    seen.push_back(broadcast.s_addr);
    std::string why;
    common::UniqueFd fd = bind_receive_socket(broadcast, spec.port, &why);
    if (!fd) {
      common::logf(LOG_WARNING, "IO: broadcastclient on %s: %s", i->ifa_name, why.c_str());
      continue;
    }
    common::logf(LOG_INFO, "IO: listening for broadcasts on %s (%s)", text_of(broadcast).c_str(),
                 i->ifa_name);
    sockets->push_back(OpenedListenSocket{std::move(fd), text_of(broadcast), spec.port, true});
    ++*opened;
  }
}

void open_group(const common::ConfigAddress& group_address, std::uint16_t port, const ifaddrs* list,
                std::vector<OpenedListenSocket>* sockets, int* opened) {
  if (group_address.family != common::AddressFamily::kIpv4) {
    common::logf(LOG_WARNING, "IO: multicastclient %s: IPv6 groups are not supported; skipped",
                 group_address.to_string().c_str());
    return;
  }
  in_addr group{};
  std::memcpy(&group.s_addr, group_address.bytes.data(), 4);
  const auto wildcard = std::find_if(sockets->begin(), sockets->end(), is_wildcard_v4);
  if (wildcard != sockets->end()) {
    // Joining on the wildcard socket is enough: it receives the group.
    if (join_everywhere(wildcard->fd.get(), group, list) > 0) ++*opened;
    return;
  }
  std::string why;
  common::UniqueFd fd = bind_receive_socket(group, port, &why);
  if (!fd) {
    common::logf(LOG_WARNING, "IO: multicastclient: %s", why.c_str());
    return;
  }
  if (join_everywhere(fd.get(), group, list) == 0) {
    common::logf(LOG_WARNING, "IO: multicastclient %s: no multicast-capable interface",
                 text_of(group).c_str());
    return;
  }
  common::logf(LOG_INFO, "IO: listening for multicasts on %s", text_of(group).c_str());
  sockets->push_back(OpenedListenSocket{std::move(fd), text_of(group), port, true});
  ++*opened;
}

}  // namespace

BroadcastClientSockets broadcast_client_sockets_for(const Options& options,
                                                    const common::NtpConfig& config) {
  BroadcastClientSockets spec;
  spec.broadcast =
      options.broadcast_client || config.broadcast_client || config.flags.bclient.value_or(false);
  spec.groups = config.multicast_groups;
  if (options.multicast_client && spec.groups.empty()) {
    // -m: the IANA NTP group, as ntpd.
    common::ConfigAddress group;
    group.bytes = {224, 0, 1, 1};
    spec.groups.push_back(group);
  }
  if (options.ipv6_only) {
    spec.broadcast = false;
    spec.groups.clear();
  }
  return spec;
}

bool open_broadcast_client_sockets(const BroadcastClientSockets& spec,
                                   std::vector<OpenedListenSocket>* sockets, std::string* error) {
  if (!spec.broadcast && spec.groups.empty()) return true;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) {
    *error = std::string("getifaddrs: ") + std::strerror(errno);
    return false;
  }
  const std::unique_ptr<ifaddrs, IfaddrsFree> list(raw);
  int opened = 0;
  if (spec.broadcast) open_broadcast(spec, list.get(), sockets, &opened);
  for (const auto& group : spec.groups) open_group(group, spec.port, list.get(), sockets, &opened);
  if (opened == 0) {
    *error = "broadcast/multicast client: no interface to listen on";
    return false;
  }
  return true;
}

}  // namespace ntpd::clock
