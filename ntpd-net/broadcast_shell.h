// BroadcastShell: the I/O around the broadcast cores (broadcast_server.h,
// broadcast_client.h) inside ntpd-net's event loop. Sends mode 5 packets
// from an inherited listening socket (port 123, SO_BROADCAST, multicast
// TTL/interface set here), signs them with the configured key, and for
// the client side applies restrict and authentication to each mode 5
// packet before it mobilizes or feeds a broadcast-client association, and
// runs each association's calibration volley on its own socket. No
// protocol decisions: those are the engine's.
#pragma once

#include <event2/event.h>
#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ntpd-net/auth.h"
#include "ntpd-net/client_io.h"
#include "ntpd-net/engine.h"
#include "ntpd-net/restrict.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

// At most this many broadcasters are followed at once: each costs memory
// and a socket, and mode 5 packets can be forged when auth is off.
inline constexpr std::size_t kMaxBroadcastClients = 8;

class BroadcastShell {
 public:
  explicit BroadcastShell(event_base* base);
  ~BroadcastShell();
  BroadcastShell(const BroadcastShell&) = delete;
  BroadcastShell& operator=(const BroadcastShell&) = delete;

  // Reads the broadcast lines, the broadcast client switches, restrict and
  // keys from NetConfig. `changed` runs after a packet reached the engine
  // (the EngineShell reruns the system process and its timer).
  void configure(const ipc::NetConfig& config, Engine& engine, common::UnixNs now,
                 std::function<void()> changed);
  // Sends a packet the engine built for a broadcast server or a volley;
  // false if `out` belongs to no association of ours.
  bool send(const Outgoing& out);
  // A datagram from a listening socket: true if it was a mode 5 packet and
  // the broadcast client is on (taken or dropped here).
  bool on_datagram(std::span<const std::uint8_t> bytes, const sockaddr_storage& from,
                   common::UnixNs received);

 private:
  struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
  };
  struct Sender {
    std::uint32_t id = 0;
    ServerAddress to;
    int fd = -1;  // an inherited listening socket, owned by NetProcess
    bool multicast = false;
    int ttl = 127;
    const common::SymmetricKey* key = nullptr;
    sockaddr_storage source{};  // the address our broadcasts leave from, if known
  };
  struct Client {
    BroadcastShell* owner = nullptr;
    std::uint32_t id = 0;
    ServerAddress server;
    const common::SymmetricKey* key = nullptr;  // mobilized authenticated with this key
    std::optional<ClientSocket> volley;
    std::unique_ptr<event, EventFree> readable;
  };

  void add_sender(const ipc::Association& a, const ipc::NetConfig& config);
  Client* mobilize(const ServerAddress& server, const common::SymmetricKey* key,
                   common::UnixNs now);
  void on_volley_readable(Client& client);
  std::size_t sign(std::span<std::uint8_t> packet, std::size_t length,
                   const common::SymmetricKey* key) const;

  event_base* base_;
  Engine* engine_ = nullptr;
  std::function<void()> changed_;
  bool client_enabled_ = false;
  bool require_auth_ = true;
  BroadcastClientConfig client_defaults_;
  RestrictTable restrict_;
  KeyStore keys_;
  TrustedKeys trusted_;
  std::vector<Sender> senders_;
  std::map<std::uint32_t, std::unique_ptr<Client>> clients_;
};

}  // namespace ntpd::net
