// The libevent side of the engine (see engine_shell.h).
#include "ntpd-net/engine_shell.h"

#include <syslog.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "ntpd-net/access_control.h"
#include "ntpd-net/engine_options.h"
#include "ntpd-net/shell_random.h"
#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {
namespace {

// RFC 5905 section 13 / ntpd: the first poll of each association is
// spread over a couple of seconds so a restart does not burst every server.
std::int64_t random_startup_delay_ns() { return random_delay_ns(2 * common::kNsPerSecond); }

constexpr std::size_t kTransmitOffset = 40;  // RFC 5905 figure 8

bool is_local_clock(const ipc::Association& a) {
  return a.kind() == ipc::ASSOCIATION_KIND_LOCAL_CLOCK;
}

}  // namespace

ipc::Sample to_ipc_sample(const SystemSample& s) {
  ipc::Sample out;
  out.set_offset_ns(s.offset_ns);
  out.set_delay_ns(s.delay_ns);
  out.set_dispersion_ns(s.dispersion_ns);
  out.set_jitter_ns(s.jitter_ns);
  out.set_root_distance_ns(s.root_distance_ns);
  out.set_stratum(s.stratum);
  out.set_leap(s.leap);
  out.set_refid(s.refid);
  out.set_poll_log2s(s.poll_log2s);
  out.set_age_ns(s.age_ns);
  return out;
}

EngineShell::EngineShell(event_base* base, SampleSink sink, PeerSender peer_sender,
                         PeerLocalRefid peer_local_refid)
    : base_(base),
      sink_(std::move(sink)),
      peer_sender_(std::move(peer_sender)),
      peer_local_refid_(std::move(peer_local_refid)),
      names_(base, NameSources::Hooks{
                       [this](const ipc::Association& line, const common::ConfigAddress& ip) {
                         const auto address = parse_server_address(ip.to_string(), 123);
                         return address ? mobilize(line, *address, realtime_now()) : std::nullopt;
                       },
                       [this](std::uint32_t id) { demobilize(id); },
                       [this](const common::ConfigAddress& ip) { return in_use(ip); },
                       [this](std::uint32_t id) { return observe(id); },
                   }),
      broadcast_(base) {}

namespace {

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

}  // namespace

bool EngineShell::on_listen_datagram(std::span<const std::uint8_t> bytes,
                                     const sockaddr_storage& from, common::UnixNs received) {
  if (!engine_) return false;
  if (broadcast_.on_datagram(bytes, from, received)) return true;
  for (auto& [id, peer] : peers_) {
    if (peer->socket || !same_endpoint(peer->address.storage, from)) continue;
    // A configured peer's packet that fails TEST5 is dropped here, not
    // answered by the server path as if from a stranger.
    if (!authentic(*peer, bytes, realtime_now())) return true;
    const ReceiveResult result = engine_->on_reply(id, bytes, received, realtime_now());
    if (result.interleaved && result.action == ReplyAction::kAccepted) {
      log_interleaved(*peer, result);
    }
    if (result.action == ReplyAction::kDropped) {
      common::logf(LOG_DEBUG, "PEER: %s: packet dropped: %s", peer->address.text.c_str(),
                   to_string(result.failed).c_str());
    }
    run_system(realtime_now());
    arm_timer();
    return true;
  }
  return false;
}

bool EngineShell::on_listen_transmit(std::span<const std::uint8_t> datagram, common::UnixNs sent) {
  if (!engine_ || datagram.size() < kHeaderBytes) return false;
  const auto mode = static_cast<Mode>(datagram[0] & 0x7);
  if (mode != Mode::kSymmetricActive && mode != Mode::kSymmetricPassive) return false;
  const std::uint64_t transmit = load_be64(datagram, kTransmitOffset);
  for (auto& [id, peer] : peers_) {
    if (peer->socket || peer->last_transmit != transmit) continue;
    // RFC 9769 section 3: the next interleaved packet carries this time.
    if (Association* association = engine_->find(id)) association->note_transmit_time(sent);
    if (!peer->kernel_tx_logged) {
      peer->kernel_tx_logged = true;
      common::logf(LOG_INFO, "PEER: %s: kernel transmit timestamps in use",
                   peer->address.text.c_str());
    }
    return true;
  }
  return false;
}

EngineShell::~EngineShell() = default;

void EngineShell::configure(const ipc::NetConfig& config, const KeyStore& keys,
                            const TrustedKeys& trusted) {
  keys_ = keys;
  trusted_ = trusted;
  EngineConfig engine_config;
  for (const auto& a : config.associations()) {
    if (is_local_clock(a)) {
      engine_config.local_clock_stratum =
          static_cast<std::uint8_t>(std::min<std::uint32_t>(a.stratum(), 15));
    }
  }
  apply_engine_options(config, &engine_config);
  const common::UnixNs now = realtime_now();
  engine_.emplace(engine_config, now);
  names_.configure(config, now);
  for (const auto& a : config.associations()) {
    if (!is_local_clock(a) && a.kind() != ipc::ASSOCIATION_KIND_BROADCAST) add_server(a, now);
  }
  broadcast_.configure(config, *engine_, now, [this] {
    run_system(realtime_now());
    arm_timer();
  });
  if (engine_config.local_clock_stratum) {
    common::logf(LOG_NOTICE, "PEER: local clock 127.127.1.0 at stratum %u as fallback reference",
                 static_cast<unsigned>(*engine_config.local_clock_stratum));
  }
  timer_.reset(evtimer_new(
      base_,
      [](evutil_socket_t, short, void* self) { static_cast<EngineShell*>(self)->on_timer(); },
      this));
  arm_timer();
}

void EngineShell::add_server(const ipc::Association& a, common::UnixNs now) {
  const bool symmetric = a.kind() == ipc::ASSOCIATION_KIND_PEER;
  const bool pool = a.kind() == ipc::ASSOCIATION_KIND_POOL;
  if (a.kind() != ipc::ASSOCIATION_KIND_SERVER && !symmetric && !pool) {
    common::logf(LOG_WARNING, "PEER: %s: %s associations are not served by this version; skipped",
                 a.host().c_str(), ipc::AssociationKind_Name(a.kind()).c_str());
    return;
  }
  const auto address = parse_server_address(a.host(), 123);
  if (!address || pool) {
    names_.add(a, now);  // mobilized as the name resolves (a numeric pool: once)
    return;
  }
  mobilize(a, *address, now);
}

std::optional<std::uint32_t> EngineShell::mobilize(const ipc::Association& a,
                                                   const ServerAddress& address,
                                                   common::UnixNs now) {
  const bool symmetric = a.kind() == ipc::ASSOCIATION_KIND_PEER;
  std::uint16_t port = 0;
  const auto ip = address_of(address.storage, &port);
  if (!ip) return std::nullopt;
  auto peer = std::make_unique<Peer>();
  peer->owner = this;
  peer->address = address;
  peer->ip = *ip;
  if (a.has_key_id()) {
    KeyProblem problem = KeyProblem::kNone;
    peer->auth = AssociationAuth::make(a.key_id(), keys_, trusted_, &problem);
    if (!peer->auth) {
      // Never fall back to unauthenticated requests: the operator asked
      // for this server only with key N (the clock process names the line).
      common::logf(LOG_ERR, "PEER: %s: key %u is %s; this association is not polled",
                   a.host().c_str(), a.key_id(), std::string(to_string(problem)).c_str());
      return std::nullopt;
    }
  }
  // A client association has its own connected socket (RFC 9109); a
  // symmetric peer talks from our port 123, as peers expect (RFC 5905 9.1).
  if (!symmetric) {
    std::string error;
    peer->socket = ClientSocket::open(address, &error);
    if (!peer->socket) {
      common::logf(LOG_ERR, "PEER: %s (%s): %s", a.host().c_str(), address.text.c_str(),
                   error.c_str());
      return std::nullopt;
    }
  }
  AssociationConfig config;
  config.mode = symmetric ? AssociationMode::kSymmetricActive : AssociationMode::kClient;
  config.version =
      static_cast<std::uint8_t>(a.version() >= 1 && a.version() <= 4 ? a.version() : 4);
  config.minpoll_log2s = static_cast<std::int8_t>(a.minpoll_log2s());
  config.maxpoll_log2s = static_cast<std::int8_t>(a.maxpoll_log2s());
  config.iburst = a.iburst();
  config.burst = a.burst();
  config.prefer = a.prefer();
  config.noselect = a.noselect();
  // Client/server (RFC 9769 section 2) or symmetric (section 3) interleaved mode.
  config.xleave = a.xleave();
  config.address_refid = address.refid;
  // Our own address as that server would name us: the selection's loop test
  // (RFC 5905 A.5.5.3 test 12) rejects a source whose refid it is.
  config.source_address_hash =
      peer->socket ? peer->socket->local_refid() : peer_local_refid_(address);
  peer->id = engine_->add(config, now, random_startup_delay_ns());
  if (peer->socket) {
    Peer* raw = peer.get();
    peer->readable.reset(event_new(
        base_, peer->socket->fd(), EV_READ | EV_PERSIST,
        [](evutil_socket_t, short, void* arg) {
          auto* p = static_cast<Peer*>(arg);
          p->owner->on_readable(*p);
        },
        raw));
    event_add(peer->readable.get(), nullptr);
  }
  const bool named = a.host() != address.text;
  const std::string key_text = peer->auth
                                   ? " key " + std::to_string(peer->auth->key_id()) + " " +
                                         std::string(common::to_string(peer->auth->key_type()))
                                   : "";
  common::logf(LOG_INFO, "PEER: %s %s%s%s%s%s%s%s", symmetric ? "peer" : "server", a.host().c_str(),
               named ? " (" : "", named ? address.text.c_str() : "", named ? ")" : "",
               a.iburst() ? " iburst" : "", config.xleave ? " xleave" : "", key_text.c_str());
  if (source_hook_) source_hook_(peer->ip, true);
  const std::uint32_t id = peer->id;
  peers_[id] = std::move(peer);
  return id;
}

void EngineShell::demobilize(std::uint32_t id) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) return;
  const common::ConfigAddress ip = it->second->ip;
  common::logf(LOG_INFO, "PEER: %s removed", it->second->address.text.c_str());
  engine_->remove(id);
  peers_.erase(it);
  if (source_hook_) source_hook_(ip, false);
}

bool EngineShell::in_use(const common::ConfigAddress& address) const {
  return std::any_of(peers_.begin(), peers_.end(),
                     [&](const auto& entry) { return entry.second->ip == address; });
}

MemberObservation EngineShell::observe(std::uint32_t id) {
  MemberObservation seen;
  seen.id = id;
  if (Association* a = engine_ ? engine_->find(id) : nullptr) {
    seen.unreachable = a->unreachable();
    seen.denied = a->demobilized();
    seen.falseticker = engine_->peer_status(id) == PeerStatus::kFalseticker;
  }
  return seen;
}

void EngineShell::on_timer() {
  const common::UnixNs now = realtime_now();
  std::vector<Outgoing> requests;
  engine_->poll(now, random_u64, requests);
  for (auto& request : requests) {
    if (broadcast_.send(request)) continue;
    auto it = peers_.find(request.association_id);
    if (it == peers_.end()) continue;
    Peer& peer = *it->second;
    std::size_t length = request.length;
    if (peer.auth) {
      // RFC 5905 section 7.3: the MAC covers the whole request, the
      // transmit timestamp included (set by make_request).
      length = peer.auth->sign(request.bytes, length);
      if (length == 0) {
        common::logf(LOG_ERR, "PEER: %s: cannot compute the MAC with key %u; request not sent",
                     peer.address.text.c_str(), peer.auth->key_id());
        continue;
      }
    }
    const std::span<const std::uint8_t> bytes(request.bytes.data(), length);
    std::string error;
    const bool sent =
        peer.socket ? peer.socket->send(bytes, &error) : peer_sender_(peer.address, bytes);
    if (!sent) {
      common::logf(LOG_INFO, "PEER: %s: send failed %s", peer.address.text.c_str(), error.c_str());
    } else {
      // A symmetric peer's stamp comes back on the listening socket
      // (on_listen_transmit), matched by this transmit field.
      peer.last_transmit = load_be64(bytes, kTransmitOffset);
      if (peer.socket) read_tx_timestamps(peer);
    }
  }
  run_system(now);
  arm_timer();
}

void EngineShell::read_tx_timestamps(Peer& peer) {
  // Only our latest request's stamp refines its T1 (matched by content).
  const auto refine = [&](std::span<const std::uint8_t> sent_bytes, common::UnixNs sent) {
    if (sent_bytes.size() < kHeaderBytes ||
        load_be64(sent_bytes, kTransmitOffset) != peer.last_transmit) {
      return;
    }
    if (Association* association = engine_->find(peer.id)) association->note_transmit_time(sent);
    if (!peer.kernel_tx_logged) {
      peer.kernel_tx_logged = true;
      common::logf(LOG_INFO, "PEER: %s: kernel transmit timestamps in use",
                   peer.address.text.c_str());
    }
  };
  drain_tx_timestamps(peer.socket->fd(), refine);
}

void EngineShell::on_readable(Peer& peer) {
  read_tx_timestamps(peer);
  peer.socket->drain([&](std::span<const std::uint8_t> bytes, common::UnixNs received) {
    if (!authentic(peer, bytes, realtime_now())) return;
    const ReceiveResult result = engine_->on_reply(peer.id, bytes, received, realtime_now());
    if (result.interleaved && result.action == ReplyAction::kAccepted) {
      log_interleaved(peer, result);
    }
    if (result.action == ReplyAction::kDropped) {
      common::logf(LOG_DEBUG, "PEER: %s: reply dropped: %s", peer.address.text.c_str(),
                   to_string(result.failed).c_str());
    } else if (result.action == ReplyAction::kDenied) {
      common::logf(LOG_WARNING, "PEER: %s: kiss-o'-death DENY/RSTR; no longer used",
                   peer.address.text.c_str());
    }
  });
  run_system(realtime_now());
  arm_timer();
}

bool EngineShell::authentic(Peer& peer, std::span<const std::uint8_t> bytes, common::UnixNs now) {
  if (!peer.auth) return true;
  std::uint32_t reply_key = 0;
  const ReplyAuth verdict = peer.auth->check(bytes, &reply_key);
  if (verdict == ReplyAuth::kOk) return true;
  std::uint64_t held_back = 0;
  if (peer.auth_log.due(now, &held_back)) {
    std::string why(to_string(verdict));
    if (verdict == ReplyAuth::kWrongKeyId || verdict == ReplyAuth::kBadMac) {
      why += " (key " + std::to_string(reply_key) + ")";
    }
    const std::string held =
        held_back > 0 ? "; " + std::to_string(held_back) + " more since the last report" : "";
    common::logf(LOG_NOTICE, "PEER: %s: reply dropped: %s: %s, expected a MAC with key %u%s",
                 peer.address.text.c_str(),
                 std::string(to_string(OnWireTest::kAuthentication)).c_str(), why.c_str(),
                 peer.auth->key_id(), held.c_str());
  }
  return false;
}

void EngineShell::log_interleaved(Peer& peer, const ReceiveResult& result) {
  // The first interleaved sample is news; the rest are debug detail.
  const int priority = peer.interleaved_samples == 0 ? LOG_NOTICE : LOG_DEBUG;
  ++peer.interleaved_samples;
  common::logf(priority,
               "PEER: %s: interleaved sample %llu (RFC 9769): offset %lld ns, delay %lld ns",
               peer.address.text.c_str(), static_cast<unsigned long long>(peer.interleaved_samples),
               static_cast<long long>(result.sample.offset_ns),
               static_cast<long long>(result.sample.delay_ns));
}

void EngineShell::run_system(common::UnixNs now) {
  const auto sample = engine_->update_system(now);
  if (sample) sink_(to_ipc_sample(*sample));
  names_.review(now);
}

void EngineShell::arm_timer() {
  const common::UnixNs now = realtime_now();
  const std::int64_t wait_ns =
      std::max<std::int64_t>(engine_->next_wakeup().ns - now.ns, 1'000'000);
  timeval tv{static_cast<time_t>(wait_ns / common::kNsPerSecond),
             static_cast<suseconds_t>((wait_ns % common::kNsPerSecond) / 1000)};
  evtimer_add(timer_.get(), &tv);
}

void EngineShell::on_clock_status(const ClockStatus& status) {
  if (engine_) engine_->on_clock_status(status, realtime_now());
}

SystemVars EngineShell::system_vars() const {
  return engine_ ? engine_->system_vars() : SystemVars{};
}

}  // namespace ntpd::net
