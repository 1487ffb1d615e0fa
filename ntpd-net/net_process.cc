// ntpd-net's main loop. Sandboxing happens before the loop exists and
// before any listening socket is read; until NetConfig arrives the process
// only listens to the clock process.
#include "ntpd-net/net_process.h"

#include <event2/event.h>
#include <event2/util.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <syslog.h>

#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "ntpd-net/auth.h"
#include "ntpd-net/clock_link.h"
#include "ntpd-net/engine_shell.h"
#include "ntpd-net/loop_pacer.h"
#include "ntpd-net/sandbox.h"
#include "ntpd-net/server.h"
#include "ntpd-net/server_path.h"
#include "ntpd-net/server_workers.h"
#include "ntpd-net/source_restrictions.h"
#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {
namespace {

struct EventBaseFree {
  void operator()(event_base* base) const { event_base_free(base); }
};
struct EventFree {
  void operator()(event* ev) const { event_free(ev); }
};
using EventHandle = std::unique_ptr<event, EventFree>;

template <typename T>
bool parse_number(std::string_view text, T* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// NetConfig's serving-thread numbers above this are refused (the clock
// process opens at most kMaxServerThreads sockets per address).
constexpr std::uint32_t kMaxServerThread = 64;

class NetProcess {
 public:
  NetProcess(event_base* base, common::UniqueFd ipc_fd)
      : base_(base),
        link_(std::move(ipc_fd), ClockLink::Handlers{
                                     [this](const ipc::NetConfig& c) { on_config(c); },
                                     [this](const ClockView& v) { on_clock_state(v); },
                                     [this] { on_clock_gone(); },
                                 }),
        engine_(
            base,
            [this](const ipc::Sample& sample) {
              link_.send_sample(sample);
              publish_system_vars();
            },
            [this](const ServerAddress& to, std::span<const std::uint8_t> bytes) {
              return send_from_listen_socket(to, bytes);
            },
            [this](const ServerAddress& peer) { return local_refid_for_peer(peer); }) {}

  bool start() {
    pacer_.emplace(base_, LoopPacer::Hooks{[this](bool watch) { watch_serving(watch); },
                                           [this] { return serve_ready(); }});
    ipc_event_.reset(event_new(base_, link_.fd(), EV_READ | EV_PERSIST, &NetProcess::on_ipc, this));
    return ipc_event_ && event_add(ipc_event_.get(), nullptr) == 0;
  }

  // Before the event loop's resources go: the threads read the snapshot.
  void stop_workers() {
    if (workers_) workers_->stop();
  }

  ClockLink& link() { return link_; }
  int exit_status() const { return exit_status_; }

 private:
  static void on_ipc(evutil_socket_t, short, void* self) {
    static_cast<NetProcess*>(self)->link_.on_readable();
  }
  static void on_udp(evutil_socket_t, short, void* arg) {
    auto* slot = static_cast<EndpointSlot*>(arg);
    const std::size_t read = slot->owner->serve(*slot->endpoint, slot->receive_only);
    if (!slot->receive_only && slot->owner->pacer_) slot->owner->pacer_->after_socket_event(read);
  }

  // Pacing (loop_pacer.h): the serving sockets' read events off or on.
  void watch_serving(bool watch) {
    for (const auto& slot : endpoints_) {
      if (slot->receive_only) continue;
      if (watch) {
        event_add(slot->event.get(), nullptr);
      } else {
        event_del(slot->event.get());
      }
    }
  }

  // Pacing: one look at every serving socket; serves the ready ones.
  std::size_t serve_ready() {
    serving_polls_.clear();
    for (const auto& slot : endpoints_) {
      if (!slot->receive_only) serving_polls_.push_back({slot->endpoint->fd(), POLLIN, 0});
    }
    if (::poll(serving_polls_.data(), serving_polls_.size(), 0) <= 0) return 0;
    std::size_t read = 0;
    std::size_t next = 0;
    for (const auto& slot : endpoints_) {
      if (slot->receive_only) continue;
      if (serving_polls_[next++].revents != 0) read += serve(*slot->endpoint, false);
    }
    return read;
  }

  void on_config(const ipc::NetConfig& config) {
    if (config.has_log_level()) common::set_log_min_priority(config.log_level());
    std::vector<std::string> problems;
    const AccessConfig access = access_config_from(config, &problems);
    for (const auto& problem : problems) common::logf(LOG_ERR, "ACCESS: %s", problem.c_str());
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = 0x9e3779b97f4a7c15ULL;
    server_path_.emplace(access, seed);
    // "restrict source": a host entry for each association's address while it lives.
    source_restrictions_.emplace(server_path_->access().mutable_restrictions());
    engine_.set_source_hook([this](const common::ConfigAddress& address, bool mobilized) {
      if (mobilized) {
        source_restrictions_->acquire(address);
      } else {
        source_restrictions_->release(address);
      }
    });
    workers_.emplace(access, seed, snapshot_);
    common::logf(LOG_INFO, "ACCESS: %zu restrict rules, %zu keys", access.restrictions.size(),
                 access.keys.size());
    for (const auto& listen : config.listen_sockets()) {
      if (!listen.has_fd() || listen.fd() < 3 || fcntl(listen.fd(), F_GETFD) < 0) {
        common::logf(LOG_ERR, "IO: NetConfig names an unusable socket fd %d", listen.fd());
        continue;
      }
      std::string label = listen.address() + " port " + std::to_string(listen.port());
      const int family = listen.address().find(':') != std::string::npos ? AF_INET6 : AF_INET;
      if (listen.has_server_thread() && listen.server_thread() > 0) {
        if (listen.server_thread() > kMaxServerThread) {
          common::logf(LOG_ERR, "IO: NetConfig names serving thread %u for fd %d (at most %u)",
                       listen.server_thread(), listen.fd(), kMaxServerThread);
          continue;
        }
        workers_->add_socket(listen.server_thread(), common::UniqueFd(listen.fd()),
                             listen.address(), label, family);
        continue;
      }
      watch(std::make_unique<UdpEndpoint>(common::UniqueFd(listen.fd()), label, family),
            listen.address(), listen.receive_only());
    }
    // The associations' keys: the same validated set the server path uses.
    KeyStore keys;
    for (const auto& key : access.keys) keys.add(key);
    engine_.configure(config, keys, TrustedKeys(access.trusted_keys));
    publish_system_vars();
    std::string error;
    if (!workers_->start(&error)) {
      // The steering still sends clients to those sockets: read them here.
      common::logf(LOG_ERR, "IO: %s; the main thread serves every socket", error.c_str());
      for (auto& [address, endpoint] : workers_->take_sockets())
        watch(std::move(endpoint), address, false);
    }
    common::logf(LOG_NOTICE,
                 "IO: network process ready, %zu listening sockets, %zu serving threads",
                 endpoints_.size(), workers_->threads());
    tick_.reset(event_new(base_, -1, EV_PERSIST, &NetProcess::on_tick, this));
    const timeval second{1, 0};
    if (!tick_ || event_add(tick_.get(), &second) != 0) {
      common::logf(LOG_ERR, "IO: cannot arm the serving-threads timer");
    }
  }

  // Serves `endpoint` (bound to `address`) from the main thread's loop.
  void watch(std::unique_ptr<UdpEndpoint> endpoint, const std::string& address, bool receive_only) {
    auto slot = std::make_unique<EndpointSlot>();
    slot->owner = this;
    slot->address = address;
    slot->receive_only = receive_only;
    slot->endpoint = std::move(endpoint);
    const UdpEndpoint& e = *slot->endpoint;
    slot->event.reset(
        event_new(base_, e.fd(), EV_READ | EV_PERSIST, &NetProcess::on_udp, slot.get()));
    if (!slot->event || event_add(slot->event.get(), nullptr) != 0) {
      common::logf(LOG_ERR, "IO: cannot watch %s", e.label().c_str());
      return;
    }
    // Interleaved mode (RFC 9769) answers with when a reply really left.
    // Reports only: the interleaved replies and peer packets ask per datagram.
    const bool tx_stamps = !receive_only && enable_tx_timestamp_reports(e.fd());
    common::logf(LOG_INFO, "IO: %s on %s%s", receive_only ? "receiving broadcasts" : "serving",
                 e.label().c_str(), tx_stamps ? " (kernel transmit timestamps)" : "");
    endpoints_.push_back(std::move(slot));
  }

  static void on_tick(evutil_socket_t, short, void* self) {
    static_cast<NetProcess*>(self)->tick();
  }

  // Once a second: republish the system variables (the engine changes them
  // on events that do not all pass through here) and note in the log when
  // a thread answers its first request, so operators see the spread, and
  // when it first paces its reads under load.
  void tick() {
    publish_system_vars();
    std::uint64_t main_sent = 0;
    for (const auto& slot : endpoints_) main_sent += slot->endpoint->sent();
    if (main_sent > 0 && !main_thread_logged_) {
      main_thread_logged_ = true;
      common::logf(LOG_NOTICE, "SERVER: main thread answered its first requests");
    }
    if (!main_paced_logged_ && pacer_ && pacer_->paced_windows() > 0) {
      main_paced_logged_ = true;
      common::logf(LOG_NOTICE, "SERVER: main thread under load: reading once per window");
    }
    served_logged_.resize(workers_->threads(), false);
    paced_logged_.resize(workers_->threads(), false);
    for (std::size_t i = 0; i < workers_->threads(); ++i) {
      if (!paced_logged_[i] && workers_->paced_windows(i) > 0) {
        paced_logged_[i] = true;
        common::logf(LOG_NOTICE, "SERVER: serving thread %u under load: reading once per window",
                     workers_->thread_number(i));
      }
      if (served_logged_[i] || workers_->replies(i) == 0) continue;
      served_logged_[i] = true;
      common::logf(LOG_NOTICE, "SERVER: serving thread %u answered its first requests",
                   workers_->thread_number(i));
    }
    for (std::size_t i = 0; i < workers_->threads(); ++i) {
      if (!kernel_tx_logged_ && workers_->kernel_transmit_times(i) > 0) {
        kernel_tx_logged_ = true;
        common::logf(LOG_INFO, "IO: kernel transmit timestamps refine server replies");
      }
      const std::uint64_t misrouted = workers_->misrouted(i);
      if (misrouted != 0 && misrouted_logged_.insert(i).second) {
        common::logf(LOG_WARNING,
                     "SERVER: serving thread %u got non-client packets (steering off?)",
                     workers_->thread_number(i));
      }
    }
  }

  void publish_system_vars() { snapshot_.publish(engine_.system_vars()); }

  void on_clock_state(const ClockView& view) {
    engine_.on_clock_status(ClockStatus{view.synchronized, static_cast<std::uint8_t>(view.leap),
                                        static_cast<std::int8_t>(view.poll_log2s), view.stepped});
    publish_system_vars();
  }

  void on_clock_gone() {
    common::logf(LOG_INFO, "IPC: clock process closed the link; exiting");
    event_base_loopbreak(base_);
  }

  // A listening socket bound to one address speaks for that address;
  // a wildcard one for whatever the kernel's route picks.
  std::uint32_t local_refid_for_peer(const ServerAddress& peer) const {
    for (const auto& slot : endpoints_) {
      if (slot->endpoint->family() != peer.storage.ss_family || slot->receive_only) continue;
      if (slot->address != "0.0.0.0" && slot->address != "::") {
        if (const auto bound = parse_server_address(slot->address, 0)) return bound->refid;
      }
    }
    return local_refid_toward(peer);
  }

  // Symmetric peers send from our port 123 to theirs, each packet with a
  // kernel transmit timestamp (interleaved symmetric mode, RFC 9769 3).
  bool send_from_listen_socket(const ServerAddress& to, std::span<const std::uint8_t> bytes) {
    for (const auto& slot : endpoints_) {
      if (slot->endpoint->family() != to.storage.ss_family || slot->receive_only) continue;
      alignas(cmsghdr) std::array<std::uint8_t, 32> control{};
      iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
      msghdr msg{};
      msg.msg_name = const_cast<sockaddr_storage*>(&to.storage);
      msg.msg_namelen = to.length;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_controllen = append_tx_timestamp_request(control, 0);
      msg.msg_control = msg.msg_controllen > 0 ? control.data() : nullptr;
      return ::sendmsg(slot->endpoint->fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
    }
    return false;
  }

  // A receive-only socket (bound to a broadcast or multicast address)
  // passes mode 5 packets to the engine and never answers anything.
  // Returns how many datagrams it read.
  std::size_t serve(UdpEndpoint& endpoint, bool receive_only) {
    if (!server_path_) return 0;
    ServerPath& path = *server_path_;
    const std::uint64_t asked_before = batch_.tx_timestamps_requested();
    const std::size_t read = endpoint.drain(
        batch_,
        [&](std::span<const std::uint8_t> request, const sockaddr_storage& from,
            common::UnixNs received, std::span<std::uint8_t> reply,
            ReplyNote* note) -> std::size_t {
          if (engine_.on_listen_datagram(request, from, received) || receive_only) return 0;
          return path.handle(request, from, received, system_vars(), reply, note);
        },
        [&path](std::span<std::uint8_t> reply, std::size_t length, const ReplyNote& note) {
          return path.finalize(reply, length, note, realtime_now());
        });
    const auto refine = [&](std::span<const std::uint8_t> datagram, common::UnixNs sent) {
      // Symmetric peers send from this socket too (send_from_listen_socket).
      if (engine_.on_listen_transmit(datagram, sent)) return;
      if (path.note_kernel_transmit(datagram, sent) && !kernel_tx_logged_) {
        kernel_tx_logged_ = true;
        common::logf(LOG_INFO, "IO: kernel transmit timestamps refine server replies");
      }
    };
    // Only interleaved replies and peer packets ask for a timestamp, so a
    // busy basic server skips this syscall; a wakeup with nothing to read
    // is the error queue's own event (e.g. a peer packet's timestamp).
    if (read == 0 || batch_.tx_timestamps_requested() != asked_before) {
      drain_tx_timestamps(endpoint.fd(), refine);
    }
    return read;
  }

  SystemVars system_vars() const { return engine_.system_vars(); }

  struct EndpointSlot {
    NetProcess* owner = nullptr;
    std::string address;  // what the socket is bound to (numeric)
    bool receive_only = false;
    std::unique_ptr<UdpEndpoint> endpoint;
    EventHandle event;
  };

  event_base* base_;
  ClockLink link_;
  EventHandle ipc_event_;
  std::vector<std::unique_ptr<EndpointSlot>> endpoints_;
  std::optional<LoopPacer> pacer_;
  std::vector<pollfd> serving_polls_;  // reused by serve_ready()
  EngineShell engine_;
  std::optional<ServerPath> server_path_;
  std::optional<SourceRestrictions> source_restrictions_;
  DatagramBatch batch_;
  // Written only here, on the main thread; read by the serving threads.
  SystemSnapshot snapshot_;
  std::optional<ServerWorkers> workers_;  // after snapshot_: joined first
  EventHandle tick_;
  bool main_thread_logged_ = false;
  std::vector<bool> served_logged_;
  bool main_paced_logged_ = false;  // said once that the main thread paces
  std::vector<bool> paced_logged_;  // the same for each serving thread
  std::set<std::size_t> misrouted_logged_;
  bool kernel_tx_logged_ = false;  // said once that kernel TX timestamps arrive
  int exit_status_ = 0;
};

}  // namespace

std::optional<NetArgs> parse_net_args(int argc, char** argv, std::string* error) {
  NetArgs args;
  bool have_ipc = false, have_uid = false, have_gid = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      *error = "missing value for " + std::string(flag);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--ipc-fd") {
      ok = have_ipc = parse_number(value, &args.ipc_fd);
    } else if (flag == "--uid") {
      ok = have_uid = parse_number(value, &args.uid);
    } else if (flag == "--gid") {
      ok = have_gid = parse_number(value, &args.gid);
    } else if (flag == "--jail") {
      args.jail_dir = std::string(value);
    } else if (flag == "--log-priority") {
      ok = parse_number(value, &args.log_priority);
    } else {
      *error = "unknown argument " + std::string(flag);
      return std::nullopt;
    }
    if (!ok) {
      *error = "bad value for " + std::string(flag) + ": " + std::string(value);
      return std::nullopt;
    }
  }
  if (!have_ipc || !have_uid || !have_gid || args.jail_dir.empty()) {
    *error = "ntpd-net is started by ntpd; required: --ipc-fd --uid --gid --jail";
    return std::nullopt;
  }
  return args;
}

int run_net_process(int argc, char** argv, const NetHooks& hooks) {
  common::log_to_stderr("net", LOG_NOTICE);
  std::string error;
  auto args = parse_net_args(argc, argv, &error);
  if (!args) {
    common::logf(LOG_ERR, "START: %s", error.c_str());
    return 2;
  }
  if (fcntl(args->ipc_fd, F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(args->ipc_fd, F_SETFL, O_NONBLOCK) != 0) {
    common::logf(LOG_ERR, "START: IPC fd %d is not usable: %s", args->ipc_fd, std::strerror(errno));
    return 2;
  }
  std::unique_ptr<event_base, EventBaseFree> base(event_base_new());
  if (!base) {
    common::logf(LOG_ERR, "START: cannot create the event loop");
    return 1;
  }
  NetProcess process(base.get(), common::UniqueFd(args->ipc_fd));
  // From here on every log line travels to the clock process.
  common::log_to_callback(
      "net", args->log_priority,
      [&process](int priority, std::string_view line) { process.link().send_log(priority, line); });
  install_seccomp_reporter(args->ipc_fd);
  if (!prepare_auth_before_sandbox()) {
    common::logf(LOG_WARNING,
                 "AUTH: an OpenSSL MAC algorithm is unavailable; those keys will fail");
  }
  // Seed libevent's RNG (evdns query ids) while /dev/urandom is still reachable.
  if (evutil_secure_rng_init() != 0) {
    common::logf(LOG_WARNING, "DNS: cannot seed the resolver's random numbers");
  }
  if (hooks.before_sandbox) hooks.before_sandbox();
  if (!enter_sandbox(SandboxSpec{args->jail_dir, args->uid, args->gid}, &error)) {
    common::logf(LOG_ERR, "SANDBOX: %s", error.c_str());
    return 1;
  }
  common::logf(LOG_INFO, "SANDBOX: jail %s, uid %u, gid %u, no capabilities, seccomp on",
               args->jail_dir.c_str(), args->uid, args->gid);
  if (!process.start()) {
    common::logf(LOG_ERR, "START: cannot watch the IPC link");
    return 1;
  }
  event_base_dispatch(base.get());
  process.stop_workers();
  return process.exit_status();
}

}  // namespace ntpd::net
