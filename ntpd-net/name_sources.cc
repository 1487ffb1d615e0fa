// Lookups and reviews for host-named associations (see name_sources.h).
#include "ntpd-net/name_sources.h"

#include <syslog.h>

#include <algorithm>
#include <limits>

#include "common/log.h"
#include "ntpd-net/dns_settings.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {
namespace {

constexpr std::int64_t kMaxTimerNs = 3600 * common::kNsPerSecond;
constexpr std::int32_t kMaxClockLimit = 64;  // more associations than selection holds is pointless

std::string join_addresses(const std::vector<common::ConfigAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : " ") + a.to_string();
  return out;
}

}  // namespace

NameSources::NameSources(event_base* base, Hooks hooks) : base_(base), hooks_(std::move(hooks)) {}

NameSources::~NameSources() = default;

void NameSources::configure(const ipc::NetConfig& config, common::UnixNs /*now*/) {
  ipv4_only_ = config.ipv4_only();
  ipv6_only_ = config.ipv6_only();
  if (config.has_tos_maxclock()) {
    if (config.tos_maxclock() >= 1 &&
        config.tos_maxclock() <= static_cast<unsigned>(kMaxClockLimit)) {
      max_clock_ = static_cast<std::size_t>(config.tos_maxclock());
    } else {
      common::logf(LOG_ERR, "DNS: NetConfig.tos_maxclock %u out of range 1..%d; using %zu",
                   config.tos_maxclock(), kMaxClockLimit, max_clock_);
    }
  }
  std::vector<std::string> problems;
  const ResolverConfig settings =
      resolver_config_from(config.has_dns() ? config.dns() : ipc::DnsConfig{}, &problems);
  for (const auto& problem : problems) common::logf(LOG_ERR, "DNS: %s", problem.c_str());
  std::string error;
  resolver_ = Resolver::create(base_, settings, &error);
  if (!resolver_) common::logf(LOG_ERR, "%s; host names cannot be resolved", error.c_str());
  timer_.reset(evtimer_new(
      base_,
      [](evutil_socket_t, short, void* self) {
        auto* sources = static_cast<NameSources*>(self);
        sources->review(realtime_now());
      },
      this));
}

void NameSources::add(const ipc::Association& line, common::UnixNs now) {
  Family family = Family::kAny;
  if (line.address_family() == 4 || ipv4_only_) family = Family::kIpv4;
  if (line.address_family() == 6 || ipv6_only_) family = Family::kIpv6;
  if ((line.address_family() == 4 && ipv6_only_) || (line.address_family() == 6 && ipv4_only_) ||
      (line.address_family() != 0 && line.address_family() != 4 && line.address_family() != 6)) {
    common::logf(LOG_ERR, "DNS: %s: address family %u conflicts with -4/-6; skipped",
                 line.host().c_str(), line.address_family());
    return;
  }
  const bool pool = line.kind() == ipc::ASSOCIATION_KIND_POOL;
  NamePolicy policy;
  policy.max_members = pool ? max_clock_ : 1;
  lines_.push_back(std::make_unique<Line>(
      Line{line, family,
           NameSource(pool ? NameKind::kPool : NameKind::kSingle, line.host(), policy, now)}));
  start_due(now);
  arm_timer();
}

NameActions NameSources::actions_for(const Line& line) {
  NameActions actions;
  actions.in_use = hooks_.in_use;
  actions.mobilize = [this, &line](const common::ConfigAddress& address) {
    return hooks_.mobilize(line.association, address);
  };
  actions.demobilize = [this, &line](std::uint32_t id, RemoveReason reason) {
    common::logf(LOG_NOTICE, "DNS: %s: giving up association %u: %s", line.source.host().c_str(),
                 id, std::string(to_string(reason)).c_str());
    hooks_.demobilize(id);
  };
  return actions;
}

void NameSources::review(common::UnixNs now) {
  for (auto& line : lines_) {
    std::vector<MemberObservation> seen;
    for (const auto& member : line->source.members()) seen.push_back(hooks_.observe(member.id));
    line->source.review(seen, now, actions_for(*line));
  }
  start_due(now);
  arm_timer();
}

void NameSources::start_due(common::UnixNs now) {
  if (!resolver_) return;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    Line& line = *lines_[i];
    if (!line.source.lookup_due(now)) continue;
    line.source.lookup_started();
    common::logf(LOG_DEBUG, "DNS: looking up %s", line.source.host().c_str());
    // The Resolver never calls back after it is destroyed, and lines_ only grows.
    resolver_->resolve(line.source.host(), line.family,
                       [this, i](const ResolveResult& result) { on_result(i, result); });
  }
}

void NameSources::on_result(std::size_t index, const ResolveResult& result) {
  Line& line = *lines_[index];
  const common::UnixNs now = realtime_now();
  LookupOutcome outcome;
  outcome.ok = result.status == ResolveStatus::kOk;
  outcome.addresses = result.addresses;
  const std::size_t before = line.source.members().size();
  line.source.on_answer(outcome, now, actions_for(line));
  if (!outcome.ok) {
    const std::int64_t wait_s = (line.source.next_lookup().ns - now.ns) / common::kNsPerSecond;
    common::logf(LOG_WARNING, "DNS: cannot resolve %s: %s; retrying in %lld s",
                 line.source.host().c_str(), std::string(to_string(result.status)).c_str(),
                 static_cast<long long>(std::max<std::int64_t>(wait_s, 0)));
  } else {
    common::logf(LOG_INFO, "DNS: %s is %s%s; %zu association%s (%zu new)",
                 line.source.host().c_str(), join_addresses(result.addresses).c_str(),
                 result.from_hosts ? " (hosts)" : "", line.source.members().size(),
                 line.source.members().size() == 1 ? "" : "s",
                 line.source.members().size() > before ? line.source.members().size() - before
                                                       : std::size_t{0});
  }
  start_due(now);
  arm_timer();
}

void NameSources::arm_timer() {
  if (!timer_) return;
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  for (const auto& line : lines_) next = std::min(next, line->source.next_lookup().ns);
  if (next == std::numeric_limits<std::int64_t>::max()) {
    evtimer_del(timer_.get());
    return;
  }
  const std::int64_t wait_ns =
      std::clamp<std::int64_t>(next - realtime_now().ns, 1'000'000, kMaxTimerNs);
  timeval tv{static_cast<time_t>(wait_ns / common::kNsPerSecond),
             static_cast<suseconds_t>((wait_ns % common::kNsPerSecond) / 1000)};
  evtimer_add(timer_.get(), &tv);
}

}  // namespace ntpd::net
