// The simulated ntpd-net around the real Engine (see sim_net_process.h).
#include "tests/sim/sim_net_process.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ntpd-net/server.h"

namespace ntpd::sim {
namespace {

// Simulated time zero is 2026-01-01 00:00:00 UTC.
constexpr std::int64_t kEpochNs = std::int64_t{1'767'225'600} * common::kNsPerSecond;
// The servers are stratum 1, 10 us root dispersion, last set 16 s ago.
constexpr std::int64_t kServerRootDispersionNs = 10'000;
constexpr std::int64_t kServerReferenceAgeNs = 16 * common::kNsPerSecond;
// Our own address, as the servers would name us (the loop test).
constexpr std::uint32_t kOurAddressRefid = 0x0a000001;  // 10.0.0.1
constexpr std::uint32_t kFirstServerRefid = 0x7f000001;
constexpr std::int64_t kMinTimerNs = 1'000'000;  // EngineShell::arm_timer

std::int64_t to_ns(double s) { return std::llround(s * 1e9); }

std::uint32_t leap_indicator(const clock::DisciplineStatus& status) {
  if (!status.synchronized) return 3;
  if (status.leap == clock::LeapArm::kInsert) return 1;
  if (status.leap == clock::LeapArm::kDelete) return 2;
  return 0;
}

}  // namespace

SimNetProcess::SimNetProcess(const SimNetConfig& config, Network& network, Rng& rng,
                             const SimulatedClock& clock)
    : config_(config),
      network_(&network),
      rng_(&rng),
      clock_(&clock),
      engine_(net::EngineConfig{}, local_now()) {
  for (std::size_t i = 0; i < config_.servers.size(); ++i) {
    net::AssociationConfig a;
    a.minpoll_log2s = static_cast<std::int8_t>(config_.min_poll_log2s);
    a.maxpoll_log2s = static_cast<std::int8_t>(config_.max_poll_log2s);
    a.iburst = config_.iburst;
    a.address_refid = kFirstServerRefid + static_cast<std::uint32_t>(i);
    a.source_address_hash = kOurAddressRefid;
    ids_.push_back(engine_.add(a, local_now(), to_ns(2 * rng_->uniform())));
  }
  arm_timer();
}

common::UnixNs SimNetProcess::local_now() const {
  return common::UnixNs{kEpochNs + to_ns(clock_->true_time_s() - clock_->offset_s())};
}

double SimNetProcess::next_arrival_s() const {
  double next = std::numeric_limits<double>::infinity();
  for (const auto& f : in_flight_) next = std::min(next, f.arrival_s);
  return next;
}

void SimNetProcess::arm_timer() {
  const std::int64_t wait_ns =
      std::max<std::int64_t>(engine_.next_wakeup().ns - local_now().ns, kMinTimerNs);
  next_timer_s_ = clock_->true_time_s() + static_cast<double>(wait_ns) * 1e-9;
}

// One request through the network: the server reads it `out` seconds later
// at its own clock, answers at once with ntpd-net's server core, and the
// reply lands `back` seconds after that (both drawn by Network).
void SimNetProcess::send(const net::Outgoing& request) {
  const auto it = std::find(ids_.begin(), ids_.end(), request.association_id);
  if (it == ids_.end()) return;
  const SimServer& server = config_.servers[static_cast<std::size_t>(it - ids_.begin())];
  const double t_s = clock_->true_time_s();
  const auto delays = network_->delays(t_s);
  if (!delays) return;
  const double at_server_s = t_s + delays->out_s + server.clock_error_s;
  const common::UnixNs server_now{kEpochNs + to_ns(at_server_s)};
  net::SystemVars sys;
  sys.synchronized = true;
  sys.leap = 0;
  sys.stratum = 1;
  sys.refid = net::refid_from_ascii("GPS");
  sys.root_dispersion_ns = kServerRootDispersionNs;
  sys.reference_time = common::UnixNs{server_now.ns - kServerReferenceAgeNs};
  InFlight reply;
  const net::ServerDecision d = net::respond(std::span(request.bytes.data(), request.length),
                                             server_now, server_now, sys, reply.bytes);
  if (d.action != net::ServerDecision::Action::kReply) return;
  reply.length = d.length;
  reply.association_id = request.association_id;
  reply.arrival_s = t_s + delays->out_s + delays->back_s;
  in_flight_.push_back(reply);
}

std::optional<clock::DisciplineSample> SimNetProcess::on_timer() {
  std::vector<net::Outgoing> requests;
  engine_.poll(
      local_now(), [this] { return rng_->next(); }, requests);
  for (const auto& r : requests) send(r);
  auto sample = run_system();
  arm_timer();
  return sample;
}

std::optional<clock::DisciplineSample> SimNetProcess::on_arrival() {
  const auto it = std::min_element(
      in_flight_.begin(), in_flight_.end(),
      [](const InFlight& a, const InFlight& b) { return a.arrival_s < b.arrival_s; });
  if (it == in_flight_.end()) return std::nullopt;
  const InFlight reply = *it;
  in_flight_.erase(it);
  const common::UnixNs now = local_now();
  engine_.on_reply(reply.association_id, std::span(reply.bytes.data(), reply.length), now, now);
  auto sample = run_system();
  arm_timer();
  return sample;
}

std::optional<clock::DisciplineSample> SimNetProcess::run_system() {
  const auto s = engine_.update_system(local_now());
  if (!s) return std::nullopt;
  clock::DisciplineSample out;
  out.offset_ns = s->offset_ns;
  out.delay_ns = s->delay_ns;
  out.dispersion_ns = s->dispersion_ns;
  out.jitter_ns = s->jitter_ns;
  out.root_distance_ns = s->root_distance_ns;
  out.stratum = s->stratum;
  out.leap = s->leap;
  out.refid = s->refid;
  out.poll_log2s = s->poll_log2s;
  out.age_ns = config_.sample_age ? s->age_ns : 0;
  return out;
}

void SimNetProcess::on_clock_state(const clock::DisciplineStatus& status, bool stepped) {
  engine_.on_clock_status(
      net::ClockStatus{status.synchronized, static_cast<std::uint8_t>(leap_indicator(status)),
                       static_cast<std::int8_t>(std::clamp(status.poll_log2s, 3, 17)), stepped},
      local_now());
  arm_timer();
}

}  // namespace ntpd::sim
