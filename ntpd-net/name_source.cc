// NameSource decisions (see name_source.h). ntpd's pool semantics: a pool
// is a source of addresses, not an association; its members are ordinary
// client associations that are dropped when they stop being useful and
// replaced from the next answer.
#include "ntpd-net/name_source.h"

#include <algorithm>
#include <limits>

namespace ntpd::net {
namespace {

constexpr common::UnixNs kNoLookup{std::numeric_limits<std::int64_t>::max()};
constexpr std::size_t kMaxQuarantined = 64;

common::UnixNs after(common::UnixNs now, std::int64_t delay_ns) {
  if (delay_ns >= kNoLookup.ns - now.ns) return kNoLookup;
  return common::UnixNs{now.ns + delay_ns};
}

}  // namespace

std::string_view to_string(RemoveReason reason) {
  switch (reason) {
    case RemoveReason::kUnreachable:
      return "unreachable";
    case RemoveReason::kDenied:
      return "kiss-o'-death DENY/RSTR";
    case RemoveReason::kFalseticker:
      return "persistent falseticker";
    case RemoveReason::kReplaced:
      return "replaced by a new address";
  }
  return "?";
}

NameSource::NameSource(NameKind kind, std::string host, NamePolicy policy, common::UnixNs now)
    : kind_(kind),
      host_(std::move(host)),
      policy_(policy),
      next_lookup_(now),
      refill_ns_(policy.refill_min_ns) {
  if (kind_ == NameKind::kSingle || policy_.max_members == 0) policy_.max_members = 1;
}

void NameSource::lookup_started() {
  in_flight_ = true;
  next_lookup_ = kNoLookup;
}

bool NameSource::quarantined(const common::ConfigAddress& address, common::UnixNs now) const {
  return std::any_of(quarantine_.begin(), quarantine_.end(), [&](const auto& entry) {
    return entry.first == address && now.ns < entry.second.ns;
  });
}

bool NameSource::usable(const common::ConfigAddress& address, common::UnixNs now,
                        const NameActions& actions) const {
  const bool ours = std::any_of(members_.begin(), members_.end(),
                                [&](const Member& m) { return m.address == address; });
  return !ours && !quarantined(address, now) && !(actions.in_use && actions.in_use(address));
}

void NameSource::on_answer(const LookupOutcome& outcome, common::UnixNs now,
                           const NameActions& actions) {
  in_flight_ = false;
  if (!outcome.ok || outcome.addresses.empty()) {
    // Backoff: retry_min, 2x, 4x ... capped at retry_max.
    std::int64_t delay = policy_.retry_min_ns;
    for (int i = 0; i < failures_ && delay < policy_.retry_max_ns; ++i) delay *= 2;
    ++failures_;
    next_lookup_ = after(now, std::min(delay, policy_.retry_max_ns));
    return;
  }
  failures_ = 0;
  std::erase_if(quarantine_, [now](const auto& entry) { return now.ns >= entry.second.ns; });
  if (kind_ == NameKind::kSingle) {
    answer_single(outcome, now, actions);
  } else {
    answer_pool(outcome, now, actions);
  }
}

void NameSource::answer_single(const LookupOutcome& outcome, common::UnixNs now,
                               const NameActions& actions) {
  if (!members_.empty() && !replace_wanted_) {
    next_lookup_ = kNoLookup;
    return;
  }
  for (const auto& address : outcome.addresses) {
    if (!usable(address, now, actions)) continue;
    const auto id = actions.mobilize(address);
    if (!id) continue;
    if (!members_.empty()) give_up(0, RemoveReason::kReplaced, now, actions);
    members_.push_back(Member{*id, address, std::nullopt});
    replace_wanted_ = false;
    refill_ns_ = policy_.refill_min_ns;
    next_lookup_ = kNoLookup;
    return;
  }
  // Nothing new: keep the current server (it may come back) and ask again.
  schedule_refill(now, false);
}

void NameSource::answer_pool(const LookupOutcome& outcome, common::UnixNs now,
                             const NameActions& actions) {
  bool progress = false;
  for (const auto& address : outcome.addresses) {
    if (members_.size() >= policy_.max_members) break;
    if (!usable(address, now, actions)) continue;
    if (const auto id = actions.mobilize(address)) {
      members_.push_back(Member{*id, address, std::nullopt});
      progress = true;
    }
  }
  if (members_.size() >= policy_.max_members) {
    refill_ns_ = policy_.refill_min_ns;
    next_lookup_ = kNoLookup;
  } else {
    schedule_refill(now, progress);
  }
}

void NameSource::schedule_refill(common::UnixNs now, bool progress) {
  if (progress) {
    refill_ns_ = policy_.refill_min_ns;
  }
  next_lookup_ = after(now, refill_ns_);
  if (!progress) refill_ns_ = std::min(refill_ns_ * 2, policy_.refill_max_ns);
}

void NameSource::give_up(std::size_t index, RemoveReason reason, common::UnixNs now,
                         const NameActions& actions) {
  const Member member = members_[index];
  members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(index));
  if (quarantine_.size() >= kMaxQuarantined) quarantine_.erase(quarantine_.begin());
  quarantine_.emplace_back(member.address, after(now, policy_.quarantine_ns));
  actions.demobilize(member.id, reason);
}

void NameSource::review(std::span<const MemberObservation> observations, common::UnixNs now,
                        const NameActions& actions) {
  bool removed = false;
  for (const MemberObservation& seen : observations) {
    const auto it = std::find_if(members_.begin(), members_.end(),
                                 [&](const Member& m) { return m.id == seen.id; });
    if (it == members_.end()) continue;
    const auto index = static_cast<std::size_t>(it - members_.begin());
    if (kind_ == NameKind::kSingle) {
      // One server is all we have: keep it until another address answers.
      if ((seen.unreachable || seen.denied) && !replace_wanted_) {
        replace_wanted_ = true;
        if (!in_flight_) next_lookup_ = now;
      } else if (!seen.unreachable && !seen.denied && replace_wanted_) {
        replace_wanted_ = false;  // it came back
        refill_ns_ = policy_.refill_min_ns;
        if (!in_flight_ && failures_ == 0) next_lookup_ = kNoLookup;
      }
      continue;
    }
    if (!seen.falseticker) {
      it->falseticker_since.reset();
    } else if (!it->falseticker_since) {
      it->falseticker_since = now;
    }
    if (seen.denied) {
      give_up(index, RemoveReason::kDenied, now, actions);
    } else if (seen.unreachable) {
      give_up(index, RemoveReason::kUnreachable, now, actions);
    } else if (it->falseticker_since &&
               now.ns - it->falseticker_since->ns >= policy_.falseticker_limit_ns) {
      give_up(index, RemoveReason::kFalseticker, now, actions);
    } else {
      continue;
    }
    removed = true;
  }
  // A pool that lost a member asks for a replacement now.
  if (removed && !in_flight_) {
    refill_ns_ = policy_.refill_min_ns;
    next_lookup_ = now;
  }
}

}  // namespace ntpd::net
