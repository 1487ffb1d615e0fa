// The engine's bookkeeping around the association and system cores.
#include "ntpd-net/engine.h"

#include <algorithm>

namespace ntpd::net {
namespace {

// The local clock offers a fresh zero-offset sample once per this interval
// (ntpd polls the LOCAL driver at 2^6 s).
constexpr std::int64_t kLocalClockIntervalNs = 64 * common::kNsPerSecond;
// The system process runs at least this often, so dispersion growth and
// orphan timers are seen even without replies.
constexpr std::int64_t kSystemIntervalNs = common::kNsPerSecond;

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
    if (!plan.send) continue;
    Outgoing o;
    o.association_id = a->config().id;
    std::copy_n(plan.bytes.begin(), std::min(plan.length, plan.bytes.size()), o.bytes.begin());
    o.length = std::min(plan.length, plan.bytes.size());
    out.push_back(o);
  }
}

ReceiveResult Engine::on_reply(std::uint32_t id, std::span<const std::uint8_t> bytes,
                               common::UnixNs receive_time, common::UnixNs now) {
  Association* a = find(id);
  if (a == nullptr) return ReceiveResult{};
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
  for (const auto& a : associations_) peers.push_back(a->summary(now));
  if (auto local = local_clock_summary(now)) peers.push_back(*local);
  SystemParams params = config_.params;
  params.orphan_wait_over = now.ns - started_.ns >= config_.orphan_wait_ns;
  decision_ = run_system_process(peers, params, state_);
  state_ = decision_.next_state;
  if (decision_.lost_system_peer) started_ = now;  // restart the orphan wait
  last_update_ = now;
  refresh_system_vars();
  return decision_.sample;
}

void Engine::on_clock_status(const ClockStatus& status, common::UnixNs now) {
  clock_ = status;
  if (status.stepped) {
    // RFC 5905 A.5.5.1 rstclock after a step: every association starts over.
    for (auto& a : associations_) a->reset(now, 0);
    state_.last_epoch_ns = std::numeric_limits<std::int64_t>::min();
  }
  refresh_system_vars();
}

void Engine::refresh_system_vars() {
  const AdvertisedState& adv = decision_.advertised;
  SystemVars sys;
  // We claim synchronization only when both sides agree: the system
  // process has a source and the clock process says the clock follows it.
  sys.synchronized = adv.synchronized && clock_.synchronized;
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
}

SystemVars Engine::system_vars() const { return sys_; }

common::UnixNs Engine::next_wakeup() const {
  common::UnixNs next{last_update_.ns + kSystemIntervalNs};
  for (const auto& a : associations_) next = std::min(next, a->poll_due(next).next);
  return next;
}

}  // namespace ntpd::net
