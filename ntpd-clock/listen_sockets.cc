// Wildcard UDP sockets with the options ntpd-net's udp_io relies on.
#include "ntpd-clock/listen_sockets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "ntpd-clock/cli_options.h"
#include "ntpd-clock/reuseport_steering.h"

namespace ntpd::clock {
namespace {

// A busy server's requests arrive in bursts and the process is not always
// on a CPU at once: room for a few thousand requests (the kernel charges
// about 1 KiB per small datagram) instead of the default's few hundred.
// The kernel caps it at net.core.rmem_max, which the administrator sets.
constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;

bool set_option(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

// Binds `address` (numeric; empty means the family's wildcard).
bool open_one(int family, const std::string& bind_address, std::uint16_t port, bool reuseport,
              OpenedListenSocket* out, std::string* error, bool* family_missing) {
  const std::string text =
      bind_address.empty() ? (family == AF_INET ? "0.0.0.0" : "::") : bind_address;
  const char* address = text.c_str();
  common::UniqueFd fd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *family_missing = family == AF_INET6 && errno == EAFNOSUPPORT;
    *error = std::string("socket(") + address + "): " + std::strerror(errno);
    return false;
  }
  bool ok = set_option(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, 1);
  if (reuseport) ok = ok && set_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1);
  // Best effort: a smaller buffer only means earlier drops under load.
  set_option(fd.get(), SOL_SOCKET, SO_RCVBUF, kReceiveBufferBytes);
  if (family == AF_INET) {
    ok = ok && set_option(fd.get(), IPPROTO_IP, IP_PKTINFO, 1);
  } else {
    ok = ok && set_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1) &&
         set_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
  }
  if (!ok) {
    *error = std::string("setsockopt on ") + address + ": " + std::strerror(errno);
    return false;
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, address, &sin->sin_addr);
    length = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, address, &sin6->sin6_addr);
    length = sizeof *sin6;
  }
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const int saved = errno;
    *family_missing = family == AF_INET6 && saved == EADDRNOTAVAIL;
    *error = std::string("cannot bind ") + address + " port " + std::to_string(port) + ": " +
             std::strerror(saved);
    if (saved == EADDRINUSE) *error += " (another NTP daemon is running?)";
    return false;
  }
  out->fd = std::move(fd);
  out->address = address;
  out->port = port;
  return true;
}

// Socket 0 of the address and, with more threads, its group partners.
bool open_group(int family, const std::string& bind_address, const ListenSocketSpec& spec,
                std::vector<OpenedListenSocket>* out, std::string* error, bool* family_missing) {
  const int count = spec.server_threads < 1 ? 1 : spec.server_threads;
  const bool reuseport = count > 1;
  if (reuseport) {
    // A plain bind first: another daemon's SO_REUSEPORT socket of the same
    // owner would otherwise let our group join it silently.
    OpenedListenSocket probe;
    if (!open_one(family, bind_address, spec.port, false, &probe, error, family_missing)) {
      return false;
    }
  }
  std::vector<OpenedListenSocket> group;
  for (int i = 0; i < count; ++i) {
    OpenedListenSocket opened;
    if (!open_one(family, bind_address, spec.port, reuseport, &opened, error, family_missing)) {
      return false;
    }
    opened.server_thread = static_cast<unsigned>(i);
    group.push_back(std::move(opened));
  }
  if (reuseport) {
    std::string why;
    if (!attach_client_steering(group[0].fd.get(), static_cast<unsigned>(count), &why)) {
      // Unsteered, a client's requests would spread over threads with
      // separate rate-limit state, and symmetric peers could miss the main
      // thread: serve from socket 0 alone instead.
      common::logf(LOG_WARNING, "IO: %s port %u: %s; serving with one thread",
                   group[0].address.c_str(), spec.port, why.c_str());
      group.resize(1);
    }
  }
  for (auto& opened : group) out->push_back(std::move(opened));
  return true;
}

}  // namespace

// The numeric addresses -I names: an address itself, or every address of
// the interface with that name.
std::vector<std::pair<int, std::string>> resolve_interfaces(const std::vector<std::string>& names,
                                                            std::string* error) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& name : names) {
    in6_addr probe{};
    if (inet_pton(AF_INET, name.c_str(), &probe) == 1) {
      out.emplace_back(AF_INET, name);
      continue;
    }
    if (inet_pton(AF_INET6, name.c_str(), &probe) == 1) {
      out.emplace_back(AF_INET6, name);
      continue;
    }
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
      *error = std::string("getifaddrs: ") + std::strerror(errno);
      return {};
    }
    const std::size_t before = out.size();
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || name != i->ifa_name) continue;
      const int family = i->ifa_addr->sa_family;
      if (family != AF_INET && family != AF_INET6) continue;
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw =
          family == AF_INET
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr);
      inet_ntop(family, raw, text, sizeof text);
      out.emplace_back(family, text);
    }
    freeifaddrs(list);
    if (out.size() == before) {
      *error = "-I " + name + ": no such interface or address";
      return {};
    }
  }
  return out;
}

int server_thread_count(std::optional<int> requested) {
  if (requested) return std::clamp(*requested, 1, kMaxServerThreads);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online < 1) return 1;
  return static_cast<int>(std::min<long>(online, kDefaultMaxServerThreads));
}

bool open_listen_sockets(const ListenSocketSpec& spec, std::vector<OpenedListenSocket>* out,
                         std::string* error) {
  if (!spec.interfaces.empty()) {
    const auto addresses = resolve_interfaces(spec.interfaces, error);
    if (addresses.empty()) return false;
    for (const auto& [family, address] : addresses) {
      if ((family == AF_INET && !spec.ipv4) || (family == AF_INET6 && !spec.ipv6)) continue;
      bool family_missing = false;
      if (!open_group(family, address, spec, out, error, &family_missing)) return false;
    }
    return true;
  }
  for (int family : {AF_INET, AF_INET6}) {
    if ((family == AF_INET && !spec.ipv4) || (family == AF_INET6 && !spec.ipv6)) continue;
    bool family_missing = false;
    if (!open_group(family, "", spec, out, error, &family_missing)) {
      if (family_missing && spec.ipv4) {
        common::logf(LOG_WARNING, "IO: IPv6 not available, serving IPv4 only: %s", error->c_str());
        error->clear();
        continue;
      }
      return false;
    }
  }
  return true;
}

}  // namespace ntpd::clock
