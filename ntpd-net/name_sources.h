// NameSources: the libevent side of host names in server, peer and pool
// lines. Owns the Resolver and one NameSource (the policy) per line; starts
// lookups when the policy says, hands answers back to it, and reviews the
// members' health after each system update. Mobilizing and removing
// associations is the EngineShell's, through Hooks. No policy here.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ntpd-net/name_source.h"
#include "ntpd-net/resolver.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

class NameSources {
 public:
  struct Hooks {
    // A new association for `line` on `address`; its id, or nullopt.
    std::function<std::optional<std::uint32_t>(const ipc::Association& line,
                                               const common::ConfigAddress& address)>
        mobilize;
    std::function<void(std::uint32_t id)> demobilize;
    std::function<bool(const common::ConfigAddress&)> in_use;  // any association has it
    std::function<MemberObservation(std::uint32_t id)> observe;
  };

  NameSources(event_base* base, Hooks hooks);
  ~NameSources();
  NameSources(const NameSources&) = delete;
  NameSources& operator=(const NameSources&) = delete;

  // The resolver from NetConfig.dns (validated here, problems logged), tos
  // maxclock and -4/-6. Call once, before add().
  void configure(const ipc::NetConfig& config, common::UnixNs now);
  // A server, peer or pool line whose host is not a numeric address.
  void add(const ipc::Association& line, common::UnixNs now);
  // After a system update: member health, then any lookups due.
  void review(common::UnixNs now);
  std::size_t size() const { return lines_.size(); }

 private:
  struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
  };
  struct Line {
    ipc::Association association;
    Family family = Family::kAny;
    NameSource source;
  };

  NameActions actions_for(const Line& line);
  void start_due(common::UnixNs now);
  void on_result(std::size_t index, const ResolveResult& result);
  void arm_timer();

  event_base* base_;
  Hooks hooks_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<Line>> lines_;
  std::unique_ptr<event, EventFree> timer_;
  std::size_t max_clock_ = 10;
  bool ipv4_only_ = false;
  bool ipv6_only_ = false;
};

}  // namespace ntpd::net
