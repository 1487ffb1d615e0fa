// Tests for ntpd-net/restrict: table-driven cases of ntpd's matching
// (IPv4, IPv6, masks, most specific wins, default, -4/-6, ntpport, source,
// interface entries, multicast, mapped addresses) against expected flags.
#include "ntpd-net/restrict.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/ntp_conf.h"

namespace ntpd::net {
namespace {

using common::AddressFamily;
using common::RestrictFlags;
using common::RestrictRule;
using common::RestrictTarget;

IpAddress ip(const std::string& text) {
  IpAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AddressFamily::kIpv4;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), a.bytes.data()), 1) << text;
    a.family = AddressFamily::kIpv6;
  }
  return a;
}

// Flags from words as they appear on a restrict line.
RestrictFlags flags(const std::string& words) {
  RestrictFlags f;
  std::size_t start = 0;
  while (start < words.size()) {
    std::size_t end = words.find(' ', start);
    if (end == std::string::npos) end = words.size();
    const std::string w = words.substr(start, end - start);
    start = end + 1;
    if (w.empty()) continue;
    bool* member = w == "ignore"     ? &f.ignore
                   : w == "kod"      ? &f.kod
                   : w == "limited"  ? &f.limited
                   : w == "nomodify" ? &f.nomodify
                   : w == "noquery"  ? &f.noquery
                   : w == "nopeer"   ? &f.nopeer
                   : w == "noserve"  ? &f.noserve
                   : w == "notrap"   ? &f.notrap
                   : w == "notrust"  ? &f.notrust
                   : w == "ntpport"  ? &f.ntpport
                   : w == "version"  ? &f.version
                                     : nullptr;
    EXPECT_NE(member, nullptr) << w;
    if (member != nullptr) *member = true;
  }
  return f;
}

RestrictRule default_rule(const std::string& words, AddressFamily family = AddressFamily::kAny) {
  RestrictRule r;
  r.target = RestrictTarget::kDefault;
  r.family = family;
  r.flags = flags(words);
  return r;
}

// "restrict ADDRESS mask MASK words" (the parser hands over masked addresses).
RestrictRule address_rule(const std::string& address, const std::string& mask,
                          const std::string& words) {
  RestrictRule r;
  r.target = RestrictTarget::kAddress;
  r.address = ip(address);
  r.mask = ip(mask);
  r.family = r.address.family;
  r.flags = flags(words);
  return r;
}

RestrictRule host_rule(const std::string& address, const std::string& words) {
  return address_rule(address,
                      ip(address).family == AddressFamily::kIpv6
                          ? "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                          : "255.255.255.255",
                      words);
}

RestrictRule source_rule(const std::string& words) {
  RestrictRule r;
  r.target = RestrictTarget::kSource;
  r.flags = flags(words);
  return r;
}

struct Probe {
  std::string address;
  std::uint16_t port;
  std::string expected;
};

void expect_matches(const RestrictTable& table, const std::vector<Probe>& probes) {
  for (const auto& p : probes) {
    EXPECT_EQ(table.match(ip(p.address), p.port), flags(p.expected))
        << p.address << " port " << p.port << " expected '" << p.expected << "'";
  }
}

TEST(RestrictTest, EmptyTableAllowsEverything) {
  const RestrictTable table;
  expect_matches(table, {{"192.0.2.1", 123, ""}, {"2001:db8::1", 5000, ""}});
  EXPECT_FALSE(table.any_limited());
  EXPECT_EQ(table.size(), 2u);  // the two default entries
}

// The seed's relay server configuration.
TEST(RestrictTest, RelayServerConfiguration) {
  const std::vector<RestrictRule> rules = {
      default_rule("kod limited nomodify notrap nopeer noquery"),
      host_rule("127.0.0.1", ""),
      host_rule("::1", ""),
      address_rule("192.168.1.0", "255.255.255.0", "nomodify"),
  };
  const RestrictTable table(rules);
  const std::string def = "kod limited nomodify notrap nopeer noquery";
  expect_matches(table, {
                            {"127.0.0.1", 40000, ""},
                            {"127.0.0.2", 40000, def},
                            {"::1", 123, ""},
                            {"192.168.1.0", 123, "nomodify"},
                            {"192.168.1.77", 123, "nomodify"},
                            {"192.168.1.255", 5, "nomodify"},
                            {"192.168.2.1", 123, def},
                            {"10.0.0.1", 123, def},
                            {"2001:db8::1", 123, def},
                        });
  EXPECT_TRUE(table.any_limited());
}

TEST(RestrictTest, MostSpecificIPv4MatchWins) {
  const std::vector<RestrictRule> rules = {
      address_rule("10.1.2.3", "255.255.255.255", "kod"),
      address_rule("10.0.0.0", "255.0.0.0", "noquery"),
      address_rule("10.1.2.0", "255.255.255.0", "ignore"),
      address_rule("10.1.0.0", "255.255.0.0", "nomodify"),
      address_rule("10.128.0.0", "255.128.0.0", "notrap"),
      default_rule("noserve"),
  };
  const RestrictTable table(rules);
  expect_matches(table, {
                            {"10.1.2.3", 123, "kod"},
                            {"10.1.2.4", 123, "ignore"},
                            {"10.1.3.4", 123, "nomodify"},
                            {"10.2.3.4", 123, "noquery"},
                            {"10.0.0.0", 123, "noquery"},
                            {"10.200.0.1", 123, "notrap"},
                            {"10.127.255.255", 123, "noquery"},
                            {"11.0.0.1", 123, "noserve"},
                            {"9.255.255.255", 123, "noserve"},
                        });
}

TEST(RestrictTest, MostSpecificIPv6MatchWins) {
  const std::vector<RestrictRule> rules = {
      address_rule("2001:db8::", "ffff:ffff::", "noquery"),
      address_rule("2001:db8:1::", "ffff:ffff:ffff::", "nomodify"),
      host_rule("2001:db8:1::53", "kod"),
      address_rule("fe80::", "ffc0::", "ignore"),
      default_rule("nopeer", AddressFamily::kIpv6),
  };
  const RestrictTable table(rules);
  expect_matches(table, {
                            {"2001:db8:1::53", 123, "kod"},
                            {"2001:db8:1::54", 123, "nomodify"},
                            {"2001:db8:2::1", 123, "noquery"},
                            {"2001:db9::1", 123, "nopeer"},
                            {"fe80::1", 123, "ignore"},
                            {"febf::1", 123, "ignore"},
                            {"fec0::1", 123, "nopeer"},
                            {"192.0.2.1", 123, ""},  // -6 default does not touch IPv4
                        });
}

TEST(RestrictTest, DefaultsPerFamilyCombine) {
  const std::vector<RestrictRule> rules = {
      default_rule("kod"),
      default_rule("limited", AddressFamily::kIpv4),
      default_rule("noquery", AddressFamily::kIpv6),
  };
  const RestrictTable table(rules);
  expect_matches(table,
                 {{"198.51.100.1", 123, "kod limited"}, {"2001:db8::1", 123, "kod noquery"}});
}

TEST(RestrictTest, SameTargetLinesMerge) {
  const std::vector<RestrictRule> rules = {
      address_rule("192.0.2.0", "255.255.255.0", "noquery"),
      address_rule("192.0.2.0", "255.255.255.0", "nomodify"),
      address_rule("0.0.0.0", "0.0.0.0", "notrap"),  // is the IPv4 default
  };
  const RestrictTable table(rules);
  expect_matches(table, {{"192.0.2.9", 123, "noquery nomodify"},
                         {"203.0.113.1", 123, "notrap"},
                         {"2001:db8::1", 123, ""}});
}

TEST(RestrictTest, NtpportEntriesMatchOnlyPort123AndComeFirst) {
  const std::vector<RestrictRule> rules = {
      address_rule("192.0.2.0", "255.255.255.0", "noquery"),
      address_rule("192.0.2.0", "255.255.255.0", "ntpport ignore"),
      address_rule("198.51.100.0", "255.255.255.0", "ntpport nopeer"),
      default_rule("ntpport kod"),
      default_rule("limited"),
  };
  const RestrictTable table(rules);
  expect_matches(table, {
                            {"192.0.2.1", 123, "ntpport ignore"},
                            {"192.0.2.1", 124, "noquery"},
                            {"198.51.100.7", 123, "ntpport nopeer"},
                            {"198.51.100.7", 40000, "limited"},
                            {"203.0.113.1", 123, "ntpport kod"},
                            {"203.0.113.1", 1023, "limited"},
                            {"2001:db8::1", 123, "ntpport kod"},
                        });
}

// From ntp.conf text through the parser (and its describe_config round
// trip, which is how ntpd-net receives the rules): ntpport is part of the
// merge key, so `restrict X` and `restrict X ntpport` are two entries.
TEST(RestrictTest, NtpportIsPartOfTheMergeKey) {
  struct Case {
    const char* name;
    const char* conf;
    std::size_t rules;
    std::vector<Probe> probes;
  };
  const std::vector<Case> cases = {
      {"plain lines merge",
       "restrict 192.0.2.0 mask 255.255.255.0 noquery\n"
       "restrict 192.0.2.0 mask 255.255.255.0 nomodify\n",
       1,
       {{"192.0.2.1", 123, "noquery nomodify"}, {"192.0.2.1", 5000, "noquery nomodify"}}},
      {"ntpport lines merge",
       "restrict 192.0.2.0 mask 255.255.255.0 ntpport noquery\n"
       "restrict 192.0.2.0 mask 255.255.255.0 ntpport nomodify\n",
       1,
       {{"192.0.2.1", 123, "ntpport noquery nomodify"}, {"192.0.2.1", 5000, ""}}},
      {"ntpport and plain stay apart",
       "restrict 192.0.2.0 mask 255.255.255.0 noquery\n"
       "restrict 192.0.2.0 mask 255.255.255.0 ntpport ignore\n",
       2,
       {{"192.0.2.1", 123, "ntpport ignore"}, {"192.0.2.1", 5000, "noquery"}}},
      {"plain after ntpport",
       "restrict 2001:db8::1 ntpport nopeer\n"
       "restrict 2001:db8::1 kod\n",
       2,
       {{"2001:db8::1", 123, "ntpport nopeer"}, {"2001:db8::1", 40000, "kod"}}},
      {"default too",
       "restrict default ntpport noserve\nrestrict default limited\n",
       2,
       {{"198.51.100.1", 123, "ntpport noserve"}, {"198.51.100.1", 1024, "limited"}}},
      {"unrestrict picks the ntpport entry",
       "restrict 192.0.2.7 noquery nomodify\n"
       "restrict 192.0.2.7 ntpport noquery nomodify\n"
       "unrestrict 192.0.2.7 ntpport noquery\n",
       2,
       {{"192.0.2.7", 123, "ntpport nomodify"}, {"192.0.2.7", 2000, "noquery nomodify"}}},
      {"unrestrict picks the plain entry",
       "restrict 192.0.2.7 noquery\n"
       "restrict 192.0.2.7 ntpport noquery\n"
       "unrestrict 192.0.2.7 noquery\n",
       2,
       {{"192.0.2.7", 123, "ntpport noquery"}, {"192.0.2.7", 2000, ""}}},
  };
  const auto no_includes = [](const std::string&, std::string* e) -> std::optional<std::string> {
    *e = "no includes";
    return std::nullopt;
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto parsed = common::parse_ntp_conf_text("t.conf", c.conf, no_includes);
    ASSERT_FALSE(parsed.has_errors());
    EXPECT_EQ(parsed.config.restrictions.size(), c.rules);
    expect_matches(RestrictTable(parsed.config.restrictions), c.probes);
    const auto again = common::parse_ntp_conf_text(
        "described", common::describe_config(parsed.config), no_includes);
    ASSERT_FALSE(again.has_errors());
    EXPECT_EQ(again.config.restrictions.size(), c.rules);
    expect_matches(RestrictTable(again.config.restrictions), c.probes);
  }
}

// ntpd sorts by address before mask, so with a non-contiguous mask the
// entry with the higher masked address wins, not the longer mask.
TEST(RestrictTest, NonContiguousMasksFollowNtpdOrder) {
  const std::vector<RestrictRule> rules = {
      address_rule("10.0.0.0", "255.0.0.255", "noquery"),
      address_rule("0.0.5.0", "0.0.255.0", "nomodify"),
  };
  const RestrictTable table(rules);
  expect_matches(table, {
                            {"10.0.5.0", 123, "noquery"},
                            {"10.9.5.0", 123, "noquery"},
                            {"10.0.5.1", 123, "nomodify"},
                            {"11.0.5.0", 123, "nomodify"},
                            {"11.0.6.0", 123, ""},
                        });
}

TEST(RestrictTest, MulticastSourcesAreIgnored) {
  const RestrictTable table(std::vector<RestrictRule>{default_rule("")});
  expect_matches(table, {{"224.0.1.1", 123, "ignore"},
                         {"239.255.255.255", 5, "ignore"},
                         {"ff02::101", 123, "ignore"},
                         {"223.255.255.255", 123, ""}});
}

TEST(RestrictTest, MappedAddressesMatchIPv4Rules) {
  const std::vector<RestrictRule> rules = {address_rule("192.0.2.0", "255.255.255.0", "noquery"),
                                           default_rule("ignore", AddressFamily::kIpv4)};
  const RestrictTable table(rules);
  expect_matches(table, {{"::ffff:192.0.2.5", 123, "noquery"},
                         {"::ffff:10.0.0.1", 123, "ignore"},
                         {"::192.0.2.5", 123, ""},  // not mapped: an IPv6 address
                         {"::ffff:224.0.0.1", 123, "ignore"}});
}

TEST(RestrictTest, SourceRulesApplyToServerAddressesAsAdded) {
  const std::vector<RestrictRule> rules = {
      default_rule("kod limited nomodify noquery"),
      source_rule("nomodify notrap"),
      host_rule("192.0.2.20", "noquery"),
  };
  RestrictTable table(rules);
  EXPECT_TRUE(table.source_enabled());
  EXPECT_TRUE(table.add_source_address(ip("192.0.2.10")));
  EXPECT_FALSE(table.add_source_address(ip("192.0.2.10")));  // already a host entry
  EXPECT_FALSE(table.add_source_address(ip("192.0.2.20")));  // configured host entry wins
  EXPECT_TRUE(table.add_source_address(ip("2001:db8::123")));
  EXPECT_FALSE(table.add_source_address(ip("224.0.1.1")));
  expect_matches(table, {
                            {"192.0.2.10", 123, "nomodify notrap"},
                            {"192.0.2.11", 123, "kod limited nomodify noquery"},
                            {"192.0.2.20", 123, "noquery"},
                            {"2001:db8::123", 123, "nomodify notrap"},
                        });
  EXPECT_TRUE(table.remove_source_address(ip("192.0.2.10")));
  EXPECT_FALSE(table.remove_source_address(ip("192.0.2.10")));
  EXPECT_FALSE(table.remove_source_address(ip("192.0.2.20")));  // configured: kept
  expect_matches(
      table, {{"192.0.2.10", 123, "kod limited nomodify noquery"}, {"192.0.2.20", 123, "noquery"}});
}

TEST(RestrictTest, WithoutRestrictSourceNothingIsAdded) {
  RestrictTable table(std::vector<RestrictRule>{default_rule("noquery")});
  EXPECT_FALSE(table.source_enabled());
  EXPECT_FALSE(table.add_source_address(ip("192.0.2.10")));
  expect_matches(table, {{"192.0.2.10", 123, "noquery"}});
}

TEST(RestrictTest, InterfaceAddressesIgnoreTheirOwnNtpPort) {
  RestrictTable table(std::vector<RestrictRule>{default_rule("nomodify")});
  table.add_interface_address(ip("192.0.2.1"));
  table.add_interface_address(ip("2001:db8::1"));
  expect_matches(table, {{"192.0.2.1", 123, "ignore ntpport"},
                         {"192.0.2.1", 55123, "nomodify"},
                         {"2001:db8::1", 123, "ignore ntpport"},
                         {"2001:db8::2", 123, "nomodify"}});
}

TEST(RestrictTest, HostnameRulesResolveIntoAddressRules) {
  RestrictRule named;
  named.target = RestrictTarget::kHostname;
  named.hostname = "ntp.example.net";
  named.flags = flags("nomodify");
  const RestrictTable skipped(std::vector<RestrictRule>{named});
  expect_matches(skipped, {{"192.0.2.7", 123, ""}});

  const auto host = resolve_hostname_rule(named, ip("192.0.2.7"));
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->target, RestrictTarget::kAddress);
  EXPECT_EQ(host->mask, ip("255.255.255.255"));
  named.hostname_mask = ip("255.255.255.0");
  const auto net = resolve_hostname_rule(named, ip("192.0.2.7"));
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(net->address, ip("192.0.2.0"));
  EXPECT_FALSE(resolve_hostname_rule(named, ip("2001:db8::7")).has_value());  // IPv4 mask
  named.hostname_mask.reset();
  named.family = AddressFamily::kIpv4;
  EXPECT_FALSE(resolve_hostname_rule(named, ip("2001:db8::7")).has_value());  // -4

  const RestrictTable table(std::vector<RestrictRule>{*net, default_rule("ignore")});
  expect_matches(table, {{"192.0.2.99", 123, "nomodify"}, {"192.0.3.1", 123, "ignore"}});
}

}  // namespace
}  // namespace ntpd::net
