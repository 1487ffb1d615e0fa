// ntp.conf and command line for broadcast, multicast and orphan mode:
// multicastclient and broadcastdelay parse (and round-trip through
// describe_config), and the NetConfig fields the clock process fills.
#include <gtest/gtest.h>
#include <syslog.h>

#include "common/ntp_conf.h"
#include "ntpd-clock/broadcast_sockets.h"
#include "ntpd-clock/startup_config.h"
#include "tests/unit/ntp_conf_helpers.h"

namespace ntpd::clock {
namespace {

TEST(BroadcastConf, MulticastClientDefaultsToTheNtpGroup) {
  const auto config = testing::parse_conf("multicastclient\nmulticastclient 239.1.2.3 224.0.1.1\n");
  ASSERT_EQ(config.multicast_groups.size(), 2u);
  EXPECT_EQ(config.multicast_groups[0].to_string(), "224.0.1.1");
  EXPECT_EQ(config.multicast_groups[1].to_string(), "239.1.2.3");
  EXPECT_NE(common::describe_config(config).find("multicastclient 224.0.1.1 239.1.2.3\n"),
            std::string::npos);
}

TEST(BroadcastConf, RejectsNonMulticastGroupsAndBadDelays) {
  for (const char* bad : {"multicastclient 10.0.0.1\n", "multicastclient host.example\n",
                          "broadcastdelay -1\n", "broadcastdelay 2\n", "broadcastdelay\n"}) {
    const auto parsed = testing::parse_conf_result(bad);
    EXPECT_TRUE(parsed.has_errors()) << bad;
  }
  const auto parsed = testing::parse_conf_result("multicastclient 10.0.0.1\n");
  ASSERT_FALSE(parsed.diagnostics.empty());
  EXPECT_NE(parsed.diagnostics[0].to_string().find("test.conf:1"), std::string::npos);
  EXPECT_NE(parsed.diagnostics[0].to_string().find("multicast"), std::string::npos);
}

TEST(BroadcastConf, BroadcastDelayRoundTrips) {
  const auto config = testing::parse_conf("broadcastdelay 0.008\n");
  ASSERT_TRUE(config.broadcast_delay_s);
  EXPECT_DOUBLE_EQ(*config.broadcast_delay_s, 0.008);
  EXPECT_EQ(testing::parse_conf(common::describe_config(config)).broadcast_delay_s,
            config.broadcast_delay_s);
}

TEST(BroadcastNetConfig, OrphanAndBroadcastLinesReachNtpdNet) {
  const auto config = testing::parse_conf(
      "tos orphan 7 orphanwait 20\nbroadcast 192.0.2.255 ttl 3 key 4 minpoll 4\n");
  const ipc::NetConfig net = build_net_config(Options{}, config, LOG_INFO);
  EXPECT_EQ(net.orphan_stratum(), 7u);
  EXPECT_EQ(net.orphan_wait_s(), 20u);
  EXPECT_FALSE(net.has_broadcast_client());
  ASSERT_EQ(net.associations_size(), 1);
  EXPECT_EQ(net.associations(0).kind(), ipc::ASSOCIATION_KIND_BROADCAST);
  EXPECT_EQ(net.associations(0).ttl(), 3u);
  EXPECT_EQ(net.associations(0).key_id(), 4u);
  EXPECT_EQ(net.associations(0).minpoll_log2s(), 4);
}

TEST(BroadcastNetConfig, TosValuesReachNtpdNet) {
  const auto config = testing::parse_conf(
      "tos mindist 0.002 maxdist 3 minclock 4 maxclock 8 minsane 2 floor 1 ceiling 12\n");
  const ipc::NetConfig net = build_net_config(Options{}, config, LOG_INFO);
  EXPECT_EQ(net.tos_mindist_ns(), 2'000'000);
  EXPECT_EQ(net.tos_maxdist_ns(), 3'000'000'000);
  EXPECT_EQ(net.tos_minclock(), 4u);
  EXPECT_EQ(net.tos_maxclock(), 8u);
  EXPECT_EQ(net.tos_minsane(), 2u);
  EXPECT_EQ(net.tos_floor(), 1u);
  EXPECT_EQ(net.tos_ceiling(), 12u);
  EXPECT_FALSE(net.has_orphan_stratum());
}

TEST(BroadcastNetConfig, ClientSwitchesFromConfAndCommandLine) {
  EXPECT_FALSE(
      build_net_config(Options{}, testing::parse_conf(""), LOG_INFO).has_broadcast_client());
  auto net =
      build_net_config(Options{}, testing::parse_conf("broadcastclient novolley\n"), LOG_INFO);
  ASSERT_TRUE(net.has_broadcast_client());
  EXPECT_TRUE(net.broadcast_client().enabled());
  EXPECT_TRUE(net.broadcast_client().novolley());
  EXPECT_EQ(net.broadcast_client().delay_ns(), 4'000'000);  // ntpd's default
  EXPECT_TRUE(net.broadcast_client().require_auth());

  Options options;
  options.multicast_client = true;
  options.auth_required = false;    // -A
  options.broadcast_delay_s = 5.0;  // -r, capped at 1 s
  net = build_net_config(options, testing::parse_conf("broadcastdelay 0.002\n"), LOG_INFO);
  ASSERT_TRUE(net.has_broadcast_client());
  EXPECT_FALSE(net.broadcast_client().require_auth());
  EXPECT_FALSE(net.broadcast_client().novolley());
  EXPECT_EQ(net.broadcast_client().delay_ns(), 1'000'000'000);
  net = build_net_config(
      Options{}, testing::parse_conf("broadcastclient\nbroadcastdelay 0.002\ndisable auth\n"),
      LOG_INFO);
  EXPECT_EQ(net.broadcast_client().delay_ns(), 2'000'000);
  EXPECT_FALSE(net.broadcast_client().require_auth());
}

TEST(BroadcastSockets, WhatTheClientListensFor) {
  Options options;
  options.multicast_client = true;
  auto spec = broadcast_client_sockets_for(options, testing::parse_conf(""));
  EXPECT_FALSE(spec.broadcast);
  ASSERT_EQ(spec.groups.size(), 1u);
  EXPECT_EQ(spec.groups[0].to_string(), "224.0.1.1");
  spec = broadcast_client_sockets_for(
      Options{}, testing::parse_conf("broadcastclient\nmulticastclient 239.0.0.9\n"));
  EXPECT_TRUE(spec.broadcast);
  ASSERT_EQ(spec.groups.size(), 1u);
  EXPECT_EQ(spec.groups[0].to_string(), "239.0.0.9");
  options.ipv6_only = true;
  spec = broadcast_client_sockets_for(options, testing::parse_conf("broadcastclient\n"));
  EXPECT_FALSE(spec.broadcast);
  EXPECT_TRUE(spec.groups.empty());
}

}  // namespace
}  // namespace ntpd::clock
