// NameSource: the policy for one configured host name, a `server`/`peer`
// line naming a host or a `pool` line: when to look the name up, which of
// the answered addresses to mobilize, and which associations to give up
// (ntpd's pool behaviour). Pure core for ntpd-net: the lookup, the
// associations and the time are the caller's; decisions go out through the
// callbacks in NameActions. Never resolves, logs or reads a clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ntp_conf_types.h"
#include "common/time_types.h"

namespace ntpd::net {

enum class NameKind : std::uint8_t {
  kSingle,  // server or peer NAME: one association, on the first usable address
  kPool,    // pool NAME: one association per distinct address, up to max_members
};

struct NamePolicy {
  std::size_t max_members = 1;  // kPool: tos maxclock (ntpd default 10); kSingle: 1
  // A failed lookup is retried after retry_min, doubling up to retry_max.
  std::int64_t retry_min_ns = 5 * common::kNsPerSecond;
  std::int64_t retry_max_ns = 3600 * common::kNsPerSecond;
  // A pool below max_members asks again after refill_min (ntpd solicits
  // the pool once per poll interval), doubling while answers bring nothing
  // new, up to refill_max. A single source whose server is unreachable
  // re-resolves on the same schedule.
  std::int64_t refill_min_ns = 64 * common::kNsPerSecond;
  std::int64_t refill_max_ns = 1024 * common::kNsPerSecond;
  // A pool member that selection marks a falseticker continuously this long
  // is replaced (RFC 5905 section 11.2.1: it disagrees with the majority).
  std::int64_t falseticker_limit_ns = 900 * common::kNsPerSecond;
  // An address given up is not mobilized again for this long, so a pool
  // whose DNS keeps offering a dead server does not take it back.
  std::int64_t quarantine_ns = 3600 * common::kNsPerSecond;
};

// What a lookup of the name produced (the shell converts ResolveResult).
struct LookupOutcome {
  bool ok = false;                               // at least one address
  std::vector<common::ConfigAddress> addresses;  // in answer order
};

// The health of one member association at a review.
struct MemberObservation {
  std::uint32_t id = 0;
  bool unreachable = false;  // Association::unreachable()
  bool denied = false;       // Association::demobilized(): a kiss-o'-death DENY/RSTR
  bool falseticker = false;  // selection's last status for it was kFalseticker
};

enum class RemoveReason : std::uint8_t { kUnreachable, kDenied, kFalseticker, kReplaced };
std::string_view to_string(RemoveReason reason);

// The caller's side. mobilize returns the new association's id, or nullopt
// if it could not be created (the core tries again at the next lookup).
struct NameActions {
  std::function<bool(const common::ConfigAddress&)> in_use;  // another association has it
  std::function<std::optional<std::uint32_t>(const common::ConfigAddress&)> mobilize;
  std::function<void(std::uint32_t id, RemoveReason reason)> demobilize;
};

class NameSource {
 public:
  struct Member {
    std::uint32_t id = 0;
    common::ConfigAddress address;
    std::optional<common::UnixNs> falseticker_since;
  };

  // The first lookup is due at `now`.
  NameSource(NameKind kind, std::string host, NamePolicy policy, common::UnixNs now);

  const std::string& host() const { return host_; }
  NameKind kind() const { return kind_; }
  // When the next lookup should start; kNever while one is out or none is needed.
  common::UnixNs next_lookup() const { return next_lookup_; }
  bool lookup_due(common::UnixNs now) const { return !in_flight_ && now.ns >= next_lookup_.ns; }
  // The caller started the lookup; on_answer must follow.
  void lookup_started();
  // The lookup's result: mobilizes usable addresses and schedules the next
  // lookup. A single source whose member is unreachable moves to the first
  // usable address different from its current one, if the answer has one.
  void on_answer(const LookupOutcome& outcome, common::UnixNs now, const NameActions& actions);
  // Member health (call after each system update, or at least once per
  // poll): gives up dead, denied and persistently false pool members and
  // schedules the lookups that replace them. Members not observed are kept.
  void review(std::span<const MemberObservation> observations, common::UnixNs now,
              const NameActions& actions);
  const std::vector<Member>& members() const { return members_; }
  // Consecutive failed lookups (0 after an answer with addresses).
  int failures() const { return failures_; }

 private:
  bool usable(const common::ConfigAddress& address, common::UnixNs now,
              const NameActions& actions) const;
  bool quarantined(const common::ConfigAddress& address, common::UnixNs now) const;
  void give_up(std::size_t index, RemoveReason reason, common::UnixNs now,
               const NameActions& actions);
  void schedule_refill(common::UnixNs now, bool progress);
  void answer_single(const LookupOutcome& outcome, common::UnixNs now, const NameActions& actions);
  void answer_pool(const LookupOutcome& outcome, common::UnixNs now, const NameActions& actions);

  NameKind kind_;
  std::string host_;
  NamePolicy policy_;
  std::vector<Member> members_;
  std::vector<std::pair<common::ConfigAddress, common::UnixNs>> quarantine_;  // address, until
  common::UnixNs next_lookup_;
  bool in_flight_ = false;
  bool replace_wanted_ = false;  // single: the member is unreachable; look for another address
  int failures_ = 0;
  std::int64_t refill_ns_;  // the next refill interval (doubles while nothing is gained)
};

}  // namespace ntpd::net
