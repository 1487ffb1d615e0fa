// DnsConfig end to end: the clock process turns resolv.conf and hosts into
// NetConfig.dns (only the names the associations use), ntpd-net checks it
// into a ResolverConfig; hostile values are named and replaced or skipped.
// Also the NetConfig fields pool and -4/-6 need (tos maxclock, family).
#include <gtest/gtest.h>

#include "common/ntp_conf.h"
#include "ntpd-clock/startup_config.h"
#include "ntpd-net/dns_settings.h"
#include "tests/unit/ntp_conf_helpers.h"

namespace ntpd {
namespace {

TEST(DnsConfig, ResolvConfAndHostsReachTheResolver) {
  const auto config = testing::parse_conf(
      "server ntp-a.test iburst\npool pool.test\nserver 192.0.2.1\nserver short\n"
      "peer -6 peer.test\n");
  const auto resolv = common::parse_resolv_conf(
      "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch corp.test\n"
      "options ndots:2 timeout:3 attempts:4 no-aaaa\n");
  const auto hosts = common::parse_hosts(
      "127.0.0.1 localhost\n127.0.0.11 ntp-a.test\n127.0.0.21 pool.test\n127.0.0.22 pool.test\n"
      "127.0.0.31 short.corp.test\n10.9.9.9 unrelated.test\n");
  const ipc::DnsConfig dns = clock::dns_config_for(resolv, hosts, config);

  std::vector<std::string> problems;
  const net::ResolverConfig out = net::resolver_config_from(dns, &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(out.nameservers, (std::vector<std::string>{"192.0.2.53", "2001:db8::53"}));
  EXPECT_EQ(out.search, (std::vector<std::string>{"corp.test"}));
  EXPECT_EQ(out.ndots, 2);
  EXPECT_EQ(out.timeout_ms, 3000);
  EXPECT_EQ(out.attempts, 4);
  EXPECT_TRUE(out.no_aaaa);
  // Only the names the configuration uses (and their search-domain forms).
  ASSERT_EQ(out.hosts.size(), 3u);
  EXPECT_EQ(out.hosts[0].name, "ntp-a.test");
  EXPECT_EQ(out.hosts[0].addresses, (std::vector<std::string>{"127.0.0.11"}));
  EXPECT_EQ(out.hosts[1].name, "pool.test");
  EXPECT_EQ(out.hosts[1].addresses, (std::vector<std::string>{"127.0.0.21", "127.0.0.22"}));
  EXPECT_EQ(out.hosts[2].name, "short.corp.test");
}

TEST(DnsConfig, NetConfigCarriesMaxclockAndFamily) {
  clock::Options options;
  const auto net = clock::build_net_config(
      options,
      testing::parse_conf("tos maxclock 5\npool -4 pool.test\nserver -6 a.test\n"
                          "server b.test\n"),
      0);
  EXPECT_EQ(net.tos_maxclock(), 5u);
  ASSERT_EQ(net.associations_size(), 3);
  EXPECT_EQ(net.associations(0).address_family(), 4u);
  EXPECT_EQ(net.associations(1).address_family(), 6u);
  EXPECT_FALSE(net.associations(2).has_address_family());
  EXPECT_EQ(
      clock::build_net_config(options, testing::parse_conf("pool pool.test\n"), 0).tos_maxclock(),
      10u);
}

TEST(DnsConfig, MissingFieldsGiveGlibcDefaultsAndNoNameserver) {
  std::vector<std::string> problems;
  const net::ResolverConfig out = net::resolver_config_from(ipc::DnsConfig{}, &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_TRUE(out.nameservers.empty());
  EXPECT_EQ(out.ndots, 1);
  EXPECT_EQ(out.timeout_ms, 5000);
  EXPECT_EQ(out.attempts, 2);
}

TEST(DnsConfig, HostileValuesAreNamedAndRejected) {
  ipc::DnsConfig dns;
  for (const char* ns : {"192.0.2.1", "ns.example", "192.0.2.2", "192.0.2.3", "192.0.2.4"}) {
    dns.add_nameservers(ns);
  }
  dns.add_search("ok.test");
  dns.add_search("bad domain!");
  dns.set_ndots(99);
  dns.set_timeout_ms(-5);
  dns.set_attempts(0);
  ipc::DnsHost* host = dns.add_hosts();
  host->set_name("ntp.test");
  host->add_addresses("192.0.2.9");
  host->add_addresses("not-an-address");
  ipc::DnsHost* bad = dns.add_hosts();
  bad->set_name("");
  bad->add_addresses("192.0.2.10");
  std::vector<std::string> problems;
  const net::ResolverConfig out = net::resolver_config_from(dns, &problems);
  EXPECT_EQ(out.nameservers, (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"}));
  EXPECT_EQ(out.search, (std::vector<std::string>{"ok.test"}));
  EXPECT_EQ(out.ndots, 1);
  EXPECT_EQ(out.timeout_ms, 5000);
  EXPECT_EQ(out.attempts, 2);
  ASSERT_EQ(out.hosts.size(), 1u);
  EXPECT_EQ(out.hosts[0].addresses, (std::vector<std::string>{"192.0.2.9"}));
  const std::string all = [&] {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
  }();
  EXPECT_EQ(problems.size(), 8u) << all;
  EXPECT_NE(all.find("\"ns.example\" is not a numeric address"), std::string::npos) << all;
  EXPECT_NE(all.find("192.0.2.4 ignored"), std::string::npos) << all;
  EXPECT_NE(all.find("ndots: 99 out of range 0..15; using 1"), std::string::npos) << all;
  EXPECT_NE(all.find("\"not-an-address\""), std::string::npos) << all;
}

}  // namespace
}  // namespace ntpd
