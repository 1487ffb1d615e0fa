// Startup decisions: command line over ntp.conf, log levels, and the
// NetConfig that ntpd-net receives.
#include "ntpd-clock/startup_config.h"

#include <gtest/gtest.h>
#include <syslog.h>

#include "common/ntp_conf.h"
#include "tests/unit/ntp_conf_helpers.h"

namespace ntpd::clock {
namespace {

TEST(EffectivePaths, CommandLineWinsOverNtpConf) {
  const auto config = testing::parse_conf("driftfile /var/lib/ntp/ntp.drift\nkeys /etc/ntp.keys\n");
  Options options;
  options.drift_path = "/tmp/other.drift";
  const EffectivePaths paths = effective_paths(options, config);
  EXPECT_EQ(paths.drift_file, std::optional<std::string>("/tmp/other.drift"));
  EXPECT_EQ(paths.keys_file, std::optional<std::string>("/etc/ntp.keys"));
  EXPECT_FALSE(paths.pid_file);
}

// `key N` on server/peer lines: missing or untrusted keys are errors
// naming file:line; -t trusts as trustedkey does.
TEST(AssociationKeyProblems, NamesTheLineOfEveryUnusableKey) {
  const auto config = testing::parse_conf(
      "trustedkey 1 2\n"
      "server 192.0.2.1 key 1\n"
      "server 192.0.2.2 key 3\n"
      "peer 192.0.2.3 key 4\n"
      "server 192.0.2.4 key 5\n"
      "server 192.0.2.5\n");
  const auto keys = common::parse_keys_file_text("k", "1 MD5 one\n4 SHA1 four\n5 MD5 five\n");
  ASSERT_FALSE(keys.has_errors());
  Options options;
  options.trusted_keys = {5};
  const auto problems = association_key_problems(config, keys.keys, options, "/etc/ntp.keys");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].to_string(),
            "test.conf:3: error: server 192.0.2.2 key 3: key 3 is not in the keys file "
            "/etc/ntp.keys; this association will not be polled");
  EXPECT_EQ(problems[1].to_string(),
            "test.conf:4: error: peer 192.0.2.3 key 4: key 4 is not trusted (add it to "
            "trustedkey); this association will not be polled");

  const auto no_file = association_key_problems(config, {}, options, std::nullopt);
  ASSERT_EQ(no_file.size(), 4u);
  EXPECT_NE(no_file[0].message.find("key 1 needs a keys file (keys or -k)"), std::string::npos)
      << no_file[0].message;
  EXPECT_TRUE(
      association_key_problems(testing::parse_conf("server 192.0.2.1\n"), {}, options, std::nullopt)
          .empty());
}

TEST(LogPriority, DebugLevelsRaiseVerbosity) {
  EXPECT_EQ(log_priority_for(0), LOG_NOTICE);
  EXPECT_EQ(log_priority_for(1), LOG_INFO);
  EXPECT_EQ(log_priority_for(3), LOG_DEBUG);
}

TEST(BuildNetConfig, CarriesAssociationsAndTheLocalClock) {
  const auto config = testing::parse_conf(
      "server 192.168.1.10 iburst minpoll 4 maxpoll 8\n"
      "pool 0.debian.pool.ntp.org iburst\n"
      "peer 10.0.0.2 key 5\n"
      "server 127.127.1.0\n"
      "fudge 127.127.1.0 stratum 10\n");
  Options options;
  options.ipv4_only = true;
  const ipc::NetConfig net = build_net_config(options, config, LOG_INFO);
  ASSERT_EQ(net.associations_size(), 4);
  EXPECT_EQ(net.associations(0).kind(), ipc::ASSOCIATION_KIND_SERVER);
  EXPECT_EQ(net.associations(0).host(), "192.168.1.10");
  EXPECT_TRUE(net.associations(0).iburst());
  EXPECT_EQ(net.associations(0).minpoll_log2s(), 4);
  EXPECT_EQ(net.associations(0).maxpoll_log2s(), 8);
  EXPECT_EQ(net.associations(1).kind(), ipc::ASSOCIATION_KIND_POOL);
  EXPECT_EQ(net.associations(2).kind(), ipc::ASSOCIATION_KIND_PEER);
  EXPECT_EQ(net.associations(2).key_id(), 5u);
  EXPECT_EQ(net.associations(3).kind(), ipc::ASSOCIATION_KIND_LOCAL_CLOCK);
  EXPECT_EQ(net.associations(3).stratum(), 10u);
  EXPECT_TRUE(net.ipv4_only());
  EXPECT_EQ(net.log_level(), LOG_INFO);
}

TEST(BuildNetConfig, LocalClockDefaultsToStratumFive) {
  const ipc::NetConfig net =
      build_net_config(Options{}, testing::parse_conf("server 127.127.1.0\n"), LOG_NOTICE);
  ASSERT_EQ(net.associations_size(), 1);
  EXPECT_EQ(net.associations(0).stratum(), 5u);
}

}  // namespace
}  // namespace ntpd::clock
