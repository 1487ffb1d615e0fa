// The receive sockets of a broadcast/multicast client (broadcastclient,
// multicastclient, -b, -m), opened while the clock process may still bind
// port 123 and join groups. ntpd-net only reads mode 5 packets from them.
// The only code that binds broadcast addresses or joins multicast groups.
#pragma once

#include <string>
#include <vector>

#include "common/ntp_conf_types.h"
#include "ntpd-clock/cli_options.h"
#include "ntpd-clock/listen_sockets.h"

namespace ntpd::clock {

struct BroadcastClientSockets {
  bool broadcast = false;                     // broadcastclient / -b
  std::vector<common::ConfigAddress> groups;  // multicastclient / -m (IPv4 groups)
  std::uint16_t port = 123;
};

// What the command line (-b, -m) and ntp.conf (broadcastclient,
// multicastclient, enable bclient) ask for.
BroadcastClientSockets broadcast_client_sockets_for(const Options& options,
                                                    const common::NtpConfig& config);

// Appends receive-only sockets to *sockets: for broadcasts, one bound to
// the broadcast address of each IPv4 interface that is up and
// broadcast-capable (ntpd io_setbclient), unless a wildcard IPv4 socket
// already receives them; for each group, a socket bound to the group
// (or the wildcard socket, if any) that joined it on every up,
// multicast-capable IPv4 interface. Problems with one interface or group
// are logged as warnings; returns false only if nothing could be opened
// although something was asked for.
bool open_broadcast_client_sockets(const BroadcastClientSockets& spec,
                                   std::vector<OpenedListenSocket>* sockets, std::string* error);

}  // namespace ntpd::clock
