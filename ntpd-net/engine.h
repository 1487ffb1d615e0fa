// Engine: ntpd-net's protocol state above single associations: the set of
// associations, the undisciplined local clock (127.127.1.x), the system
// process (selection, clustering, combining) and the variables the server
// advertises. Pure: time, randomness and packets come in as arguments; the
// shell (net_process.cc) owns sockets, DNS and timers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ntpd-net/association.h"
#include "ntpd-net/broadcast_client.h"
#include "ntpd-net/broadcast_server.h"
#include "ntpd-net/combine.h"
#include "ntpd-net/server.h"

namespace ntpd::net {

struct EngineConfig {
  SystemParams params;
  std::int8_t precision_log2s = -20;
  // ntpd waits tos orphanwait (300 s) before falling back to the local
  // clock or orphan mode; we default to 15 s so that an isolated server
  // answers as synchronised well within 30 s of start, while servers that
  // answer iburst (a few seconds) still win the first selection.
  std::int64_t orphan_wait_ns = 15 * common::kNsPerSecond;
  std::optional<std::uint8_t> local_clock_stratum;  // a 127.127.1.x server line
  std::uint32_t local_clock_refid = 0x7f7f0100;     // 127.127.1.0
  // params.orphan_stratum (tos orphan): with no source once the orphan wait
  // is over, we are the orphan parent and answer as synchronized at that
  // stratum (RFC 5905 has no orphan mode; this is ntpd's, see combine.h).
};

// Where ntpd-net should send one request. The buffer has room for the
// longest RFC 5905 section 7.3 MAC trailer, which the shell appends for an
// association with a key (association_auth.h).
struct Outgoing {
  std::uint32_t association_id = 0;
  std::array<std::uint8_t, kHeaderBytes + kMacSha1Bytes> bytes{};
  std::size_t length = 0;
};

// The clock process's view (ClockState), as the engine uses it.
struct ClockStatus {
  bool synchronized = false;
  std::uint8_t leap = 3;
  std::int8_t poll_log2s = 6;
  bool stepped = false;
};

class Engine {
 public:
  Engine(const EngineConfig& config, common::UnixNs now);

  // Adds an association; returns its id. startup_delay_ns randomizes the
  // first poll (the caller draws it).
  std::uint32_t add(AssociationConfig config, common::UnixNs now, std::int64_t startup_delay_ns);
  void remove(std::uint32_t id);
  Association* find(std::uint32_t id);

  // Broadcast (RFC 5905 mode 5). A server line `broadcast ADDRESS`: poll()
  // yields its packets (built from system_vars(), only while synchronized).
  std::uint32_t add_broadcast_server(BroadcastServerConfig config, common::UnixNs now,
                                     std::int64_t first_delay_ns);
  // A broadcast-client association mobilized by the shell; poll() yields
  // its volley requests, on_reply() takes the answers.
  std::uint32_t add_broadcast_client(BroadcastClientConfig config, common::UnixNs now,
                                     std::int64_t startup_delay_ns);
  BroadcastClient* find_broadcast_client(std::uint32_t id);
  // A mode 5 packet for broadcast client `id`.
  ReceiveResult on_broadcast(std::uint32_t id, std::span<const std::uint8_t> bytes,
                             common::UnixNs receive_time, common::UnixNs now);

  // Requests due at `now`; `cookie` draws the random transmit timestamps.
  void poll(common::UnixNs now, const std::function<std::uint64_t()>& cookie,
            std::vector<Outgoing>& out);
  // A datagram that arrived on association `id`'s socket.
  ReceiveResult on_reply(std::uint32_t id, std::span<const std::uint8_t> bytes,
                         common::UnixNs receive_time, common::UnixNs now);
  // Runs the system process; a sample for the clock process when there is
  // a new system update.
  std::optional<SystemSample> update_system(common::UnixNs now);
  void on_clock_status(const ClockStatus& status, common::UnixNs now);

  // What server replies say about us.
  SystemVars system_vars() const;
  // The earliest time poll() has work.
  common::UnixNs next_wakeup() const;
  const SystemDecision& last_decision() const { return decision_; }
  // Selection's verdict on association `id` at the last update_system;
  // nullopt if it was not part of that update (the pool policy uses it).
  std::optional<PeerStatus> peer_status(std::uint32_t id) const;
  std::size_t association_count() const { return associations_.size(); }

 private:
  std::optional<PeerSummary> local_clock_summary(common::UnixNs now) const;
  void refresh_system_vars();

  EngineConfig config_;
  common::UnixNs started_;
  std::vector<std::unique_ptr<Association>> associations_;
  std::vector<std::unique_ptr<BroadcastServer>> broadcast_servers_;
  std::vector<std::unique_ptr<BroadcastClient>> broadcast_clients_;
  std::uint32_t next_id_ = 1;
  SystemState state_;
  SystemDecision decision_;
  std::vector<std::uint32_t> decision_ids_;  // association id of each peer in decision_
  ClockStatus clock_;
  SystemVars sys_;
  common::UnixNs last_local_update_{0};
  common::UnixNs last_update_{0};
};

}  // namespace ntpd::net
