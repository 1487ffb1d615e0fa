// EngineShell: runs the Engine inside ntpd-net's libevent loop. Opens one
// connected socket per client association, wakes the engine when a poll is
// due, feeds it replies with their kernel receive times, and forwards each
// new system sample to the clock process. No protocol decisions here.
#pragma once

#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "ntpd-net/association_auth.h"
#include "ntpd-net/broadcast_shell.h"
#include "ntpd-net/client_io.h"
#include "ntpd-net/engine.h"
#include "ntpd-net/name_sources.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

class EngineShell {
 public:
  using SampleSink = std::function<void(const ipc::Sample&)>;
  // Sends a symmetric-mode packet from our port 123 to a peer (the
  // listening sockets belong to NetProcess). False if it could not be sent.
  using PeerSender = std::function<bool(const ServerAddress& to, std::span<const std::uint8_t>)>;
  // The refid of our own address toward a symmetric peer (the bound
  // listening address when it is specific); 0 if unknown.
  using PeerLocalRefid = std::function<std::uint32_t(const ServerAddress& peer)>;

  EngineShell(event_base* base, SampleSink sink, PeerSender peer_sender,
              PeerLocalRefid peer_local_refid);
  ~EngineShell();
  EngineShell(const EngineShell&) = delete;
  EngineShell& operator=(const EngineShell&) = delete;

  // Called with each association's address as it is mobilized (true) and
  // removed (false): "restrict source" host entries follow it.
  using SourceHook = std::function<void(const common::ConfigAddress&, bool mobilized)>;
  void set_source_hook(SourceHook hook) { source_hook_ = std::move(hook); }

  // Builds the engine from NetConfig's associations and starts polling;
  // host names go to the resolver and are mobilized as they resolve.
  // `keys` and `trusted` authenticate the associations with `key N`; one
  // whose key is missing or untrusted is logged once and never polled.
  void configure(const ipc::NetConfig& config, const KeyStore& keys, const TrustedKeys& trusted);
  void on_clock_status(const ClockStatus& status);
  // A datagram that arrived on a listening socket: true if it came from a
  // configured symmetric peer (port 123) and was taken by its association.
  bool on_listen_datagram(std::span<const std::uint8_t> bytes, const sockaddr_storage& from,
                          common::UnixNs received);
  // A kernel transmit timestamp from a listening socket's error queue: true
  // if `datagram` is the latest mode 1/2 packet we sent to a symmetric peer
  // (then its association's T1, and an interleaved peer's next transmit).
  bool on_listen_transmit(std::span<const std::uint8_t> datagram, common::UnixNs sent);
  SystemVars system_vars() const;

 private:
  struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
  };
  struct Peer {
    EngineShell* owner = nullptr;
    std::uint32_t id = 0;
    ServerAddress address;
    common::ConfigAddress ip;  // address, for restrict source and duplicate checks
    std::optional<ClientSocket> socket;
    std::unique_ptr<event, EventFree> readable;
    std::optional<AssociationAuth> auth;  // set for `key N`: sign requests, check replies
    LogThrottle auth_log{60 * common::kNsPerSecond};
    std::uint64_t last_transmit = 0;        // transmit field of our latest request
    std::uint64_t interleaved_samples = 0;  // accepted from interleaved replies
    bool kernel_tx_logged = false;          // said once that kernel TX timestamps arrive
  };

  void add_server(const ipc::Association& association, common::UnixNs now);
  std::optional<std::uint32_t> mobilize(const ipc::Association& line, const ServerAddress& address,
                                        common::UnixNs now);
  void demobilize(std::uint32_t id);
  bool in_use(const common::ConfigAddress& address) const;
  MemberObservation observe(std::uint32_t id);
  // RFC 5905 A.5.1.1 TEST5 for a peer with a key: false (with a throttled
  // log line naming the peer and why) when the reply must be dropped.
  bool authentic(Peer& peer, std::span<const std::uint8_t> bytes, common::UnixNs now);
  void on_timer();
  void on_readable(Peer& peer);
  void read_tx_timestamps(Peer& peer);
  void log_interleaved(Peer& peer, const ReceiveResult& result);
  void run_system(common::UnixNs now);
  void arm_timer();

  event_base* base_;
  SampleSink sink_;
  PeerSender peer_sender_;
  PeerLocalRefid peer_local_refid_;
  std::optional<Engine> engine_;
  std::map<std::uint32_t, std::unique_ptr<Peer>> peers_;
  std::unique_ptr<event, EventFree> timer_;
  KeyStore keys_;  // for `key N` on associations mobilized later (names, pools)
  TrustedKeys trusted_;
  SourceHook source_hook_;
  NameSources names_;
  BroadcastShell broadcast_;  // after engine_: it holds a pointer to it
};

ipc::Sample to_ipc_sample(const SystemSample& sample);

}  // namespace ntpd::net
