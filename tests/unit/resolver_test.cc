// Tests for ntpd-net/resolver against a fake DNS server on 127.0.0.1 (a
// random UDP port) served by the same event loop: answers, NXDOMAIN, no
// data, timeouts and failover, the hosts table and literals (no query
// sent), search domains, 0x20 case randomization, the lookup bound, and
// that no callback ever runs after the Resolver is destroyed.
#include "ntpd-net/resolver.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ntpd::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::int32_t kTimeoutMs = 200;

struct EventBaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};
struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string text_of(const common::ConfigAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  const int af = address.family == Family::kIpv6 ? AF_INET6 : AF_INET;
  return inet_ntop(af, address.bytes.data(), buffer, sizeof buffer) != nullptr ? buffer : "?";
}

std::vector<std::string> texts_of(const ResolveResult& result) {
  std::vector<std::string> out;
  for (const auto& address : result.addresses) out.push_back(text_of(address));
  return out;
}

// A DNS server for one test: A/AAAA answers for the names it was given,
// NXDOMAIN for any other name, or no answer at all when silent.
class FakeDnsServer {
 public:
  struct Seen {
    std::string name;  // as it arrived, case preserved
    std::uint16_t type = 0;
    std::uint16_t source_port = 0;
  };

  FakeDnsServer(event_base* base, bool silent, bool ipv6 = false) : silent_(silent), ipv6_(ipv6) {
    fd_.reset(socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_storage storage{};
    socklen_t length = ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (ipv6) {
      v6->sin6_family = AF_INET6;
      v6->sin6_addr = in6addr_loopback;
    } else {
      v4->sin_family = AF_INET;
      v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    auto* sa = reinterpret_cast<sockaddr*>(&storage);
    if (!fd_ || bind(fd_.get(), sa, length) != 0 || getsockname(fd_.get(), sa, &length) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    port_ = ntohs(ipv6 ? v6->sin6_port : v4->sin_port);
    event_.reset(
        event_new(base, fd_.get(), EV_READ | EV_PERSIST, &FakeDnsServer::on_readable, this));
    event_add(event_.get(), nullptr);
  }

  const std::string& error() const { return error_; }

  std::string address() const { return (ipv6_ ? "[::1]:" : "127.0.0.1:") + std::to_string(port_); }

  void add(const std::string& name, std::vector<std::string> v4, std::vector<std::string> v6,
           std::uint32_t ttl_s = 300) {
    records_[lower(name)] = Records{std::move(v4), std::move(v6), ttl_s};
  }

  const std::vector<Seen>& seen() const { return seen_; }

 private:
  struct Records {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    std::uint32_t ttl_s = 0;
  };

  static void on_readable(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
    static_cast<FakeDnsServer*>(arg)->serve_one();
  }

  void serve_one() {
    std::uint8_t query[512];
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    const ssize_t got = recvfrom(fd_.get(), query, sizeof query, 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_length);
    if (got < 12) return;
    const auto size = static_cast<std::size_t>(got);
    // QNAME: uncompressed labels from offset 12.
    std::size_t pos = 12;
    std::string name;
    while (pos < size && query[pos] != 0) {
      const std::size_t label = query[pos++];
      if (label > 63 || pos + label > size) return;
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(query + pos), label);
      pos += label;
    }
    if (pos + 5 > size) return;
    const std::size_t question_end = pos + 5;  // root label, QTYPE, QCLASS
    const auto type = static_cast<std::uint16_t>(query[pos + 1] << 8 | query[pos + 2]);
    const std::uint16_t source_port =
        ntohs(ipv6_ ? reinterpret_cast<sockaddr_in6*>(&from)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&from)->sin_port);
    seen_.push_back(Seen{name, type, source_port});
    if (silent_) return;

    std::vector<std::uint8_t> reply(query, query + question_end);
    reply[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));  // QR, opcode, RD
    reply[3] = 0x80;                                                 // RA, NOERROR
    for (std::size_t i = 6; i < 12; ++i) reply[i] = 0;               // AN, NS, AR counts
    const auto it = records_.find(lower(name));
    if (it == records_.end()) {
      reply[3] |= 3;  // NXDOMAIN
    } else {
      const auto& list = type == kTypeA ? it->second.v4 : it->second.v6;
      const int af = type == kTypeA ? AF_INET : AF_INET6;
      for (const std::string& text : list) {
        if (type != kTypeA && type != kTypeAaaa) break;
        std::uint8_t rdata[16];
        inet_pton(af, text.c_str(), rdata);
        const std::uint8_t rdlength = type == kTypeA ? 4 : 16;
        const std::uint32_t ttl = it->second.ttl_s;
        const std::uint8_t header[] = {0xc0,
                                       0x0c,
                                       0,
                                       static_cast<std::uint8_t>(type),
                                       0,
                                       1,
                                       static_cast<std::uint8_t>(ttl >> 24),
                                       static_cast<std::uint8_t>(ttl >> 16),
                                       static_cast<std::uint8_t>(ttl >> 8),
                                       static_cast<std::uint8_t>(ttl),
                                       0,
                                       rdlength};
        reply.insert(reply.end(), std::begin(header), std::end(header));
        reply.insert(reply.end(), rdata, rdata + rdlength);
        ++reply[7];
      }
    }
    sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
           from_length);
  }

  bool silent_;
  bool ipv6_;
  std::string error_;
  common::UniqueFd fd_;
  std::unique_ptr<event, EventDeleter> event_;
  std::uint16_t port_ = 0;
  std::map<std::string, Records> records_;
  std::vector<Seen> seen_;
};

class ResolverTest : public ::testing::Test {
 protected:
  ResolverTest() : base_(event_base_new()) {}

  FakeDnsServer& server(bool silent = false, bool ipv6 = false) {
    servers_.push_back(std::make_unique<FakeDnsServer>(base_.get(), silent, ipv6));
    if (!ipv6) {
      EXPECT_EQ(servers_.back()->error(), "");
    }
    return *servers_.back();
  }

  ResolverConfig config_for(std::initializer_list<const FakeDnsServer*> servers) const {
    ResolverConfig config;
    for (const FakeDnsServer* s : servers) config.nameservers.push_back(s->address());
    config.timeout_ms = kTimeoutMs;
    config.attempts = 2;
    return config;
  }

  std::unique_ptr<Resolver> make(const ResolverConfig& config) {
    std::string error;
    auto resolver = Resolver::create(base_.get(), config, &error);
    EXPECT_NE(resolver, nullptr) << error;
    return resolver;
  }

  // Runs the loop until `done` holds or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
    struct Poll {
      const std::function<bool()>* done;
      Clock::time_point deadline;
      event_base* base;
    } poll{&done, Clock::now() + limit, base_.get()};
    auto tick = [](evutil_socket_t, short, void* arg) {
      auto* p = static_cast<Poll*>(arg);
      if ((*p->done)() || Clock::now() >= p->deadline) event_base_loopbreak(p->base);
    };
    std::unique_ptr<event, EventDeleter> timer(event_new(base_.get(), -1, EV_PERSIST, tick, &poll));
    const timeval period{0, 2000};
    event_add(timer.get(), &period);
    event_base_dispatch(base_.get());
    return done();
  }

  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

  // One lookup, run to completion.
  std::optional<ResolveResult> lookup(Resolver& resolver, const std::string& host, Family family) {
    std::optional<ResolveResult> result;
    resolver.resolve(host, family, [&](ResolveResult r) { result = std::move(r); });
    EXPECT_FALSE(result.has_value()) << "callback ran inside resolve()";
    run_until([&] { return result.has_value(); });
    return result;
  }

  std::unique_ptr<event_base, EventBaseDeleter> base_;  // declared first: destroyed last
  std::vector<std::unique_ptr<FakeDnsServer>> servers_;
};

TEST_F(ResolverTest, ReturnsEveryAddressOfBothFamilies) {
  FakeDnsServer& dns = server();
  dns.add("ntp.example.test", {"192.0.2.1", "192.0.2.2"}, {"2001:db8::1"}, 120);
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  EXPECT_EQ(resolver->nameserver_count(), 1u);
  const auto result = lookup(*resolver, "ntp.example.test", Family::kAny);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, ResolveStatus::kOk);
  EXPECT_EQ(result->host, "ntp.example.test");
  EXPECT_EQ(texts_of(*result), (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "2001:db8::1"}));
  EXPECT_EQ(result->ttl_s, 120u);
  EXPECT_FALSE(result->from_hosts);
  ASSERT_EQ(dns.seen().size(), 2u);
  EXPECT_EQ(resolver->lookups_in_flight(), 0u);
}

TEST_F(ResolverTest, AsksOnlyForTheRequestedFamily) {
  FakeDnsServer& dns = server();
  dns.add("ntp.example.test", {"192.0.2.1"}, {"2001:db8::1"});
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  auto v4 = lookup(*resolver, "ntp.example.test", Family::kIpv4);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(texts_of(*v4), std::vector<std::string>{"192.0.2.1"});
  ASSERT_EQ(dns.seen().size(), 1u);
  EXPECT_EQ(dns.seen()[0].type, kTypeA);
  auto v6 = lookup(*resolver, "ntp.example.test", Family::kIpv6);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(texts_of(*v6), std::vector<std::string>{"2001:db8::1"});
  ASSERT_EQ(dns.seen().size(), 2u);
  EXPECT_EQ(dns.seen()[1].type, kTypeAaaa);
}

TEST_F(ResolverTest, NxdomainAndNoData) {
  FakeDnsServer& dns = server();
  dns.add("v4only.example.test", {"192.0.2.9"}, {});
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  const auto missing = lookup(*resolver, "missing.example.test", Family::kAny);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, ResolveStatus::kNotFound);
  EXPECT_TRUE(missing->addresses.empty());
  EXPECT_FALSE(is_temporary(missing->status));
  const auto no_v6 = lookup(*resolver, "v4only.example.test", Family::kIpv6);
  ASSERT_TRUE(no_v6.has_value());
  EXPECT_EQ(no_v6->status, ResolveStatus::kNoData);
  const auto any = lookup(*resolver, "v4only.example.test", Family::kAny);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->status, ResolveStatus::kOk);
  EXPECT_EQ(texts_of(*any), std::vector<std::string>{"192.0.2.9"});
}

TEST_F(ResolverTest, SilentNameserverTimesOutWithinAttemptsTimesTimeout) {
  FakeDnsServer& dns = server(/*silent=*/true);
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  const auto start = Clock::now();
  const auto result = lookup(*resolver, "ntp.example.test", Family::kAny);
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, ResolveStatus::kTimeout);
  EXPECT_TRUE(is_temporary(result->status));
  // attempts (2) x timeout (200 ms): each query sent twice, then given up.
  EXPECT_GE(elapsed, 2 * std::chrono::milliseconds(kTimeoutMs) - 20ms);
  EXPECT_LT(elapsed, 2 * std::chrono::milliseconds(kTimeoutMs) + 500ms);
  EXPECT_EQ(dns.seen().size(), 4u);
}

TEST_F(ResolverTest, RetransmissionFailsOverToAnotherNameserver) {
  FakeDnsServer& silent = server(/*silent=*/true);
  FakeDnsServer& good = server();
  good.add("ntp.example.test", {"192.0.2.1"}, {});
  auto resolver = make(config_for({&silent, &good}));
  ASSERT_NE(resolver, nullptr);
  EXPECT_EQ(resolver->nameserver_count(), 2u);
  const auto start = Clock::now();
  const auto result = lookup(*resolver, "ntp.example.test", Family::kIpv4);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, ResolveStatus::kOk);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(kTimeoutMs) + 500ms);
}

TEST_F(ResolverTest, IPv6Nameserver) {
  FakeDnsServer& dns = server(/*silent=*/false, /*ipv6=*/true);
  if (!dns.error().empty()) GTEST_SKIP() << "no IPv6 loopback: " << dns.error();
  dns.add("ntp.example.test", {"192.0.2.1"}, {"2001:db8::1"});
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  EXPECT_EQ(resolver->nameserver_count(), 1u);
  const auto result = lookup(*resolver, "ntp.example.test", Family::kAny);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(texts_of(*result), (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
}

TEST_F(ResolverTest, EachBurstOfLookupsUsesAFreshSourcePort) {
  FakeDnsServer& dns = server();
  dns.add("a.example.test", {"192.0.2.1"}, {});
  dns.add("b.example.test", {"192.0.2.2"}, {});
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  int done = 0;
  resolver->resolve("a.example.test", Family::kIpv4, [&](ResolveResult) { ++done; });
  resolver->resolve("b.example.test", Family::kIpv4, [&](ResolveResult) { ++done; });
  ASSERT_TRUE(run_until([&] { return done == 2; }));
  ASSERT_TRUE(lookup(*resolver, "a.example.test", Family::kIpv4).has_value());
  ASSERT_EQ(dns.seen().size(), 3u);
  EXPECT_EQ(dns.seen()[0].source_port, dns.seen()[1].source_port);  // one burst, one socket
  // A later burst gets new sockets: the same port again has odds ~1/28000.
  EXPECT_NE(dns.seen()[2].source_port, dns.seen()[0].source_port);
  EXPECT_EQ(resolver->nameserver_count(), 1u);
}

TEST_F(ResolverTest, HostsTableAnswersWithoutAQuery) {
  FakeDnsServer& dns = server();
  ResolverConfig config = config_for({&dns});
  config.hosts = {{"ntp-local", {"192.0.2.7", "2001:db8::7"}}, {"localhost", {"::1", "127.0.0.1"}}};
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  const auto any = lookup(*resolver, "NTP-Local.", Family::kAny);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->status, ResolveStatus::kOk);
  EXPECT_TRUE(any->from_hosts);
  EXPECT_EQ(any->host, "NTP-Local.");
  EXPECT_EQ(texts_of(*any), (std::vector<std::string>{"192.0.2.7", "2001:db8::7"}));
  const auto v6 = lookup(*resolver, "ntp-local", Family::kIpv6);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(texts_of(*v6), std::vector<std::string>{"2001:db8::7"});
  const auto localhost = lookup(*resolver, "localhost", Family::kAny);
  ASSERT_TRUE(localhost.has_value());
  EXPECT_EQ(texts_of(*localhost), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_TRUE(dns.seen().empty());
}

TEST_F(ResolverTest, HostsNameWithoutTheFamilyFallsThroughToDns) {
  FakeDnsServer& dns = server();
  dns.add("ntp.example.test", {"192.0.2.1"}, {"2001:db8::1"});
  ResolverConfig config = config_for({&dns});
  config.hosts = {{"ntp.example.test", {"192.0.2.99"}}};
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  const auto v6 = lookup(*resolver, "ntp.example.test", Family::kIpv6);
  ASSERT_TRUE(v6.has_value());
  EXPECT_FALSE(v6->from_hosts);
  EXPECT_EQ(texts_of(*v6), std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(dns.seen().size(), 1u);
}

TEST_F(ResolverTest, NumericLiteralsNeedNoQuery) {
  FakeDnsServer& dns = server();
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  const auto v4 = lookup(*resolver, "192.0.2.5", Family::kAny);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(texts_of(*v4), std::vector<std::string>{"192.0.2.5"});
  const auto mismatch = lookup(*resolver, "2001:db8::5", Family::kIpv4);
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_EQ(mismatch->status, ResolveStatus::kNoData);
  EXPECT_TRUE(dns.seen().empty());
}

TEST_F(ResolverTest, InvalidNamesAreRejectedWithoutAQuery) {
  FakeDnsServer& dns = server();
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  const std::string cases[] = {"",
                               ".",
                               "a..b",
                               "bad name",
                               "na\xc3\xafve",
                               "x%y.test",
                               "..",
                               ".leading.test",
                               std::string(254, 'a'),
                               std::string(64, 'a') + ".test"};
  for (const std::string& name : cases) {
    const auto result = lookup(*resolver, name, Family::kAny);
    ASSERT_TRUE(result.has_value()) << name;
    EXPECT_EQ(result->status, ResolveStatus::kInvalidName) << name;
  }
  EXPECT_TRUE(dns.seen().empty());
}

TEST_F(ResolverTest, SearchDomainsApplyToShortNamesOnly) {
  FakeDnsServer& dns = server();
  dns.add("ntp.example.test", {"192.0.2.1"}, {});
  ResolverConfig config = config_for({&dns});
  config.search = {"example.test"};
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  const auto short_name = lookup(*resolver, "ntp", Family::kIpv4);
  ASSERT_TRUE(short_name.has_value());
  EXPECT_EQ(short_name->status, ResolveStatus::kOk);
  ASSERT_FALSE(dns.seen().empty());
  EXPECT_EQ(lower(dns.seen()[0].name), "ntp.example.test");
  const std::size_t before = dns.seen().size();
  const auto absolute = lookup(*resolver, "ntp.", Family::kIpv4);
  ASSERT_TRUE(absolute.has_value());
  EXPECT_EQ(absolute->status, ResolveStatus::kNotFound);
  ASSERT_EQ(dns.seen().size(), before + 1);
  EXPECT_EQ(lower(dns.seen().back().name), "ntp");
}

TEST_F(ResolverTest, QueryNamesCarryRandomizedCase) {
  FakeDnsServer& dns = server();
  dns.add("pool.ntp.example.test", {"192.0.2.1"}, {"2001:db8::1"});
  auto resolver = make(config_for({&dns}));
  ASSERT_NE(resolver, nullptr);
  for (int i = 0; i < 4; ++i) {
    const auto result = lookup(*resolver, "pool.ntp.example.test", Family::kAny);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status, ResolveStatus::kOk);
  }
  int mixed = 0;
  for (const auto& seen : dns.seen()) {
    EXPECT_EQ(lower(seen.name), "pool.ntp.example.test");
    if (seen.name != "pool.ntp.example.test") ++mixed;
  }
  EXPECT_GT(mixed, 0);  // each of 8 queries is all lower case with chance 2^-18
}

TEST_F(ResolverTest, NoNameserverFailsWithoutWaiting) {
  auto resolver = make(ResolverConfig{});
  ASSERT_NE(resolver, nullptr);
  EXPECT_EQ(resolver->nameserver_count(), 0u);
  const auto result = lookup(*resolver, "ntp.example.test", Family::kAny);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, ResolveStatus::kNoNameservers);
}

TEST_F(ResolverTest, BoundsLookupsInFlightAndQueuesTheRest) {
  FakeDnsServer& dns = server(/*silent=*/true);
  ResolverConfig config = config_for({&dns});
  config.max_lookups = 2;
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  std::vector<ResolveStatus> statuses;
  const std::size_t total = 2 + kMaxQueuedLookups + 1;
  for (std::size_t i = 0; i < total; ++i) {
    resolver->resolve("host" + std::to_string(i) + ".example.test", Family::kIpv4,
                      [&](ResolveResult r) { statuses.push_back(r.status); });
  }
  EXPECT_EQ(resolver->lookups_in_flight(), 2u);
  EXPECT_EQ(resolver->lookups_queued(), kMaxQueuedLookups);
  // The one beyond the queue is refused at once; two lookups are on the wire.
  ASSERT_TRUE(run_until([&] { return statuses.size() == 1; }));
  EXPECT_EQ(statuses[0], ResolveStatus::kBusy);
  run_for(100ms);
  EXPECT_EQ(dns.seen().size(), 2u);
  // When those two time out, the next two start.
  ASSERT_TRUE(run_until([&] { return statuses.size() == 3; }));
  EXPECT_EQ(statuses[1], ResolveStatus::kTimeout);
  EXPECT_EQ(resolver->lookups_in_flight(), 2u);
  EXPECT_EQ(resolver->lookups_queued(), kMaxQueuedLookups - 2);
  // Destroying it drops the rest: no callback, and (under ASan) no leak.
  resolver.reset();
  run_for(3 * std::chrono::milliseconds(kTimeoutMs));
  EXPECT_EQ(statuses.size(), 3u);
}

TEST_F(ResolverTest, NoCallbackAfterDestruction) {
  FakeDnsServer& dns = server();
  dns.add("ntp.example.test", {"192.0.2.1"}, {"2001:db8::1"});
  ResolverConfig config = config_for({&dns});
  config.hosts = {{"ntp-local", {"192.0.2.7"}}};
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  int calls = 0;
  resolver->resolve("ntp.example.test", Family::kAny, [&](ResolveResult) { ++calls; });
  resolver->resolve("ntp-local", Family::kAny, [&](ResolveResult) { ++calls; });
  resolver->resolve("bad..name", Family::kAny, [&](ResolveResult) { ++calls; });
  resolver.reset();
  run_for(3 * std::chrono::milliseconds(kTimeoutMs));
  EXPECT_EQ(calls, 0);
}

TEST_F(ResolverTest, ACallbackMayDestroyTheResolverOrStartLookups) {
  FakeDnsServer& dns = server();
  dns.add("a.example.test", {"192.0.2.1"}, {});
  dns.add("b.example.test", {"192.0.2.2"}, {});
  ResolverConfig config = config_for({&dns});
  config.hosts = {{"h1", {"192.0.2.11"}}, {"h2", {"192.0.2.12"}}};
  auto resolver = make(config);
  ASSERT_NE(resolver, nullptr);

  // A callback that starts another lookup.
  std::vector<std::string> order;
  resolver->resolve("a.example.test", Family::kIpv4, [&](ResolveResult r) {
    order.push_back(r.host);
    resolver->resolve("h1", Family::kAny, [&](ResolveResult r2) { order.push_back(r2.host); });
  });
  ASSERT_TRUE(run_until([&] { return order.size() == 2; }));
  EXPECT_EQ(order, (std::vector<std::string>{"a.example.test", "h1"}));

  // Local answers: the first callback destroys the resolver, the second never runs.
  int calls = 0;
  const auto destroy = [&](ResolveResult) {
    ++calls;
    resolver.reset();
  };
  resolver->resolve("h1", Family::kAny, destroy);
  resolver->resolve("h2", Family::kAny, destroy);
  run_for(50ms);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resolver, nullptr);

  // DNS answers: the same from inside an evdns callback (whichever comes first).
  resolver = make(config);
  ASSERT_NE(resolver, nullptr);
  calls = 0;
  resolver->resolve("a.example.test", Family::kIpv4, destroy);
  resolver->resolve("b.example.test", Family::kIpv4, destroy);
  run_for(3 * std::chrono::milliseconds(kTimeoutMs));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resolver, nullptr);
}

TEST(NameserverAddressTest, ParsesNumericFormsOnly) {
  struct Case {
    const char* text;
    bool ok;
    int family;
    std::uint16_t port;
    std::uint32_t scope;
  };
  const Case cases[] = {
      {"192.0.2.53", true, AF_INET, 53, 0},
      {"127.0.0.1:5353", true, AF_INET, 5353, 0},
      {"2001:db8::53", true, AF_INET6, 53, 0},
      {"[::1]:5353", true, AF_INET6, 5353, 0},
      {"[2001:db8::1]", true, AF_INET6, 53, 0},
      {"fe80::1%2", true, AF_INET6, 53, 2},
      {"[fe80::1%3]:54", true, AF_INET6, 54, 3},
      {"fe80::1%eth0", false, 0, 0, 0},  // interface names are mapped by the clock process
      {"ns.example.test", false, 0, 0, 0},
      {"127.1", false, 0, 0, 0},
      {"192.0.2.1:0", false, 0, 0, 0},
      {"192.0.2.1:65536", false, 0, 0, 0},
      {"192.0.2.1%1", false, 0, 0, 0},
      {"[::1", false, 0, 0, 0},
      {"[::1]53", false, 0, 0, 0},
      {"", false, 0, 0, 0},
  };
  for (const Case& c : cases) {
    const auto parsed = parse_nameserver_address(c.text);
    ASSERT_EQ(parsed.has_value(), c.ok) << c.text;
    if (!c.ok) continue;
    EXPECT_EQ(parsed->storage.ss_family, c.family) << c.text;
    if (c.family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&parsed->storage);
      EXPECT_EQ(ntohs(v4->sin_port), c.port) << c.text;
      EXPECT_EQ(parsed->length, sizeof(sockaddr_in));
    } else {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&parsed->storage);
      EXPECT_EQ(ntohs(v6->sin6_port), c.port) << c.text;
      EXPECT_EQ(v6->sin6_scope_id, c.scope) << c.text;
      EXPECT_EQ(parsed->length, sizeof(sockaddr_in6));
    }
  }
}

}  // namespace
}  // namespace ntpd::net
