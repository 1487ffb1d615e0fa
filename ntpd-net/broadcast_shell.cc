// The broadcast shell (see broadcast_shell.h).
#include "ntpd-net/broadcast_shell.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <syslog.h>

#include <array>
#include <cstring>

#include "common/log.h"
#include "ntpd-net/access_control.h"
#include "ntpd-net/server_path.h"
#include "ntpd-net/shell_random.h"
#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {
namespace {

bool is_multicast_v4(const ServerAddress& a) {
  if (a.storage.ss_family != AF_INET) return false;
  const auto& sin = reinterpret_cast<const sockaddr_in&>(a.storage);
  return (ntohl(sin.sin_addr.s_addr) >> 28) == 0xe;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  if (a.ss_family != AF_INET6) return false;
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

std::string text_of(const sockaddr_storage& s) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      s.ss_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(s).sin_addr)
          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(s).sin6_addr);
  inet_ntop(s.ss_family, raw, text, sizeof text);
  return text;
}

// The IPv4 listening socket broadcasts leave from: the wildcard one (the
// kernel picks the source per route), else the first bound one, whose
// address also names the multicast interface.
const ipc::ListenSocket* pick_listen_socket(const ipc::NetConfig& config) {
  const ipc::ListenSocket* best = nullptr;
  for (const auto& s : config.listen_sockets()) {
    if (s.receive_only() || s.address().find(':') != std::string::npos) continue;
    if (!s.has_fd() || s.fd() < 3 || fcntl(s.fd(), F_GETFD) < 0) continue;
    if (s.address() == "0.0.0.0") return &s;
    if (best == nullptr) best = &s;
  }
  return best;
}

// The local address packets to `to` leave from (the kernel's route
// choice), found with a throwaway connected socket; family 0 if unknown.
sockaddr_storage source_toward(const ServerAddress& to) {
  sockaddr_storage local{};
  common::UniqueFd fd(socket(to.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int on = 1;
  socklen_t length = sizeof local;
  if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0 ||
      connect(fd.get(), reinterpret_cast<const sockaddr*>(&to.storage), to.length) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    return sockaddr_storage{};
  }
  return local;
}

// ntpd's documented default for the ttl option of a broadcast line.
constexpr int kDefaultMulticastTtl = 127;

}  // namespace

BroadcastShell::BroadcastShell(event_base* base) : base_(base) {}
BroadcastShell::~BroadcastShell() = default;

void BroadcastShell::configure(const ipc::NetConfig& config, Engine& engine, common::UnixNs now,
                               std::function<void()> changed) {
  engine_ = &engine;
  changed_ = std::move(changed);
  std::vector<std::string> problems;
  const AccessConfig access = access_config_from(config, &problems);
  restrict_ = RestrictTable(access.restrictions);
  keys_ = KeyStore(access.keys);
  trusted_ = TrustedKeys(access.trusted_keys);
  for (const auto& a : config.associations()) {
    if (a.kind() == ipc::ASSOCIATION_KIND_BROADCAST) add_sender(a, config);
  }
  if (config.has_broadcast_client() && config.broadcast_client().enabled()) {
    const auto& b = config.broadcast_client();
    client_enabled_ = true;
    require_auth_ = !b.has_require_auth() || b.require_auth();
    client_defaults_.volley = !b.novolley();
    // NetConfig is input like any other: out-of-range delays fall back.
    client_defaults_.delay_ns =
        b.has_delay_ns() && b.delay_ns() >= 0 && b.delay_ns() <= common::kNsPerSecond
            ? b.delay_ns()
            : kDefaultBroadcastDelayNs;
    common::logf(LOG_NOTICE, "PEER: broadcast client on (%s, %s)",
                 require_auth_ ? "authentication required" : "authentication optional",
                 client_defaults_.volley ? "delay calibrated by volley" : "novolley");
  }
  (void)now;
}

void BroadcastShell::add_sender(const ipc::Association& a, const ipc::NetConfig& config) {
  auto to = parse_server_address(a.host(), 123);
  if (!to || to->storage.ss_family != AF_INET) {
    common::logf(LOG_WARNING,
                 "PEER: broadcast %s: only IPv4 broadcast and multicast addresses "
                 "are supported; skipped",
                 a.host().c_str());
    return;
  }
  const ipc::ListenSocket* listen = pick_listen_socket(config);
  if (listen == nullptr) {
    common::logf(LOG_ERR, "PEER: broadcast %s: no IPv4 socket on port 123 to send from",
                 a.host().c_str());
    return;
  }
  Sender s;
  s.to = *to;
  s.fd = listen->fd();
  s.multicast = is_multicast_v4(*to);
  s.ttl = a.has_ttl() && a.ttl() >= 1 && a.ttl() <= 255 ? static_cast<int>(a.ttl())
                                                        : kDefaultMulticastTtl;
  if (a.key_id() != 0) {
    s.key = keys_.find(a.key_id());
    if (s.key == nullptr) {
      common::logf(LOG_ERR, "PEER: broadcast %s: key %u is not in the keys file; skipped",
                   a.host().c_str(), a.key_id());
      return;
    }
  }
  // Unprivileged options on a socket we already hold: the kernel refuses
  // broadcast destinations without SO_BROADCAST.
  const int on = 1;
  bool ok = setsockopt(s.fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) == 0;
  if (s.multicast && listen->address() != "0.0.0.0") {
    in_addr interface {};
    inet_pton(AF_INET, listen->address().c_str(), &interface);
    ok = ok && setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_IF, &interface, sizeof interface) == 0;
  }
  if (!ok) {
    common::logf(LOG_ERR, "PEER: broadcast %s: socket options: %s", a.host().c_str(),
                 std::strerror(errno));
    return;
  }
  if (listen->address() != "0.0.0.0") {
    if (auto bound = parse_server_address(listen->address(), 0)) s.source = bound->storage;
  } else {
    s.source = source_toward(*to);
  }
  BroadcastServerConfig config_out;
  config_out.version =
      static_cast<std::uint8_t>(a.version() >= 1 && a.version() <= 4 ? a.version() : 4);
  config_out.poll_log2s = static_cast<std::int8_t>(a.has_minpoll_log2s() ? a.minpoll_log2s() : 6);
  const std::int64_t first_delay = random_delay_ns(common::kNsPerSecond);
  s.id = engine_->add_broadcast_server(config_out, realtime_now(), first_delay);
  common::logf(LOG_NOTICE, "PEER: broadcast server to %s every %d s%s from %s", a.host().c_str(),
               1 << std::clamp<int>(config_out.poll_log2s, 3, 17),
               s.key != nullptr ? ", authenticated" : "", listen->address().c_str());
  senders_.push_back(s);
}

std::size_t BroadcastShell::sign(std::span<std::uint8_t> packet, std::size_t length,
                                 const common::SymmetricKey* key) const {
  if (key == nullptr) return length;
  return append_mac(packet, length, *key);
}

bool BroadcastShell::send(const Outgoing& out) {
  std::array<std::uint8_t, kHeaderBytes + kMacSha1Bytes + 8> buffer{};
  std::memcpy(buffer.data(), out.bytes.data(), out.length);
  for (const Sender& s : senders_) {
    if (s.id != out.association_id) continue;
    // The transmit timestamp was set when the engine built the packet, a
    // moment ago; the MAC covers it.
    const std::size_t length = sign(buffer, out.length, s.key);
    if (length == 0) return true;
    if (s.multicast) setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_TTL, &s.ttl, sizeof s.ttl);
    if (::sendto(s.fd, buffer.data(), length, MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&s.to.storage), s.to.length) < 0) {
      common::logf(LOG_INFO, "PEER: broadcast to %s failed: %s", s.to.text.c_str(),
                   std::strerror(errno));
    }
    return true;
  }
  const auto it = clients_.find(out.association_id);
  if (it == clients_.end()) return false;
  Client& c = *it->second;
  const std::size_t length = sign(buffer, out.length, c.key);
  std::string error;
  if (length == 0 || !c.volley ||
      !c.volley->send(std::span<const std::uint8_t>(buffer.data(), length), &error)) {
    common::logf(LOG_INFO, "PEER: %s: volley request not sent %s", c.server.text.c_str(),
                 error.c_str());
  }
  return true;
}

bool BroadcastShell::on_datagram(std::span<const std::uint8_t> bytes, const sockaddr_storage& from,
                                 common::UnixNs received) {
  if (!client_enabled_ || engine_ == nullptr || bytes.size() < kHeaderBytes ||
      (bytes[0] & 0x7) != static_cast<std::uint8_t>(Mode::kBroadcast)) {
    return false;
  }
  for (const Sender& s : senders_) {
    // Our own broadcast, looped back to our wildcard socket: never a source.
    if (same_address(s.source, from)) return true;
  }
  const common::UnixNs now = realtime_now();
  const auto packet = parse_packet(bytes, nullptr);
  std::uint16_t port = 0;
  const auto source = address_of(from, &port);
  if (!packet || !source) return true;
  // ntpd's rules for a packet that may mobilize an association: ignore and
  // noserve drop it; nopeer and notrust let it through only authenticated.
  const common::RestrictFlags flags = restrict_.match(*source, port);
  if (flags.ignore || flags.noserve) return true;
  const AuthResult auth = verify(bytes, *packet, keys_, trusted_);
  if (auth.status != AuthStatus::kNone && auth.status != AuthStatus::kOk) {
    common::logf(LOG_DEBUG, "PEER: broadcast from %s dropped: %s", text_of(from).c_str(),
                 std::string(to_string(auth.status)).c_str());
    return true;
  }
  const bool authentic = auth.status == AuthStatus::kOk;
  if (!authentic && (require_auth_ || flags.nopeer || flags.notrust)) {
    common::logf(LOG_DEBUG, "PEER: unauthenticated broadcast from %s dropped",
                 text_of(from).c_str());
    return true;
  }
  Client* client = nullptr;
  for (auto& [id, c] : clients_) {
    if (same_address(c->server.storage, from)) client = c.get();
  }
  if (client != nullptr && client->key != nullptr &&
      (!authentic || auth.key_id != client->key->id)) {
    return true;  // an authenticated association stays authenticated, with its key
  }
  if (client == nullptr) {
    const auto server = parse_server_address(text_of(from), 123);
    if (!server) return true;
    client = mobilize(*server, authentic ? keys_.find(auth.key_id) : nullptr, now);
    if (client == nullptr) return true;
  }
  const ReceiveResult result = engine_->on_broadcast(client->id, bytes, received, now);
  if (result.action == ReplyAction::kDropped) {
    common::logf(LOG_DEBUG, "PEER: broadcast from %s dropped: %s", client->server.text.c_str(),
                 to_string(result.failed).c_str());
  }
  if (changed_) changed_();
  return true;
}

BroadcastShell::Client* BroadcastShell::mobilize(const ServerAddress& server,
                                                 const common::SymmetricKey* key,
                                                 common::UnixNs now) {
  if (clients_.size() >= kMaxBroadcastClients) {
    common::logf(LOG_WARNING, "PEER: broadcast from %s ignored: already following %zu servers",
                 server.text.c_str(), clients_.size());
    return nullptr;
  }
  auto client = std::make_unique<Client>();
  client->owner = this;
  client->server = server;
  client->key = key;
  BroadcastClientConfig config = client_defaults_;
  config.address_refid = server.refid;
  if (config.volley) {
    std::string error;
    client->volley = ClientSocket::open(server, &error);
    if (!client->volley) {
      // ntpd would keep trying; the configured delay is the fallback.
      common::logf(LOG_WARNING, "PEER: %s: no volley socket (%s); using broadcastdelay",
                   server.text.c_str(), error.c_str());
      config.volley = false;
    }
  }
  config.source_address_hash =
      client->volley ? client->volley->local_refid() : local_refid_toward(server);
  const std::int64_t startup = random_delay_ns(common::kNsPerSecond);
  client->id = engine_->add_broadcast_client(config, now, startup);
  if (client->volley) {
    client->readable.reset(event_new(
        base_, client->volley->fd(), EV_READ | EV_PERSIST,
        [](evutil_socket_t, short, void* arg) {
          auto* c = static_cast<Client*>(arg);
          c->owner->on_volley_readable(*c);
        },
        client.get()));
    event_add(client->readable.get(), nullptr);
  }
  common::logf(LOG_NOTICE, "PEER: broadcast server %s mobilized%s%s", server.text.c_str(),
               key != nullptr ? (", key " + std::to_string(key->id)).c_str() : ", unauthenticated",
               config.volley ? ", calibrating delay" : "");
  Client* raw = client.get();
  clients_[client->id] = std::move(client);
  return raw;
}

void BroadcastShell::on_volley_readable(Client& client) {
  // Client sockets loop transmit timestamps back (client_io.cc); the volley
  // does not use them, but an undrained error queue keeps the fd readable.
  drain_tx_timestamps(client.volley->fd(), [](std::span<const std::uint8_t>, common::UnixNs) {});
  client.volley->drain([&](std::span<const std::uint8_t> bytes, common::UnixNs received) {
    if (client.key != nullptr) {
      const auto packet = parse_packet(bytes, nullptr);
      if (!packet) return;
      const AuthResult auth = verify(bytes, *packet, keys_, trusted_);
      if (auth.status != AuthStatus::kOk || auth.key_id != client.key->id) return;
    }
    const ReceiveResult result = engine_->on_reply(client.id, bytes, received, realtime_now());
    if (result.action == ReplyAction::kDropped) {
      common::logf(LOG_DEBUG, "PEER: %s: volley reply dropped: %s", client.server.text.c_str(),
                   to_string(result.failed).c_str());
    }
  });
  if (const BroadcastClient* c = engine_->find_broadcast_client(client.id);
      c != nullptr && !c->calibrating()) {
    common::logf(LOG_INFO, "PEER: %s: broadcast delay %.3f ms", client.server.text.c_str(),
                 static_cast<double>(c->one_way_delay_ns()) / 1e6);
    client.readable.reset();
    client.volley.reset();
  }
  if (changed_) changed_();
}

}  // namespace ntpd::net
