// NameSource: when host names are looked up, which answered addresses are
// mobilized, and ntpd's pool behaviour (replace unreachable and persistently
// false members), including a simulation where a pool server goes silent.
#include "ntpd-net/name_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ntpd-net/engine.h"
#include "ntpd-net/server.h"

namespace ntpd::net {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;
constexpr common::UnixNs kStart{1'700'000'000 * kSecond};

common::UnixNs at(std::int64_t seconds) { return common::UnixNs{kStart.ns + seconds * kSecond}; }

common::ConfigAddress ip(const char* text) {
  common::ConfigAddress a;
  if (inet_pton(AF_INET, text, a.bytes.data()) == 1) return a;
  a.family = common::AddressFamily::kIpv6;
  EXPECT_EQ(inet_pton(AF_INET6, text, a.bytes.data()), 1) << text;
  return a;
}

LookupOutcome answer(std::initializer_list<const char*> addresses) {
  LookupOutcome out;
  out.ok = true;
  for (const char* a : addresses) out.addresses.push_back(ip(a));
  return out;
}

// Records what the core asks for; ids count up from 1.
struct FakeAssociations {
  std::map<std::uint32_t, common::ConfigAddress> live;
  std::vector<std::pair<std::uint32_t, RemoveReason>> removed;
  std::set<std::string> foreign;  // addresses other lines hold
  std::uint32_t next = 1;
  bool fail_mobilize = false;

  NameActions actions() {
    NameActions a;
    a.in_use = [this](const common::ConfigAddress& x) { return foreign.count(x.to_string()) > 0; };
    a.mobilize = [this](const common::ConfigAddress& x) -> std::optional<std::uint32_t> {
      if (fail_mobilize) return std::nullopt;
      live[next] = x;
      return next++;
    };
    a.demobilize = [this](std::uint32_t id, RemoveReason why) {
      live.erase(id);
      removed.emplace_back(id, why);
    };
    return a;
  }
  std::set<std::string> addresses() const {
    std::set<std::string> out;
    for (const auto& [id, a] : live) out.insert(a.to_string());
    return out;
  }
};

TEST(NameSource, ServerTakesTheFirstUsableAddress) {
  FakeAssociations fake;
  fake.foreign.insert("192.0.2.1");
  NameSource source(NameKind::kSingle, "ntp.example", NamePolicy{}, kStart);
  EXPECT_TRUE(source.lookup_due(kStart));
  source.lookup_started();
  EXPECT_FALSE(source.lookup_due(at(1000)));  // one lookup at a time
  source.on_answer(answer({"192.0.2.1", "192.0.2.2", "2001:db8::3"}), at(1), fake.actions());
  EXPECT_EQ(fake.addresses(), (std::set<std::string>{"192.0.2.2"}));
  EXPECT_FALSE(source.lookup_due(at(100'000)));  // nothing more to do
}

TEST(NameSource, FailedLookupsBackOffAndRecover) {
  FakeAssociations fake;
  NamePolicy policy;
  policy.retry_min_ns = 5 * kSecond;
  policy.retry_max_ns = 30 * kSecond;
  NameSource source(NameKind::kSingle, "ntp.example", policy, kStart);
  const std::int64_t expected[] = {5, 10, 20, 30, 30};
  std::int64_t now_s = 0;
  for (const std::int64_t delay : expected) {
    source.lookup_started();
    source.on_answer(LookupOutcome{}, at(now_s), fake.actions());
    EXPECT_EQ(source.next_lookup(), at(now_s + delay));
    EXPECT_FALSE(source.lookup_due(at(now_s + delay - 1)));
    now_s += delay;
  }
  EXPECT_EQ(source.failures(), 5);
  source.lookup_started();
  source.on_answer(answer({"192.0.2.7"}), at(now_s), fake.actions());
  EXPECT_EQ(source.failures(), 0);
  EXPECT_EQ(fake.live.size(), 1u);
}

TEST(NameSource, UnreachableServerMovesToANewAddressOnlyIfThereIsOne) {
  FakeAssociations fake;
  NameSource source(NameKind::kSingle, "ntp.example", NamePolicy{}, kStart);
  source.lookup_started();
  source.on_answer(answer({"192.0.2.1"}), at(0), fake.actions());
  ASSERT_EQ(source.members().size(), 1u);
  const std::uint32_t first = source.members()[0].id;

  const MemberObservation dead{first, true, false, false};
  source.review({&dead, 1}, at(600), fake.actions());
  EXPECT_TRUE(source.lookup_due(at(600)));  // re-resolve at once
  source.lookup_started();
  // The same address again: keep it (it may come back), ask later.
  source.on_answer(answer({"192.0.2.1"}), at(601), fake.actions());
  EXPECT_TRUE(fake.removed.empty());
  EXPECT_EQ(source.next_lookup(), at(601 + 64));
  source.review({&dead, 1}, at(620), fake.actions());  // still dead: no extra lookup
  EXPECT_EQ(source.next_lookup(), at(601 + 64));
  source.lookup_started();
  source.on_answer(answer({"192.0.2.1", "192.0.2.9"}), at(665), fake.actions());
  ASSERT_EQ(fake.removed.size(), 1u);
  EXPECT_EQ(fake.removed[0], std::make_pair(first, RemoveReason::kReplaced));
  EXPECT_EQ(fake.addresses(), (std::set<std::string>{"192.0.2.9"}));
  EXPECT_FALSE(source.lookup_due(at(100'000)));
}

TEST(NameSource, ServerThatRecoversStopsTheSearch) {
  FakeAssociations fake;
  NameSource source(NameKind::kSingle, "ntp.example", NamePolicy{}, kStart);
  source.lookup_started();
  source.on_answer(answer({"192.0.2.1"}), at(0), fake.actions());
  const std::uint32_t id = source.members()[0].id;
  const MemberObservation dead{id, true, false, false};
  source.review({&dead, 1}, at(600), fake.actions());
  EXPECT_TRUE(source.lookup_due(at(600)));
  const MemberObservation alive{id, false, false, false};
  source.review({&alive, 1}, at(601), fake.actions());
  EXPECT_FALSE(source.lookup_due(at(100'000)));
}

TEST(NameSource, PoolMobilizesDistinctAddressesUpToMaxclock) {
  FakeAssociations fake;
  fake.foreign.insert("192.0.2.2");  // a server line already uses it
  NamePolicy policy;
  policy.max_members = 4;
  NameSource pool(NameKind::kPool, "pool.example", policy, kStart);
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.1", "192.0.2.2", "192.0.2.3"}), at(0), fake.actions());
  EXPECT_EQ(fake.addresses(), (std::set<std::string>{"192.0.2.1", "192.0.2.3"}));
  EXPECT_EQ(pool.next_lookup(), at(64));  // below maxclock: ask again
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.3", "192.0.2.1"}), at(64), fake.actions());
  EXPECT_EQ(fake.live.size(), 2u);             // nothing new ...
  EXPECT_EQ(pool.next_lookup(), at(64 + 64));  // ... and the interval doubles
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.1"}), at(128), fake.actions());
  EXPECT_EQ(pool.next_lookup(), at(128 + 128));
  pool.lookup_started();
  pool.on_answer(answer({"2001:db8::1", "192.0.2.4", "192.0.2.5", "192.0.2.6"}), at(256),
                 fake.actions());
  EXPECT_EQ(fake.addresses(),
            (std::set<std::string>{"192.0.2.1", "192.0.2.3", "2001:db8::1", "192.0.2.4"}));
  EXPECT_FALSE(pool.lookup_due(at(100'000)));  // full
}

TEST(NameSource, PoolRetriesWhenAssociationsCannotBeCreated) {
  FakeAssociations fake;
  fake.fail_mobilize = true;
  NameSource pool(NameKind::kPool, "pool.example", NamePolicy{}, kStart);
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.1"}), at(0), fake.actions());
  EXPECT_TRUE(fake.live.empty());
  EXPECT_TRUE(pool.lookup_due(at(64)));
}

TEST(NameSource, PoolReplacesPersistentFalsetickersOnly) {
  FakeAssociations fake;
  NamePolicy policy;
  policy.max_members = 3;
  policy.falseticker_limit_ns = 900 * kSecond;
  NameSource pool(NameKind::kPool, "pool.example", policy, kStart);
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.1", "192.0.2.2", "192.0.2.3"}), at(0), fake.actions());
  ASSERT_EQ(pool.members().size(), 3u);
  const std::uint32_t liar = pool.members()[1].id;
  auto observe = [&](bool false_now) {
    std::vector<MemberObservation> seen;
    for (const auto& m : pool.members())
      seen.push_back({m.id, false, false, m.id == liar && false_now});
    return seen;
  };
  pool.review(observe(true), at(100), fake.actions());
  pool.review(observe(false), at(500), fake.actions());  // a lapse restarts the clock
  pool.review(observe(true), at(600), fake.actions());
  pool.review(observe(true), at(1499), fake.actions());
  EXPECT_TRUE(fake.removed.empty());
  pool.review(observe(true), at(1500), fake.actions());
  ASSERT_EQ(fake.removed.size(), 1u);
  EXPECT_EQ(fake.removed[0], std::make_pair(liar, RemoveReason::kFalseticker));
  EXPECT_TRUE(pool.lookup_due(at(1500)));
  // The next answer still lists the liar: it stays out (quarantine).
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.2", "192.0.2.1", "192.0.2.4"}), at(1501), fake.actions());
  EXPECT_EQ(fake.addresses(), (std::set<std::string>{"192.0.2.1", "192.0.2.3", "192.0.2.4"}));
}

TEST(NameSource, PoolDropsDeniedAndUnreachableMembers) {
  FakeAssociations fake;
  NamePolicy policy;
  policy.max_members = 3;
  NameSource pool(NameKind::kPool, "pool.example", policy, kStart);
  pool.lookup_started();
  pool.on_answer(answer({"192.0.2.1", "192.0.2.2", "192.0.2.3"}), at(0), fake.actions());
  const auto& m = pool.members();
  const std::vector<MemberObservation> seen = {
      {m[0].id, false, true, false}, {m[1].id, true, false, false}, {m[2].id, false, false, false}};
  pool.review(seen, at(700), fake.actions());
  ASSERT_EQ(fake.removed.size(), 2u);
  EXPECT_EQ(fake.removed[0].second, RemoveReason::kDenied);
  EXPECT_EQ(fake.removed[1].second, RemoveReason::kUnreachable);
  EXPECT_EQ(pool.members().size(), 1u);
  EXPECT_TRUE(pool.lookup_due(at(700)));
}

// The simulation requirement: a pool server goes silent, its reach
// decays in the real association core, and the pool replaces it with a
// fresh address from the next resolution.
TEST(NameSource, PoolReplacesADeadServer) {
  EngineConfig engine_config;
  Engine engine(engine_config, kStart);
  std::map<std::uint32_t, std::string> address_of;  // association id -> server
  std::set<std::string> silent;
  std::vector<std::pair<std::uint32_t, RemoveReason>> removed;

  NameActions actions;
  actions.in_use = [&](const common::ConfigAddress& a) {
    for (const auto& [id, text] : address_of) {
      if (text == a.to_string()) return true;
    }
    return false;
  };
  actions.mobilize = [&](const common::ConfigAddress& a) -> std::optional<std::uint32_t> {
    AssociationConfig config;
    config.iburst = true;
    config.minpoll_log2s = 6;
    const std::uint32_t id = engine.add(config, at(0), 0);
    address_of[id] = a.to_string();
    return id;
  };
  actions.demobilize = [&](std::uint32_t id, RemoveReason why) {
    engine.remove(id);
    address_of.erase(id);
    removed.emplace_back(id, why);
  };

  NamePolicy policy;
  policy.max_members = 3;
  NameSource pool(NameKind::kPool, "pool.example", policy, kStart);
  // The pool's DNS rotates through four servers, three at a time.
  const std::vector<std::vector<const char*>> rotation = {{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
                                                          {"192.0.2.2", "192.0.2.3", "192.0.2.4"},
                                                          {"192.0.2.3", "192.0.2.4", "192.0.2.1"}};
  std::size_t lookups = 0;

  SystemVars upstream;
  upstream.synchronized = true;
  upstream.leap = 0;
  upstream.stratum = 1;
  upstream.refid = refid_from_ascii("GPS");
  std::uint64_t cookie = 1;
  std::uint32_t dead_id = 0;
  std::uint8_t dead_reach_before = 0;
  std::vector<std::uint8_t> dead_reach_seen;

  for (std::int64_t s = 0; s < 4 * 3600; ++s) {
    const common::UnixNs now = at(s);
    if (s == 1200) {  // 20 minutes in, with all three reachable: one goes silent
      silent.insert("192.0.2.2");
      for (const auto& [id, text] : address_of) {
        if (text == "192.0.2.2") dead_id = id;
      }
      ASSERT_NE(dead_id, 0u);
      dead_reach_before = engine.find(dead_id)->reach();
    }
    if (pool.lookup_due(now)) {
      pool.lookup_started();
      LookupOutcome outcome;
      outcome.ok = true;
      for (const char* a : rotation[lookups++ % rotation.size()])
        outcome.addresses.push_back(ip(a));
      pool.on_answer(outcome, now, actions);
    }
    std::vector<Outgoing> requests;
    engine.poll(
        now, [&] { return cookie++; }, requests);
    for (const Outgoing& request : requests) {
      const std::string& server = address_of.at(request.association_id);
      if (silent.count(server) > 0) continue;
      std::array<std::uint8_t, kHeaderBytes> reply{};
      const common::UnixNs arrive{now.ns + 5'000'000};
      const auto decision =
          respond({request.bytes.data(), request.length}, arrive, arrive, upstream, reply);
      ASSERT_EQ(decision.action, ServerDecision::Action::kReply);
      engine.on_reply(request.association_id, {reply.data(), decision.length},
                      common::UnixNs{now.ns + 10'000'000}, now);
    }
    engine.update_system(now);
    if (dead_id != 0 && engine.find(dead_id) != nullptr) {
      dead_reach_seen.push_back(engine.find(dead_id)->reach());
    }
    std::vector<MemberObservation> seen;
    for (const auto& member : pool.members()) {
      const Association* a = engine.find(member.id);
      ASSERT_NE(a, nullptr);
      seen.push_back({member.id, a->unreachable(), a->demobilized(),
                      engine.peer_status(member.id) == PeerStatus::kFalseticker});
    }
    pool.review(seen, now, actions);
  }

  EXPECT_NE(dead_reach_before, 0) << "the server answered before it went silent";
  ASSERT_FALSE(dead_reach_seen.empty());
  EXPECT_EQ(dead_reach_seen.back(), 0) << "its reach register decayed to zero";
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], std::make_pair(dead_id, RemoveReason::kUnreachable));
  std::set<std::string> now_serving;
  for (const auto& [id, text] : address_of) now_serving.insert(text);
  EXPECT_EQ(now_serving, (std::set<std::string>{"192.0.2.1", "192.0.2.3", "192.0.2.4"}));
  for (const auto& [id, text] : address_of) {
    EXPECT_NE(engine.find(id)->reach(), 0) << text << " is being used";
  }
  EXPECT_EQ(engine.association_count(), 3u);
}

}  // namespace
}  // namespace ntpd::net
