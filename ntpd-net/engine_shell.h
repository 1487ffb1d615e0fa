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

#include "ntpd-net/client_io.h"
#include "ntpd-net/engine.h"
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

  // Builds the engine from NetConfig's associations and starts polling.
  void configure(const ipc::NetConfig& config);
  void on_clock_status(const ClockStatus& status);
  // A datagram that arrived on a listening socket: true if it came from a
  // configured symmetric peer (port 123) and was taken by its association.
  bool on_listen_datagram(std::span<const std::uint8_t> bytes, const sockaddr_storage& from,
                          common::UnixNs received);
  SystemVars system_vars() const;

 private:
  struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
  };
  struct Peer {
    EngineShell* owner = nullptr;
    std::uint32_t id = 0;
    ServerAddress address;
    std::optional<ClientSocket> socket;
    std::unique_ptr<event, EventFree> readable;
    std::uint64_t last_transmit = 0;        // transmit field of our latest request
    std::uint64_t interleaved_samples = 0;  // accepted from interleaved replies
    bool kernel_tx_logged = false;          // said once that kernel TX timestamps arrive
  };

  void add_server(const ipc::Association& association, common::UnixNs now);
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
};

ipc::Sample to_ipc_sample(const SystemSample& sample);

}  // namespace ntpd::net
