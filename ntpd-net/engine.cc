// The engine's bookkeeping around the association and system cores.
#include "ntpd-net/engine.h"

#include <algorithm>
#include <limits>

namespace ntpd::net {
namespace {

// A request for the shell; the buffer leaves room for the MAC it may add.
Outgoing outgoing_for(std::uint32_t association_id, const TransmitPlan& plan) {
  Outgoing o;
  o.association_id = association_id;
  o.length = std::min(plan.length, plan.bytes.size());
  std::copy_n(plan.bytes.begin(), o.length, o.bytes.begin());
  return o;
}

// The local clock offers a fresh zero-offset sample once per this interval
// (ntpd polls the LOCAL driver at 2^6 s).
constexpr std::int64_t kLocalClockIntervalNs = 64 * common::kNsPerSecond;
// The system process runs at least this often, so dispersion growth and
// orphan timers are seen even without replies.
constexpr std::int64_t kSystemIntervalNs = common::kNsPerSecond;

// The combined offset is as old as the newest survivor's filter sample (the
// clock filter may pass one several polls old, RFC 5905 section 10); the
// clock process removes the correction it applied since (IPC Sample.age_ns).
std::int64_t sample_age_ns(std::span<const PeerSummary> peers, const SelectionResult& selection,
                           common::UnixNs now) {
  std::int64_t newest = std::numeric_limits<std::int64_t>::min();
  for (const Survivor& s : selection.survivors.view()) {
    if (s.index >= peers.size()) continue;
    // The local clock's zero offset holds at every instant.
    const PeerSummary& p = peers[s.index];
    newest = std::max(newest, p.is_local_clock ? now.ns : p.epoch_ns);
  }
  if (newest == std::numeric_limits<std::int64_t>::min() || newest >= now.ns) return 0;
  return now.ns - newest;
}

}  // namespace

Engine::Engine(const EngineConfig& config, common::UnixNs now) : config_(config), started_(now) {
  refresh_system_vars();
}

std::uint32_t Engine::add(AssociationConfig config, common::UnixNs now,
                          std::int64_t startup_delay_ns) {
  config.id = next_id_++;
  config.precision_log2s = config_.precision_log2s;
  config.max_distance_ns = config_.params.maxdist_ns;
  auto association = std::make_unique<Association>(config, now, startup_delay_ns);
  association->set_system(sys_);
  associations_.push_back(std::move(association));
  return config.id;
}

std::uint32_t Engine::add_broadcast_server(BroadcastServerConfig config, common::UnixNs now,
                                           std::int64_t first_delay_ns) {
  config.id = next_id_++;
  broadcast_servers_.push_back(std::make_unique<BroadcastServer>(config, now, first_delay_ns));
  return config.id;
}

std::uint32_t Engine::add_broadcast_client(BroadcastClientConfig config, common::UnixNs now,
                                           std::int64_t startup_delay_ns) {
  config.id = next_id_++;
  config.precision_log2s = config_.precision_log2s;
  config.max_distance_ns = config_.params.maxdist_ns;
  auto client = std::make_unique<BroadcastClient>(config, now, startup_delay_ns);
  client->set_system(sys_);
  broadcast_clients_.push_back(std::move(client));
  return config.id;
}

BroadcastClient* Engine::find_broadcast_client(std::uint32_t id) {
  for (auto& c : broadcast_clients_) {
    if (c->config().id == id) return c.get();
  }
  return nullptr;
}

ReceiveResult Engine::on_broadcast(std::uint32_t id, std::span<const std::uint8_t> bytes,
                                   common::UnixNs receive_time, common::UnixNs now) {
  BroadcastClient* c = find_broadcast_client(id);
  if (c == nullptr) return ReceiveResult{};
  return c->on_broadcast(bytes, receive_time, now);
}

void Engine::remove(std::uint32_t id) {
  std::erase_if(associations_, [id](const auto& a) { return a->config().id == id; });
}

Association* Engine::find(std::uint32_t id) {
  for (auto& a : associations_) {
    if (a->config().id == id) return a.get();
  }
  return nullptr;
}

void Engine::poll(common::UnixNs now, const std::function<std::uint64_t()>& cookie,
                  std::vector<Outgoing>& out) {
  for (auto& a : associations_) {
    if (!a->poll_due(now).due) continue;
    const TransmitPlan plan = a->make_request(now, cookie());
    if (plan.send) out.push_back(outgoing_for(a->config().id, plan));
  }
  for (auto& c : broadcast_clients_) {
    if (!c->poll_due(now).due) continue;
    const TransmitPlan plan = c->make_request(now, cookie());
    if (plan.send) out.push_back(outgoing_for(c->config().id, plan));
  }
  for (auto& b : broadcast_servers_) {
    if (!b->due(now)) continue;
    Outgoing o;
    o.association_id = b->config().id;
    o.length = b->transmit(sys_, now, o.bytes);
    if (o.length > 0) out.push_back(o);
  }
}

ReceiveResult Engine::on_reply(std::uint32_t id, std::span<const std::uint8_t> bytes,
                               common::UnixNs receive_time, common::UnixNs now) {
  Association* a = find(id);
  if (a == nullptr) {
    BroadcastClient* c = find_broadcast_client(id);
    return c != nullptr ? c->on_reply(bytes, receive_time, now) : ReceiveResult{};
  }
  return a->on_reply(bytes, receive_time, now);
}

std::optional<PeerSummary> Engine::local_clock_summary(common::UnixNs now) const {
  if (!config_.local_clock_stratum) return std::nullopt;
  PeerSummary s;
  s.id = 0;
  s.offset_ns = 0;
  s.stratum = *config_.local_clock_stratum;
  s.leap = 0;
  s.refid = 0x4c4f434c;  // "LOCL", as ntpd's LOCAL driver
  s.reach = 0xff;
  s.poll_log2s = 6;
  s.is_local_clock = true;
  s.address_refid = config_.local_clock_refid;
  // A fresh sample each local interval: the clock process sees a steady
  // trickle of zero offsets, as with ntpd's LOCAL driver.
  s.epoch_ns = now.ns - (now.ns - started_.ns) % kLocalClockIntervalNs;
  return s;
}

std::optional<SystemSample> Engine::update_system(common::UnixNs now) {
  std::vector<PeerSummary> peers;
  peers.reserve(associations_.size() + 1);
  decision_ids_.clear();
  for (const auto& a : associations_) {
    peers.push_back(a->summary(now));
    decision_ids_.push_back(a->config().id);
  }
  for (const auto& c : broadcast_clients_) {
    peers.push_back(c->summary(now));
    decision_ids_.push_back(c->config().id);
  }
  if (auto local = local_clock_summary(now)) peers.push_back(*local);
  SystemParams params = config_.params;
  params.orphan_wait_over = now.ns - started_.ns >= config_.orphan_wait_ns;
  decision_ = run_system_process(peers, params, state_);
  state_ = decision_.next_state;
  if (decision_.lost_system_peer) started_ = now;  // restart the orphan wait
  last_update_ = now;
  refresh_system_vars();
  if (decision_.sample) decision_.sample->age_ns = sample_age_ns(peers, decision_.selection, now);
  return decision_.sample;
}

void Engine::on_clock_status(const ClockStatus& status, common::UnixNs now) {
  clock_ = status;
  if (status.stepped) {
    // RFC 5905 A.5.5.1 rstclock after a step: every association starts over.
    for (auto& a : associations_) a->reset(now, 0);
    for (auto& c : broadcast_clients_) c->reset(now, 0);
    state_.last_epoch_ns = std::numeric_limits<std::int64_t>::min();
  }
  refresh_system_vars();
}

void Engine::refresh_system_vars() {
  const AdvertisedState& adv = decision_.advertised;
  SystemVars sys;
  // We claim synchronization only when both sides agree: the system
  // process has a source and the clock process says the clock follows it.
  // An orphan parent has no source to follow: it leads with the clock it
  // has (ntpd timer() sets LEAP_NOWARNING itself), so it needs no such word.
  sys.synchronized =
      adv.synchronized && (clock_.synchronized || decision_.status == SyncStatus::kOrphanParent);
  sys.leap = sys.synchronized ? adv.leap : 3;
  sys.stratum = sys.synchronized ? adv.stratum : 16;
  sys.precision_log2s = config_.precision_log2s;
  sys.root_delay_ns = adv.root_delay_ns;
  sys.root_dispersion_ns = adv.root_dispersion_ns;
  sys.refid = sys.synchronized ? adv.refid : kRefidInit;
  sys.reference_time = last_update_;
  sys.poll_log2s = clock_.poll_log2s;
  sys_ = sys;
  for (auto& a : associations_) a->set_system(sys_);
  for (auto& c : broadcast_clients_) c->set_system(sys_);
}

SystemVars Engine::system_vars() const { return sys_; }

std::optional<PeerStatus> Engine::peer_status(std::uint32_t id) const {
  const std::size_t count = std::min(decision_ids_.size(), decision_.selection.peer_count);
  for (std::size_t i = 0; i < count; ++i) {
    if (decision_ids_[i] == id) return decision_.selection.status[i];
  }
  return std::nullopt;
}

common::UnixNs Engine::next_wakeup() const {
  common::UnixNs next{last_update_.ns + kSystemIntervalNs};
  for (const auto& a : associations_) next = std::min(next, a->poll_due(next).next);
  for (const auto& c : broadcast_clients_) next = std::min(next, c->poll_due(next).next);
  for (const auto& b : broadcast_servers_) next = std::min(next, b->next());
  return next;
}

}  // namespace ntpd::net
