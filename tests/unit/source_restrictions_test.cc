// "restrict source" (ntp.conf(5)): each association's address gets the
// source flags as a host entry while the association lives. Rules come from
// ntp.conf text the way ntpd-net receives them (NetConfig.access_config).
#include "ntpd-net/source_restrictions.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "ntpd-net/server_path.h"

namespace ntpd::net {
namespace {

IpAddress ip(const std::string& text) {
  IpAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
  a.family = common::AddressFamily::kIpv6;
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), a.bytes.data()), 1) << text;
  return a;
}

// The flags ntpq would list, in a fixed order, for comparisons.
std::string words(const common::RestrictFlags& f) {
  std::string out;
  auto add = [&](bool on, const char* word) {
    if (on) out += (out.empty() ? "" : " ") + std::string(word);
  };
  add(f.ignore, "ignore");
  add(f.kod, "kod");
  add(f.limited, "limited");
  add(f.nomodify, "nomodify");
  add(f.nopeer, "nopeer");
  add(f.noquery, "noquery");
  add(f.noserve, "noserve");
  add(f.notrap, "notrap");
  return out;
}

std::vector<common::RestrictRule> rules_from(const std::string& text) {
  ipc::NetConfig config;
  config.set_access_config(text);
  std::vector<std::string> problems;
  AccessConfig access = access_config_from(config, &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return access.restrictions;
}

const char* const kConfig =
    "restrict default kod limited nomodify noquery\n"
    "restrict -6 default noserve\n"
    "restrict source nomodify notrap\n"
    "restrict 192.0.2.0 mask 255.255.255.0 nopeer\n"
    "restrict 198.51.100.7 noquery\n";

struct Case {
  const char* mobilized;  // the association's address (numeric or resolved)
  const char* probe;      // where a packet comes from
  const char* while_up;   // flags while the association lives
  const char* after;      // flags once it is gone
};

TEST(SourceRestrictions, FollowAssociationsMostSpecificWins) {
  const Case cases[] = {
      // Only the default covered it: the host entry is more specific.
      {"203.0.113.5", "203.0.113.5", "nomodify notrap", "kod limited nomodify noquery"},
      // A configured /24 loses to the host entry ...
      {"192.0.2.10", "192.0.2.10", "nomodify notrap", "nopeer"},
      // ... and its neighbours keep the /24 rule.
      {"192.0.2.10", "192.0.2.11", "nopeer", "nopeer"},
      // A configured host entry wins over restrict source (ntpd restrict_source).
      {"198.51.100.7", "198.51.100.7", "noquery", "noquery"},
      // IPv6 against the merged -6 default.
      {"2001:db8::123", "2001:db8::123", "nomodify notrap", "kod limited nomodify noquery noserve"},
      {"2001:db8::123", "2001:db8::124", "kod limited nomodify noquery noserve",
       "kod limited nomodify noquery noserve"},
      // An IPv4-mapped association address is the IPv4 host.
      {"::ffff:203.0.113.9", "203.0.113.9", "nomodify notrap", "kod limited nomodify noquery"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.mobilized) + " probed from " + c.probe);
    RestrictTable table(rules_from(kConfig));
    SourceRestrictions sources(table);
    EXPECT_EQ(words(table.match(ip(c.probe), 123)), c.after);
    sources.acquire(ip(c.mobilized));
    EXPECT_EQ(words(table.match(ip(c.probe), 123)), c.while_up);
    EXPECT_EQ(words(table.match(ip(c.probe), 50123)), c.while_up);  // not ntpport: any port
    sources.release(ip(c.mobilized));
    EXPECT_EQ(words(table.match(ip(c.probe), 123)), c.after);
    EXPECT_EQ(sources.tracked(), 0u);
  }
}

TEST(SourceRestrictions, EntryStaysWhileAnyAssociationUsesTheAddress) {
  RestrictTable table(rules_from(kConfig));
  SourceRestrictions sources(table);
  const std::size_t configured = table.size();
  sources.acquire(ip("203.0.113.5"));  // server line
  sources.acquire(ip("203.0.113.5"));  // a pool answer with the same address
  EXPECT_EQ(table.size(), configured + 1);
  sources.release(ip("203.0.113.5"));
  EXPECT_EQ(words(table.match(ip("203.0.113.5"), 123)), "nomodify notrap");
  sources.release(ip("203.0.113.5"));
  EXPECT_EQ(words(table.match(ip("203.0.113.5"), 123)), "kod limited nomodify noquery");
  EXPECT_EQ(table.size(), configured);
  sources.release(ip("203.0.113.5"));  // unbalanced release: harmless
  EXPECT_EQ(table.size(), configured);
}

TEST(SourceRestrictions, ConfiguredHostEntryIsNeverRemoved) {
  RestrictTable table(rules_from(kConfig));
  SourceRestrictions sources(table);
  sources.acquire(ip("198.51.100.7"));
  sources.release(ip("198.51.100.7"));
  EXPECT_EQ(words(table.match(ip("198.51.100.7"), 123)), "noquery");
}

TEST(SourceRestrictions, WithoutRestrictSourceNothingChanges) {
  RestrictTable table(rules_from("restrict default noquery\n"));
  SourceRestrictions sources(table);
  sources.acquire(ip("192.0.2.1"));
  EXPECT_EQ(words(table.match(ip("192.0.2.1"), 123)), "noquery");
  sources.release(ip("192.0.2.1"));
  EXPECT_EQ(words(table.match(ip("192.0.2.1"), 123)), "noquery");
}

}  // namespace
}  // namespace ntpd::net
