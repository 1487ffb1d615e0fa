// Tests for the ntp.conf parser: the seed configurations (relay server, LAN
// client, local clock, Debian's stock ntpsec ntp.conf), every directive, the
// exact wording and position of errors, fail-closed access control,
// includefile bounds, describe_config round trips, and read_text_file.
#include "common/ntp_conf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/text_file.h"

namespace ntpd::common {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Severity = ConfigDiagnostic::Severity;

// An in-memory file system for includefile; records every path read.
struct FakeFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> reads;

  FileReader reader() {
    return [this](const std::string& path, std::string* error) -> std::optional<std::string> {
      reads.push_back(path);
      const auto it = files.find(path);
      if (it == files.end()) {
        *error = "No such file or directory";
        return std::nullopt;
      }
      return it->second;
    };
  }
};

ParsedConfig parse(std::string_view text) {
  return parse_ntp_conf_text("ntp.conf", text, FakeFiles{}.reader());
}

std::vector<std::string> messages(const ParsedConfig& parsed) {
  std::vector<std::string> out;
  for (const auto& diagnostic : parsed.diagnostics) out.push_back(diagnostic.to_string());
  return out;
}

ConfigAddress address(const char* text) {
  ConfigAddress out;
  // Test helper: the parser's own inet_pton path is what is under test elsewhere.
  const auto parsed = parse_ntp_conf_text("t", std::string("restrict ") + text, nullptr);
  EXPECT_EQ(parsed.config.restrictions.size(), 1u) << text;
  if (!parsed.config.restrictions.empty()) out = parsed.config.restrictions[0].address;
  return out;
}

std::string read_test_data(const std::string& name) {
  std::string source = __FILE__;
  const std::string path = source.substr(0, source.rfind('/') + 1) + "data/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// ---------- seed configurations ----------

TEST(NtpConfSeedTest, RelayServer) {
  const auto parsed = parse(
      "driftfile /var/lib/ntp/ntp.drift\n"
      "server 0.pool.ntp.org iburst\n"
      "server 1.pool.ntp.org iburst\n"
      "restrict default nomodify notrap nopeer noquery\n"
      "restrict 127.0.0.1\n"
      "restrict ::1\n"
      "restrict 192.168.1.0 mask 255.255.255.0 nomodify notrap\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_FALSE(parsed.fatal);
  const NtpConfig& c = parsed.config;
  EXPECT_EQ(c.drift_file, "/var/lib/ntp/ntp.drift");
  ASSERT_EQ(c.associations.size(), 2u);
  EXPECT_EQ(c.associations[0].kind, AssociationKind::kServer);
  EXPECT_EQ(c.associations[0].host, "0.pool.ntp.org");
  EXPECT_TRUE(c.associations[0].iburst);
  EXPECT_FALSE(c.associations[0].address.has_value());
  EXPECT_EQ(c.associations[0].minpoll_log2s, 6);
  EXPECT_EQ(c.associations[0].maxpoll_log2s, 10);
  EXPECT_EQ(c.associations[0].version, 4);
  EXPECT_EQ(c.associations[1].location, (SourceLocation{"ntp.conf", 3}));

  ASSERT_EQ(c.restrictions.size(), 4u);
  const RestrictRule& def = c.restrictions[0];
  EXPECT_EQ(def.target, RestrictTarget::kDefault);
  EXPECT_EQ(def.family, AddressFamily::kAny);
  RestrictFlags expected;
  expected.nomodify = expected.notrap = expected.nopeer = expected.noquery = true;
  EXPECT_EQ(def.flags, expected);

  const RestrictRule& v4 = c.restrictions[1];
  EXPECT_EQ(v4.target, RestrictTarget::kAddress);
  EXPECT_EQ(v4.family, AddressFamily::kIpv4);
  EXPECT_EQ(v4.address.to_string(), "127.0.0.1");
  EXPECT_EQ(v4.mask.to_string(), "255.255.255.255");
  EXPECT_EQ(v4.flags, RestrictFlags{});

  const RestrictRule& v6 = c.restrictions[2];
  EXPECT_EQ(v6.family, AddressFamily::kIpv6);
  EXPECT_EQ(v6.address.bytes[15], 1);
  EXPECT_EQ(v6.mask.to_string(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

  const RestrictRule& lan = c.restrictions[3];
  EXPECT_EQ(lan.address.to_string(), "192.168.1.0");
  EXPECT_EQ(lan.mask.to_string(), "255.255.255.0");
  EXPECT_TRUE(lan.flags.nomodify && lan.flags.notrap && !lan.flags.noquery);
  EXPECT_EQ(lan.location, (SourceLocation{"ntp.conf", 7}));
}

TEST(NtpConfSeedTest, LanClient) {
  const auto parsed = parse(
      "server 192.168.1.10 iburst\n"
      "server 192.168.1.11 iburst\n"
      "driftfile /var/lib/ntp/ntp.drift\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 2u);
  for (const auto& a : parsed.config.associations) {
    ASSERT_TRUE(a.address.has_value());
    EXPECT_EQ(a.address->family, AddressFamily::kIpv4);
    EXPECT_TRUE(a.iburst);
    EXPECT_FALSE(a.refclock.has_value());
  }
  EXPECT_EQ(parsed.config.associations[1].address->to_string(), "192.168.1.11");
  EXPECT_EQ(parsed.config.drift_file, "/var/lib/ntp/ntp.drift");
}

TEST(NtpConfSeedTest, LocalClock) {
  const auto parsed = parse("server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  const auto& clock = parsed.config.associations[0];
  ASSERT_TRUE(clock.refclock.has_value());
  EXPECT_EQ(clock.refclock->type, kLocalClockType);
  EXPECT_EQ(clock.refclock->unit, 0);
  EXPECT_EQ(clock.refclock->fudge.stratum, 10);
  EXPECT_FALSE(clock.refclock->fudge.refid.has_value());
}

TEST(NtpConfSeedTest, DebianNtpsecStockConfig) {
  const std::string text = read_test_data("debian_ntpsec_ntp.conf");
  ASSERT_THAT(text, HasSubstr("pool 0.debian.pool.ntp.org iburst"));
  const auto parsed = parse_ntp_conf_text("/etc/ntpsec/ntp.conf", text, FakeFiles{}.reader());
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_FALSE(parsed.fatal);
  const NtpConfig& c = parsed.config;
  EXPECT_EQ(c.drift_file, "/var/lib/ntpsec/ntp.drift");
  EXPECT_EQ(c.leap_file, "/usr/share/zoneinfo/leap-seconds.list");
  EXPECT_EQ(c.tos.maxclock, 11);
  EXPECT_EQ(c.tos.minclock, 4);
  EXPECT_EQ(c.tos.minsane, 3);
  ASSERT_EQ(c.associations.size(), 4u);
  for (const auto& a : c.associations) {
    EXPECT_EQ(a.kind, AssociationKind::kPool);
    EXPECT_TRUE(a.iburst);
  }
  EXPECT_EQ(c.associations[3].host, "3.debian.pool.ntp.org");
  ASSERT_EQ(c.restrictions.size(), 3u);
  RestrictFlags expected;
  expected.kod = expected.nomodify = expected.nopeer = expected.noquery = expected.limited = true;
  EXPECT_EQ(c.restrictions[0].flags, expected);
  EXPECT_EQ(c.restrictions[0].target, RestrictTarget::kDefault);
}

// The stock file with its commented-out logging lines switched on.
TEST(NtpConfSeedTest, DebianNtpsecStockConfigWithStatistics) {
  std::string text = read_test_data("debian_ntpsec_ntp.conf");
  for (const char* directive : {"#statsdir", "#statistics", "#filegen"}) {
    for (auto at = text.find(directive); at != std::string::npos; at = text.find(directive)) {
      text.erase(at, 1);
    }
  }
  const auto parsed = parse_ntp_conf_text("/etc/ntpsec/ntp.conf", text, FakeFiles{}.reader());
  EXPECT_THAT(messages(parsed), IsEmpty());
  const NtpConfig& c = parsed.config;
  EXPECT_EQ(c.stats_dir, "/var/log/ntpsec/");
  EXPECT_THAT(c.statistics, ElementsAre("loopstats", "peerstats", "clockstats"));
  ASSERT_EQ(c.filegens.size(), 3u);
  EXPECT_EQ(c.filegens[1].name, "peerstats");
  EXPECT_EQ(c.filegens[1].file, "peerstats");
  EXPECT_EQ(c.filegens[1].type, FilegenType::kDay);
  EXPECT_EQ(c.filegens[1].enabled, true);
}

TEST(NtpConfSeedTest, ReadsTheMainFileThroughTheReader) {
  FakeFiles fs;
  fs.files["/etc/ntp.conf"] = "server 192.0.2.1\n";
  const auto parsed = parse_ntp_conf("/etc/ntp.conf", fs.reader());
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_EQ(parsed.config.associations.size(), 1u);
  EXPECT_THAT(fs.reads, ElementsAre("/etc/ntp.conf"));
}

TEST(NtpConfSeedTest, UnreadableMainFileIsFatal) {
  FakeFiles fs;
  const auto parsed = parse_ntp_conf("/etc/ntp.conf", fs.reader());
  EXPECT_TRUE(parsed.fatal);
  EXPECT_THAT(messages(parsed),
              ElementsAre("/etc/ntp.conf: error: cannot read the file: No such file or directory"));
}

// ---------- errors: exact text and position ----------

struct ErrorCase {
  const char* name;
  std::string_view line;
  std::string expected;  // the one diagnostic
  bool fatal = false;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class NtpConfErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(NtpConfErrorTest, ReportsOneDiagnosticAndSkipsTheLine) {
  const ErrorCase& c = GetParam();
  const auto parsed = parse(std::string(c.line) + "\nserver 192.0.2.99\n");
  EXPECT_THAT(messages(parsed), ElementsAre(c.expected));
  EXPECT_EQ(parsed.fatal, c.fatal);
  EXPECT_TRUE(parsed.has_errors());
  // The bad line changed nothing; the next line was still parsed.
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  EXPECT_EQ(parsed.config.associations[0].host, "192.0.2.99");
  EXPECT_THAT(parsed.config.restrictions, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NtpConfErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownDirective", "frobnicate 1",
                  "ntp.conf:1:1: error: unknown directive 'frobnicate'"},
        ErrorCase{"IndentedUnknownDirective", "  Server x",
                  "ntp.conf:1:3: error: unknown directive 'Server'"},
        ErrorCase{"ServerWithoutHost", "server",
                  "ntp.conf:1:7: error: server expects an address or host name"},
        ErrorCase{"MinpollNotNumber", "server a minpoll abc",
                  "ntp.conf:1:18: error: minpoll expects an integer 3..17, got 'abc'"},
        ErrorCase{"MinpollTooSmall", "server a minpoll 2",
                  "ntp.conf:1:18: error: minpoll expects an integer 3..17, got '2'"},
        ErrorCase{"MaxpollTooLarge", "server a maxpoll 18",
                  "ntp.conf:1:18: error: maxpoll expects an integer 3..17, got '18'"},
        ErrorCase{"MinpollMissing", "server a minpoll",
                  "ntp.conf:1:17: error: minpoll expects an integer 3..17"},
        ErrorCase{"MaxpollBelowMinpoll", "server a minpoll 8 maxpoll 7",
                  "ntp.conf:1:20: error: maxpoll 7 is less than minpoll 8"},
        ErrorCase{"VersionRange", "server a version 5",
                  "ntp.conf:1:18: error: version expects an integer 1..4, got '5'"},
        ErrorCase{"KeyZero", "server a key 0",
                  "ntp.conf:1:14: error: key expects an integer 1..65535, got '0'"},
        ErrorCase{"KeyTooLarge", "peer a key 65536",
                  "ntp.conf:1:12: error: key expects an integer 1..65535, got '65536'"},
        ErrorCase{"KeyHugeNumber", "server a key 99999999999999999999999",
                  "ntp.conf:1:14: error: key expects an integer 1..65535, got "
                  "'99999999999999999999999'"},
        ErrorCase{"UnknownServerOption", "server a iburst fast",
                  "ntp.conf:1:17: error: unknown server option 'fast'; expected iburst, burst, "
                  "prefer, noselect, true, preempt, xleave, minpoll, maxpoll, version, key, mode "
                  "or ttl"},
        ErrorCase{"BadIpv4", "server 192.168.1.300",
                  "ntp.conf:1:8: error: '192.168.1.300' is not a valid IPv4 address"},
        ErrorCase{"BadIpv6", "server 2001:db8:::1",
                  "ntp.conf:1:8: error: '2001:db8:::1' is not a valid IPv6 address"},
        ErrorCase{"BadHostname", "server bad!host",
                  "ntp.conf:1:8: error: server expects an address or host name, got 'bad!host'"},
        ErrorCase{"FamilyMismatch", "server -6 192.0.2.1",
                  "ntp.conf:1:11: error: '192.0.2.1' is not an IPv6 address as the -4/-6 before "
                  "it requires"},
        ErrorCase{"PoolRefclock", "pool 127.127.1.0",
                  "ntp.conf:1:6: error: reference clock '127.127.1.0' must be configured with "
                  "'server', not 'pool'"},
        ErrorCase{"BroadcastNeedsNumeric", "broadcast bcast.example",
                  "ntp.conf:1:11: error: broadcast expects a numeric address, got "
                  "'bcast.example'"},
        ErrorCase{"FudgeNotRefclock", "fudge 10.0.0.1 stratum 3",
                  "ntp.conf:1:7: error: fudge expects a reference clock address 127.127.t.u, got "
                  "'10.0.0.1'"},
        ErrorCase{"FudgeStratum", "fudge 127.127.1.0 stratum 16",
                  "ntp.conf:1:27: error: stratum expects an integer 0..15, got '16'"},
        ErrorCase{"FudgeRefid", "fudge 127.127.1.0 refid TOOLONG",
                  "ntp.conf:1:25: error: refid expects 1 to 4 printable characters, got "
                  "'TOOLONG'"},
        ErrorCase{"FudgeFlag", "fudge 127.127.1.0 flag3 2",
                  "ntp.conf:1:25: error: flag3 expects 0 or 1, got '2'"},
        ErrorCase{"FudgeUnknown", "fudge 127.127.1.0 flag5 1",
                  "ntp.conf:1:19: error: unknown fudge option 'flag5'; expected stratum, refid, "
                  "time1, time2 or flag1..flag4"},
        ErrorCase{"DriftfileMissing", "driftfile",
                  "ntp.conf:1:10: error: driftfile expects a file name"},
        ErrorCase{"DriftfileEmpty", "driftfile \"\"",
                  "ntp.conf:1:11: error: driftfile expects a file name, got an empty string"},
        ErrorCase{"DriftfileJunk", "driftfile /d 1e-7 junk",
                  "ntp.conf:1:19: error: driftfile expects a file name and optionally legacy "
                  "numeric arguments, got 'junk'"},
        ErrorCase{"DriftfileTooManyNumbers", "driftfile /d 1 2 3",
                  "ntp.conf:1:18: error: unexpected '3' after '2'"},
        ErrorCase{"LeapfileExtra", "leapfile /a /b",
                  "ntp.conf:1:13: error: unexpected '/b' after '/a'"},
        ErrorCase{"TinkerNegative", "tinker step -1",
                  "ntp.conf:1:13: error: tinker step expects a number >= 0, got '-1'"},
        ErrorCase{"TinkerNan", "tinker panic nan",
                  "ntp.conf:1:14: error: tinker panic expects a number >= 0, got 'nan'"},
        ErrorCase{"TinkerInf", "tinker stepout inf",
                  "ntp.conf:1:16: error: tinker stepout expects a number >= 0, got 'inf'"},
        ErrorCase{"TinkerFreqRange", "tinker freq -600",
                  "ntp.conf:1:13: error: tinker freq expects a number -500..500, got '-600'"},
        ErrorCase{"TinkerUnknown", "tinker speed 1",
                  "ntp.conf:1:8: error: unknown tinker option 'speed'; expected step, stepout, "
                  "panic, dispersion, allan, freq, huffpuff"},
        ErrorCase{"TosOrphan", "tos orphan 16",
                  "ntp.conf:1:12: error: tos orphan expects an integer 1..15, got '16'"},
        ErrorCase{"TosCohort", "tos cohort 2",
                  "ntp.conf:1:12: error: tos cohort expects 0 or 1, got '2'"},
        ErrorCase{"TosMaxdist", "tos maxdist x",
                  "ntp.conf:1:13: error: tos maxdist expects a number >= 0, got 'x'"},
        ErrorCase{"EnableUnknown", "enable auth warp",
                  "ntp.conf:1:13: error: enable expects auth, bclient, calibrate, kernel, "
                  "monitor, ntp, stats, pps, mode7, rtc, got 'warp'"},
        ErrorCase{"MruNegative", "mru maxdepth -1",
                  "ntp.conf:1:14: error: mru maxdepth expects an integer 0 or more, got '-1'"},
        ErrorCase{"TrustedkeyZero", "trustedkey 1 0",
                  "ntp.conf:1:14: error: trustedkey expects key ids 1..65535 or ranges like "
                  "(5 ... 9), got '0'"},
        ErrorCase{"TrustedkeyBackwardsRange", "trustedkey (9 ... 5)",
                  "ntp.conf:1:12: error: trustedkey expects key ids 1..65535 or ranges like "
                  "(5 ... 9) (a range is '(' low '...' high ')')"},
        ErrorCase{"TrustedkeyUnclosedRange", "trustedkey (5 ... 9",
                  "ntp.conf:1:12: error: trustedkey expects key ids 1..65535 or ranges like "
                  "(5 ... 9) (a range is '(' low '...' high ')')"},
        ErrorCase{"ControlkeyRange", "controlkey 70000",
                  "ntp.conf:1:12: error: controlkey expects an integer 1..65535, got '70000'"},
        ErrorCase{"StatisticsUnknown", "statistics loopstats bogusstats",
                  "ntp.conf:1:22: error: statistics expects clockstats, cryptostats, loopstats, "
                  "peerstats, protostats, rawstats, sysstats, timingstats, usestats, got "
                  "'bogusstats'"},
        ErrorCase{"FilegenType", "filegen loopstats type hour",
                  "ntp.conf:1:24: error: filegen type expects none, pid, day, week, month, year, "
                  "age, got 'hour'"},
        ErrorCase{"FilegenFileWithSlash", "filegen loopstats file ../x",
                  "ntp.conf:1:24: error: filegen file expects a name inside statsdir, got '../x'"},
        ErrorCase{"LogconfigBad", "logconfig =sync!",
                  "ntp.conf:1:11: error: logconfig expects classes like =syncall or +clockall, "
                  "got '=sync!'"},
        ErrorCase{"LexError", "keys \"/etc/ntp.keys",
                  "ntp.conf:1:6: error: unterminated quoted string"},
        // Access control: fail closed.
        ErrorCase{"RestrictUnknownFlag", "restrict default nomodfy",
                  "ntp.conf:1:18: error: unknown restrict flag 'nomodfy'; expected ignore, kod, "
                  "limited, lowpriotrap, mssntp, nomodify, nomrulist, noepeer, nopeer, noquery, "
                  "noserve, notrap, notrust, ntpport, version, serverresponse fuzz or ippeerlimit "
                  "N",
                  true},
        ErrorCase{"RestrictMissingTarget", "restrict",
                  "ntp.conf:1:9: error: restrict expects default, source, an address or a host "
                  "name",
                  true},
        ErrorCase{"RestrictBadMask", "restrict 10.0.0.0 mask 255.255.0",
                  "ntp.conf:1:24: error: mask expects an IPv4 mask like 255.255.255.0, got "
                  "'255.255.0'",
                  true},
        ErrorCase{"RestrictMaskFamily", "restrict 10.0.0.0 mask ffff::",
                  "ntp.conf:1:24: error: mask expects an IPv4 mask like 255.255.255.0, got "
                  "'ffff::'",
                  true},
        ErrorCase{"RestrictMaskMissing", "restrict 2001:db8:: mask",
                  "ntp.conf:1:25: error: mask expects an IPv6 mask like ffff:ffff::", true},
        ErrorCase{"RestrictDefaultMask", "restrict default mask 255.0.0.0",
                  "ntp.conf:1:18: error: mask cannot be used with 'default'", true},
        ErrorCase{"RestrictPrefixAndMask", "restrict 10.0.0.0/8 mask 255.0.0.0",
                  "ntp.conf:1:21: error: mask cannot follow an address/prefix", true},
        ErrorCase{"RestrictPrefixTooLong", "restrict 2001:db8::/129",
                  "ntp.conf:1:10: error: prefix length of '2001:db8::/129' must be 0..128", true},
        ErrorCase{"RestrictBadPrefixAddress", "restrict 10.0.0/8",
                  "ntp.conf:1:10: error: expected an address/prefix like 192.0.2.0/24 or "
                  "2001:db8::/32, got '10.0.0/8'",
                  true},
        ErrorCase{"RestrictFamilyMismatch", "restrict -6 10.0.0.1",
                  "ntp.conf:1:13: error: '10.0.0.1' is not an IPv6 address as the -4/-6 before "
                  "it requires",
                  true},
        ErrorCase{"RestrictBadAddress", "restrict 10.0.0.256",
                  "ntp.conf:1:10: error: '10.0.0.256' is not a valid IPv4 address", true},
        ErrorCase{"RestrictServerresponse", "restrict default serverresponse",
                  "ntp.conf:1:32: error: serverresponse expects 'fuzz'", true},
        ErrorCase{"RestrictSourceFamily", "restrict -4 source",
                  "ntp.conf:1:13: error: -4/-6 cannot be used with 'source'", true},
        ErrorCase{"RestrictLexError", "restrict 10.0.0.1 \"noquery",
                  "ntp.conf:1:19: error: unterminated quoted string", true},
        ErrorCase{"RestrictIppeerlimit", "restrict default ippeerlimit x",
                  "ntp.conf:1:30: error: ippeerlimit expects an integer -1..65535, got 'x'", true},
        ErrorCase{"UnrestrictBad", "unrestrict 10.0.0.1 nosuch",
                  "ntp.conf:1:21: error: unknown restrict flag 'nosuch'; expected ignore, kod, "
                  "limited, lowpriotrap, mssntp, nomodify, nomrulist, noepeer, nopeer, noquery, "
                  "noserve, notrap, notrust, ntpport, version, serverresponse fuzz or ippeerlimit "
                  "N",
                  true},
        ErrorCase{"DiscardBadValue", "discard average x",
                  "ntp.conf:1:17: error: average expects an integer 0..17, got 'x'", true},
        ErrorCase{"DiscardUnknown", "discard maximum 3",
                  "ntp.conf:1:9: error: unknown discard option 'maximum'; expected average, "
                  "minimum or monitor",
                  true},
        ErrorCase{"DiscardEmpty", "discard",
                  "ntp.conf:1:8: error: discard expects average, minimum or monitor", true},
        ErrorCase{"InterfaceAction", "interface allow eth0",
                  "ntp.conf:1:11: error: interface expects listen, ignore or drop, got 'allow'",
                  true},
        ErrorCase{"NicBadName", "nic ignore this-name-is-too-long",
                  "ntp.conf:1:12: error: nic ignore expects all, ipv4, ipv6, wildcard, a name or "
                  "an address, got 'this-name-is-too-long'",
                  true},
        ErrorCase{"IncludefileMissingPath", "includefile",
                  "ntp.conf:1:12: error: includefile expects a file name", true}),
    [](const ::testing::TestParamInfo<ErrorCase>& param_info) {
      return std::string(param_info.param.name);
    });

// ---------- warnings: accepted, reported, parsing goes on ----------

struct WarningCase {
  const char* name;
  std::string_view text;
  std::string expected;
};

void PrintTo(const WarningCase& c, std::ostream* os) { *os << c.name; }

class NtpConfWarningTest : public ::testing::TestWithParam<WarningCase> {};

TEST_P(NtpConfWarningTest, WarnsWithoutError) {
  const auto parsed = parse(GetParam().text);
  EXPECT_THAT(messages(parsed), ElementsAre(GetParam().expected));
  EXPECT_FALSE(parsed.has_errors());
  EXPECT_FALSE(parsed.fatal);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NtpConfWarningTest,
    ::testing::Values(
        WarningCase{"Crypto", "crypto pw secret",
                    "ntp.conf:1:1: warning: 'crypto' (Autokey/NTS) is not supported; line ignored"},
        WarningCase{"Revoke", "\nrevoke 17",
                    "ntp.conf:2:1: warning: 'revoke' (Autokey/NTS) is not supported; line ignored"},
        WarningCase{"Nts", "nts enable",
                    "ntp.conf:1:1: warning: 'nts' (Autokey/NTS) is not supported; line ignored"},
        WarningCase{"ServerAutokey", "server a autokey",
                    "ntp.conf:1:10: warning: 'autokey' is not supported; option ignored"},
        WarningCase{"ServerNts", "server time.cloudflare.com nts",
                    "ntp.conf:1:28: warning: 'nts' is not supported; option ignored"},
        WarningCase{"UnsupportedRefclock", "\n\nserver 127.127.20.0 mode 5",
                    "ntp.conf:3:8: warning: reference clock driver type 20 (127.127.20.0) is not "
                    "supported; only the LOCAL clock (127.127.1.u) is; line ignored"},
        WarningCase{"UnsupportedRefclockFudgeIsQuiet",
                    "server 127.127.28.0\nfudge 127.127.28.0 time1 0.5",
                    "ntp.conf:1:8: warning: reference clock driver type 28 (127.127.28.0) is not "
                    "supported; only the LOCAL clock (127.127.1.u) is; line ignored"},
        WarningCase{"FudgeWithoutServer", "server 127.127.1.0\nfudge 127.127.1.1 stratum 3",
                    "ntp.conf:2:7: warning: fudge 127.127.1.1: no 'server 127.127.1.1' is "
                    "configured; ignored"},
        WarningCase{"EnableMode7", "enable mode7",
                    "ntp.conf:1:8: warning: mode 7 is not implemented; 'enable mode7' has no "
                    "effect"},
        WarningCase{"Requestkey", "requestkey 5",
                    "ntp.conf:1:1: warning: requestkey only serves mode 7, which is not "
                    "implemented"},
        WarningCase{"DuplicateServer", "server a.example\nserver A.example iburst",
                    "ntp.conf:2:8: warning: duplicate server 'A.example' (first at ntp.conf:1); "
                    "line ignored"},
        WarningCase{"RepeatedDriftfile", "driftfile /a\ndriftfile /b",
                    "ntp.conf:2:1: warning: driftfile given more than once; the last one wins"},
        WarningCase{"HostBitsOutsideMask", "restrict 192.168.1.5 mask 255.255.255.0",
                    "ntp.conf:1:10: warning: address '192.168.1.5' has bits outside its mask; "
                    "using 192.168.1.0"},
        WarningCase{"UnrestrictWithoutRestrict", "unrestrict 10.0.0.1 noquery",
                    "ntp.conf:1:12: warning: unrestrict '10.0.0.1': no earlier restrict line "
                    "for this target; ignored"},
        WarningCase{"TosMinclockAboveMaxclock", "tos maxclock 3\ntos minclock 5",
                    "ntp.conf:2:1: warning: tos minclock 5 is larger than maxclock 3"},
        WarningCase{"UnsupportedDirective", "setvar foo = bar",
                    "ntp.conf:1:1: warning: 'setvar' is not supported; line ignored"}),
    [](const ::testing::TestParamInfo<WarningCase>& param_info) {
      return std::string(param_info.param.name);
    });

// ---------- associations ----------

TEST(NtpConfAssociationTest, AllOptions) {
  const auto parsed = parse(
      "server -6 ntp.example iburst burst prefer noselect true preempt xleave minpoll 4 "
      "maxpoll 12 version 3 key 42 mode 7 ttl 3\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  const Association& a = parsed.config.associations[0];
  EXPECT_EQ(a.family, AddressFamily::kIpv6);
  EXPECT_TRUE(a.iburst && a.burst && a.prefer && a.noselect && a.true_chimer && a.preempt &&
              a.xleave);
  EXPECT_EQ(a.minpoll_log2s, 4);
  EXPECT_EQ(a.maxpoll_log2s, 12);
  EXPECT_EQ(a.version, 3);
  EXPECT_EQ(a.key_id, 42u);
  EXPECT_EQ(a.mode, 7u);
  EXPECT_EQ(a.ttl, 3);
}

TEST(NtpConfAssociationTest, Kinds) {
  const auto parsed = parse(
      "server s.example\npool p.example\npeer 2001:db8::7\nbroadcast 192.0.2.255 ttl 4\n"
      "manycastclient 239.1.1.1\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 5u);
  const auto& a = parsed.config.associations;
  EXPECT_EQ(a[0].kind, AssociationKind::kServer);
  EXPECT_EQ(a[1].kind, AssociationKind::kPool);
  EXPECT_EQ(a[2].kind, AssociationKind::kPeer);
  EXPECT_EQ(a[2].address->family, AddressFamily::kIpv6);
  EXPECT_EQ(a[3].kind, AssociationKind::kBroadcast);
  EXPECT_EQ(a[4].kind, AssociationKind::kManycastClient);
}

struct PollCase {
  std::string_view options;
  int minpoll_log2s;
  int maxpoll_log2s;
};

class NtpConfPollTest : public ::testing::TestWithParam<PollCase> {};

// As ntpd: an explicit value moves the other default out of its way.
TEST_P(NtpConfPollTest, Reconciles) {
  const auto parsed = parse("server a " + std::string(GetParam().options));
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  EXPECT_EQ(parsed.config.associations[0].minpoll_log2s, GetParam().minpoll_log2s);
  EXPECT_EQ(parsed.config.associations[0].maxpoll_log2s, GetParam().maxpoll_log2s);
}

INSTANTIATE_TEST_SUITE_P(Cases, NtpConfPollTest,
                         ::testing::Values(PollCase{"", 6, 10}, PollCase{"minpoll 3", 3, 10},
                                           PollCase{"minpoll 12", 12, 12},
                                           PollCase{"maxpoll 4", 4, 4},
                                           PollCase{"maxpoll 17", 6, 17},
                                           PollCase{"minpoll 17 maxpoll 17", 17, 17},
                                           PollCase{"maxpoll 8 minpoll 8", 8, 8}));

TEST(NtpConfAssociationTest, BadLineAddsNothing) {
  const auto parsed = parse("server a.example iburst minpoll 99\n");
  EXPECT_TRUE(parsed.has_errors());
  EXPECT_THAT(parsed.config.associations, IsEmpty());
}

TEST(NtpConfRefclockTest, FudgeBeforeServerAndMerging) {
  const auto parsed = parse(
      "fudge 127.127.1.1 stratum 8 refid LCL\n"
      "server 127.127.1.1 prefer\n"
      "fudge 127.127.1.1 stratum 12 time1 -0.25 flag1 1 flag4 0\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  const auto& clock = *parsed.config.associations[0].refclock;
  EXPECT_EQ(clock.unit, 1);
  EXPECT_EQ(clock.fudge.stratum, 12);
  EXPECT_EQ(clock.fudge.refid, "LCL");
  EXPECT_EQ(clock.fudge.time1_s, -0.25);
  EXPECT_EQ(clock.fudge.flags[0], true);
  EXPECT_EQ(clock.fudge.flags[3], false);
  EXPECT_FALSE(clock.fudge.flags[1].has_value());
  EXPECT_TRUE(parsed.config.associations[0].prefer);
}

TEST(NtpConfRefclockTest, UnsupportedDriverIsNotAnAssociation) {
  const auto parsed = parse("server 127.127.22.0\nserver 127.127.1.0\n");
  ASSERT_EQ(parsed.config.associations.size(), 1u);
  EXPECT_EQ(parsed.config.associations[0].host, "127.127.1.0");
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].severity, Severity::kWarning);
  EXPECT_EQ(parsed.diagnostics[0].line, 1);
}

// ---------- restrict ----------

TEST(NtpConfRestrictTest, Targets) {
  const auto parsed = parse(
      "restrict -4 default kod limited\n"
      "restrict -6 default ignore\n"
      "restrict source nomodify noquery\n"
      "restrict 2001:db8:1:: mask ffff:ffff:ffff:: nopeer\n"
      "restrict 10.0.0.0/8 noserve\n"
      "restrict 2001:db8:2::/48 notrust\n"
      "restrict -6 time.example mask ffff:: nomodify\n"
      "restrict ntp.example\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  const auto& r = parsed.config.restrictions;
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].family, AddressFamily::kIpv4);
  EXPECT_TRUE(r[0].flags.kod && r[0].flags.limited);
  EXPECT_EQ(r[1].family, AddressFamily::kIpv6);
  EXPECT_EQ(r[2].target, RestrictTarget::kSource);
  EXPECT_EQ(r[3].mask.to_string(), "ffff:ffff:ffff::");
  EXPECT_EQ(r[3].address.to_string(), "2001:db8:1::");
  EXPECT_EQ(r[4].address, address("10.0.0.0"));
  EXPECT_EQ(r[4].mask.to_string(), "255.0.0.0");
  EXPECT_EQ(r[5].mask.to_string(), "ffff:ffff:ffff::");
  EXPECT_EQ(r[6].target, RestrictTarget::kHostname);
  EXPECT_TRUE(r[6].needs_resolution());
  EXPECT_EQ(r[6].hostname, "time.example");
  EXPECT_EQ(r[6].family, AddressFamily::kIpv6);
  EXPECT_EQ(r[6].hostname_mask->to_string(), "ffff::");
  EXPECT_TRUE(r[7].needs_resolution());
  EXPECT_FALSE(r[7].hostname_mask.has_value());
  EXPECT_FALSE(r[0].needs_resolution());
}

TEST(NtpConfRestrictTest, AllFlags) {
  const auto parsed = parse(
      "restrict default ignore kod limited lowpriotrap mssntp nomodify nomrulist noepeer nopeer "
      "noquery noserve notrap notrust ntpport version serverresponse fuzz ippeerlimit 3\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  ASSERT_EQ(parsed.config.restrictions.size(), 1u);
  const RestrictFlags& f = parsed.config.restrictions[0].flags;
  EXPECT_TRUE(f.ignore && f.kod && f.limited && f.lowpriotrap && f.mssntp && f.nomodify &&
              f.nomrulist && f.noepeer && f.nopeer && f.noquery && f.noserve && f.notrap &&
              f.notrust && f.ntpport && f.version && f.serverresponse_fuzz);
  EXPECT_EQ(parsed.config.restrictions[0].ippeerlimit, 3);
}

// ntpd ORs the flags of repeated lines for one target; unrestrict clears.
TEST(NtpConfRestrictTest, MergesAndUnrestricts) {
  const auto parsed = parse(
      "restrict 192.0.2.0 mask 255.255.255.0 nomodify\n"
      "restrict 192.0.2.0 mask 255.255.255.0 noquery notrap\n"
      "restrict 192.0.2.0 nopeer\n"
      "unrestrict 192.0.2.0 mask 255.255.255.0 notrap\n"
      "restrict 192.0.2.0 nopeer unrestrict\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  const auto& r = parsed.config.restrictions;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].flags.nomodify && r[0].flags.noquery);
  EXPECT_FALSE(r[0].flags.notrap);
  EXPECT_EQ(r[0].location.line, 1);
  EXPECT_EQ(r[1].mask.to_string(), "255.255.255.255");
  EXPECT_FALSE(r[1].flags.nopeer);
}

TEST(NtpConfRestrictTest, FatalEvenWhenOtherLinesAreFine) {
  const auto parsed = parse("restrict default noquery\nrestrict 10.0.0.1 nomodfy\nserver a\n");
  EXPECT_TRUE(parsed.fatal);
  EXPECT_EQ(parsed.config.restrictions.size(), 1u);
  EXPECT_EQ(parsed.config.associations.size(), 1u);
}

TEST(NtpConfRestrictTest, DiscardAndInterface) {
  const auto parsed = parse(
      "discard average 3 minimum 1\ndiscard monitor 3000\n"
      "interface listen eth0\nnic ignore ipv6\ninterface drop 192.0.2.0/24\n"
      "interface listen 2001:db8::1\ninterface ignore wildcard\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  const auto& c = parsed.config;
  ASSERT_TRUE(c.discard.has_value());
  EXPECT_EQ(c.discard->average_log2s, 3);
  EXPECT_EQ(c.discard->minimum_s, 1);
  EXPECT_EQ(c.discard->monitor_s, 3000);
  ASSERT_EQ(c.interfaces.size(), 5u);
  EXPECT_EQ(c.interfaces[0].match, InterfaceMatch::kName);
  EXPECT_EQ(c.interfaces[0].name, "eth0");
  EXPECT_EQ(c.interfaces[1].action, InterfaceAction::kIgnore);
  EXPECT_EQ(c.interfaces[1].match, InterfaceMatch::kIpv6);
  EXPECT_EQ(c.interfaces[2].action, InterfaceAction::kDrop);
  EXPECT_EQ(c.interfaces[2].prefix_len, 24);
  EXPECT_EQ(c.interfaces[3].prefix_len, 128);
  EXPECT_EQ(c.interfaces[4].match, InterfaceMatch::kWildcard);
}

// ---------- system settings ----------

TEST(NtpConfSystemTest, Everything) {
  const auto parsed = parse(
      "keys /etc/ntp.keys\ntrustedkey 1 2 (5 ... 9) (20...21) 2\ncontrolkey 3\n"
      "leapfile /usr/share/zoneinfo/leap-seconds.list\nlogfile /var/log/ntp.log\n"
      "statsdir /var/log/ntpstats/\npidfile /run/ntpd.pid\n"
      "tinker step 0.5 panic 0 freq -12.5\ntinker stepout 900 dispersion 15 allan 1500 "
      "huffpuff 7200\n"
      "tos orphan 10 orphanwait 300 mindist 0.01 maxdist 1.5 floor 1 ceiling 15 cohort 1 beacon "
      "3600\n"
      "enable kernel stats\ndisable monitor auth\nbroadcastclient novolley\n"
      "mru maxdepth 1000 maxmem 1024 mindepth 600 maxage 64 minage 32 initalloc 100 initmem 10 "
      "incalloc 50 incmem 5\n"
      "statistics loopstats peerstats\nstatistics loopstats sysstats\n"
      "filegen loopstats file loops type week link enable\nfilegen loopstats nolink disable\n"
      "logconfig =syncall +clockall -peerinfo\n"
      "driftfile /var/lib/ntp/drift 10 1e-7\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  const NtpConfig& c = parsed.config;
  EXPECT_EQ(c.keys_file, "/etc/ntp.keys");
  EXPECT_THAT(c.trusted_keys, ElementsAre(1u, 2u, 5u, 6u, 7u, 8u, 9u, 20u, 21u));
  EXPECT_EQ(c.control_key, 3u);
  EXPECT_EQ(c.leap_file, "/usr/share/zoneinfo/leap-seconds.list");
  EXPECT_EQ(c.log_file, "/var/log/ntp.log");
  EXPECT_EQ(c.stats_dir, "/var/log/ntpstats/");
  EXPECT_EQ(c.pid_file, "/run/ntpd.pid");
  EXPECT_EQ(c.tinker.step_s, 0.5);
  EXPECT_EQ(c.tinker.panic_s, 0.0);
  EXPECT_EQ(c.tinker.freq_ppm, -12.5);
  EXPECT_EQ(c.tinker.stepout_s, 900.0);
  EXPECT_EQ(c.tinker.dispersion_ppm, 15.0);
  EXPECT_EQ(c.tinker.allan_s, 1500.0);
  EXPECT_EQ(c.tinker.huffpuff_s, 7200.0);
  EXPECT_EQ(c.tos.orphan, 10);
  EXPECT_EQ(c.tos.orphanwait_s, 300);
  EXPECT_EQ(c.tos.mindist_s, 0.01);
  EXPECT_EQ(c.tos.maxdist_s, 1.5);
  EXPECT_EQ(c.tos.floor, 1);
  EXPECT_EQ(c.tos.ceiling, 15);
  EXPECT_EQ(c.tos.cohort, true);
  EXPECT_EQ(c.tos.beacon_s, 3600);
  EXPECT_EQ(c.flags.kernel, true);
  EXPECT_EQ(c.flags.stats, true);
  EXPECT_EQ(c.flags.monitor, false);
  EXPECT_EQ(c.flags.auth, false);
  EXPECT_FALSE(c.flags.ntp.has_value());
  EXPECT_TRUE(c.broadcast_client);
  EXPECT_TRUE(c.broadcast_client_novolley);
  ASSERT_TRUE(c.mru.has_value());
  EXPECT_EQ(c.mru->maxdepth, 1000);
  EXPECT_EQ(c.mru->incmem_kib, 5);
  EXPECT_THAT(c.statistics, ElementsAre("loopstats", "peerstats", "sysstats"));
  ASSERT_EQ(c.filegens.size(), 1u);
  EXPECT_EQ(c.filegens[0].file, "loops");
  EXPECT_EQ(c.filegens[0].type, FilegenType::kWeek);
  EXPECT_EQ(c.filegens[0].link, false);
  EXPECT_EQ(c.filegens[0].enabled, false);
  EXPECT_THAT(c.log_config, ElementsAre("=syncall", "+clockall", "-peerinfo"));
  EXPECT_EQ(c.drift_file, "/var/lib/ntp/drift");
}

TEST(NtpConfSystemTest, BadTinkerLineChangesNothing) {
  const auto parsed = parse("tinker step 1 panic -5\n");
  EXPECT_TRUE(parsed.has_errors());
  EXPECT_FALSE(parsed.fatal);
  EXPECT_FALSE(parsed.config.tinker.step_s.has_value());
}

TEST(NtpConfSystemTest, WholeTrustedKeyRange) {
  const auto parsed = parse("trustedkey (1 ... 65535)\ntrustedkey (1 ... 65535)\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_EQ(parsed.config.trusted_keys.size(), 65535u);
  EXPECT_EQ(parsed.config.trusted_keys.back(), 65535u);
}

TEST(NtpConfSystemTest, QuotedPathWithSpaces) {
  const auto parsed = parse("driftfile \"/var/lib/my ntp/ntp.drift\" # note\n");
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_EQ(parsed.config.drift_file, "/var/lib/my ntp/ntp.drift");
}

// ---------- includefile ----------

TEST(NtpConfIncludeTest, RelativeToTheIncludingFile) {
  FakeFiles fs;
  fs.files["/etc/ntp/conf.d/servers.conf"] = "server a.example\nincludefile ../acl.conf\n";
  fs.files["/etc/ntp/conf.d/../acl.conf"] = "restrict default noquery\nbogus\n";
  const auto parsed = parse_ntp_conf_text(
      "/etc/ntp/ntp.conf", "driftfile /d\nincludefile conf.d/servers.conf\nserver b.example\n",
      fs.reader());
  EXPECT_THAT(fs.reads, ElementsAre("/etc/ntp/conf.d/servers.conf", "/etc/ntp/conf.d/../acl.conf"));
  EXPECT_THAT(messages(parsed), ElementsAre("/etc/ntp/conf.d/../acl.conf:2:1: error: unknown "
                                            "directive 'bogus'"));
  EXPECT_FALSE(parsed.fatal);
  ASSERT_EQ(parsed.config.associations.size(), 2u);
  EXPECT_EQ(parsed.config.associations[0].location,
            (SourceLocation{"/etc/ntp/conf.d/servers.conf", 1}));
  EXPECT_EQ(parsed.config.associations[1].host, "b.example");
  EXPECT_EQ(parsed.config.restrictions.size(), 1u);
}

TEST(NtpConfIncludeTest, AbsolutePath) {
  FakeFiles fs;
  fs.files["/srv/extra.conf"] = "server c.example\n";
  const auto parsed =
      parse_ntp_conf_text("conf/ntp.conf", "includefile /srv/extra.conf\n", fs.reader());
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_EQ(parsed.config.associations.size(), 1u);
}

TEST(NtpConfIncludeTest, SelfIncludeIsAnErrorNotAHang) {
  FakeFiles fs;
  fs.files["/etc/ntp.conf"] = "server a\nincludefile ./ntp.conf\n";
  const auto parsed = parse_ntp_conf("/etc/ntp.conf", fs.reader());
  EXPECT_THAT(messages(parsed),
              ElementsAre("/etc/ntp.conf:2:13: error: includefile '/etc/./ntp.conf' includes "
                          "itself (directly or through a cycle)"));
  EXPECT_EQ(parsed.config.associations.size(), 1u);
  EXPECT_TRUE(parsed.fatal);
}

TEST(NtpConfIncludeTest, CycleThroughAnotherFile) {
  FakeFiles fs;
  fs.files["/e/a.conf"] = "includefile b.conf\n";
  fs.files["/e/b.conf"] = "server b\nincludefile /e/a.conf\n";
  const auto parsed = parse_ntp_conf("/e/a.conf", fs.reader());
  EXPECT_THAT(messages(parsed), ElementsAre("/e/b.conf:2:13: error: includefile '/e/a.conf' "
                                            "includes itself (directly or through a cycle)"));
  EXPECT_EQ(parsed.config.associations.size(), 1u);
}

TEST(NtpConfIncludeTest, DepthLimit) {
  FakeFiles fs;
  for (int i = 1; i <= 12; ++i) {
    fs.files["/d/" + std::to_string(i)] = "includefile " + std::to_string(i + 1) + "\n";
  }
  const auto parsed = parse_ntp_conf_text("/d/0", "includefile 1\n", fs.reader());
  EXPECT_THAT(messages(parsed), ElementsAre("/d/8:1:13: error: includefile '/d/9' is nested "
                                            "deeper than 8 levels"));
  EXPECT_TRUE(parsed.fatal);
  EXPECT_EQ(fs.reads.size(), 8u);
}

TEST(NtpConfIncludeTest, TotalIncludeLimit) {
  FakeFiles fs;
  std::string main;
  for (int i = 0; i < 70; ++i) {
    main += "includefile f" + std::to_string(i) + "\n";
    fs.files["f" + std::to_string(i)] = "server s" + std::to_string(i) + ".example\n";
  }
  const auto parsed = parse_ntp_conf_text("main", main, fs.reader());
  EXPECT_EQ(fs.reads.size(), static_cast<std::size_t>(kMaxIncludedFiles));
  EXPECT_EQ(parsed.config.associations.size(), static_cast<std::size_t>(kMaxIncludedFiles));
  EXPECT_TRUE(parsed.fatal);
  ASSERT_EQ(parsed.diagnostics.size(), 6u);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            "main:65:13: error: includefile 'f64': more than 64 files included");
}

// Every file includes every file: bounded by the cycle check and the total.
TEST(NtpConfIncludeTest, FanOutStaysBounded) {
  FakeFiles fs;
  std::string fan_out;
  for (int i = 0; i < 10; ++i) fan_out += "includefile f" + std::to_string(i) + "\n";
  for (int i = 0; i < 10; ++i) fs.files["f" + std::to_string(i)] = fan_out;
  const auto parsed = parse_ntp_conf_text("main", fan_out, fs.reader());
  EXPECT_EQ(fs.reads.size(), static_cast<std::size_t>(kMaxIncludedFiles));
  EXPECT_TRUE(parsed.fatal);
}

TEST(NtpConfIncludeTest, UnreadableIncludeIsFatal) {
  FakeFiles fs;
  const auto parsed = parse_ntp_conf_text("/etc/ntp.conf", "includefile acl.conf\n", fs.reader());
  EXPECT_THAT(messages(parsed), ElementsAre("/etc/ntp.conf:1:13: error: includefile cannot read "
                                            "'/etc/acl.conf': No such file or directory"));
  EXPECT_TRUE(parsed.fatal);
}

TEST(NtpConfIncludeTest, NoReaderMeansUnreadable) {
  const auto parsed = parse_ntp_conf_text("ntp.conf", "includefile x\n", nullptr);
  EXPECT_TRUE(parsed.fatal);
  EXPECT_THAT(messages(parsed), ElementsAre(HasSubstr("unknown error")));
}

// ---------- limits ----------

TEST(NtpConfLimitsTest, TooLargeTextIsFatal) {
  const std::string text(kMaxConfigFileBytes + 1, '#');
  const auto parsed = parse(text);
  EXPECT_TRUE(parsed.fatal);
  EXPECT_THAT(messages(parsed), ElementsAre("ntp.conf: error: file is larger than 1048576 bytes"));
}

TEST(NtpConfLimitsTest, DiagnosticsAreCapped) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "junk\n";
  const auto parsed = parse(text);
  ASSERT_EQ(parsed.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(parsed.diagnostics.back().severity, Severity::kError);
  EXPECT_EQ(parsed.diagnostics.back().to_string(),
            "ntp.conf: error: 800 more diagnostics not shown (800 of them errors)");
}

TEST(NtpConfDiagnosticTest, ToString) {
  ConfigDiagnostic d{Severity::kWarning, "a.conf", 3, 9, "hm"};
  EXPECT_EQ(d.to_string(), "a.conf:3:9: warning: hm");
  d.column = 0;
  EXPECT_EQ(d.to_string(), "a.conf:3: warning: hm");
  d.line = 0;
  d.severity = Severity::kError;
  EXPECT_EQ(d.to_string(), "a.conf: error: hm");
}

// ---------- describe_config ----------

TEST(NtpConfDescribeTest, RelayServer) {
  const auto parsed = parse(
      "driftfile /var/lib/ntp/ntp.drift\nserver 0.pool.ntp.org iburst\n"
      "restrict default nomodify notrap nopeer noquery\nrestrict 127.0.0.1\nrestrict ::1\n"
      "restrict 192.168.1.0 mask 255.255.255.0 nomodify notrap\n"
      "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n");
  EXPECT_EQ(describe_config(parsed.config),
            "driftfile /var/lib/ntp/ntp.drift\n"
            "server 0.pool.ntp.org iburst\n"
            "server 127.127.1.0\n"
            "fudge 127.127.1.0 stratum 10\n"
            "restrict default nomodify nopeer noquery notrap\n"
            "restrict 127.0.0.1\n"
            "restrict ::1\n"
            "restrict 192.168.1.0 mask 255.255.255.0 nomodify notrap\n");
}

// describe -> parse -> describe is a fixed point, with no new diagnostics.
TEST(NtpConfDescribeTest, RoundTrip) {
  const std::string text =
      "driftfile \"/var/lib/my ntp/drift\"\nleapfile /l\nkeys /k\nlogfile /lg\nstatsdir /s/\n"
      "pidfile /p\ntrustedkey 1 3 4 (10 ... 20)\ncontrolkey 3\n"
      "tinker step 0.125 panic 0 freq -1e-3\ntos minclock 3 maxclock 9 mindist 0.005 cohort 0\n"
      "enable kernel\ndisable monitor\nbroadcastclient\nmru maxdepth 5\nlogconfig =allall\n"
      "statistics loopstats\nfilegen loopstats file l type day link enable\nfilegen peerstats\n"
      "server -4 a.example iburst prefer minpoll 4 maxpoll 8 version 3 key 9\n"
      "pool p.example\npeer 2001:db8::1 xleave\nbroadcast 192.0.2.255 ttl 2 mode 1\n"
      "server 127.127.1.2\nfudge 127.127.1.2 stratum 9 refid ABCD time1 0.1 time2 -2 flag2 1\n"
      "discard average 4 minimum 2 monitor 100\n"
      "restrict -6 default kod\nrestrict default ignore\nrestrict source nopeer ippeerlimit -1\n"
      "restrict 10.0.0.0/8 noquery serverresponse fuzz\nrestrict 2001:db8::/32 nomodify\n"
      "restrict host.example mask 255.255.0.0 notrust\nrestrict -6 host6.example\n"
      "interface listen eth0\ninterface ignore 192.0.2.0/24\ninterface drop all\n";
  const auto first = parse(text);
  EXPECT_THAT(messages(first), IsEmpty());
  const std::string described = describe_config(first.config);
  const auto second = parse(described);
  EXPECT_THAT(messages(second), IsEmpty()) << described;
  EXPECT_EQ(describe_config(second.config), described);
  EXPECT_THAT(described, HasSubstr("driftfile \"/var/lib/my ntp/drift\"\n"));
  EXPECT_THAT(described, HasSubstr("trustedkey 1 3 4 (10 ... 20)\n"));
  EXPECT_THAT(described, HasSubstr("tinker step 0.125 panic 0 freq -0.001\n"));
  EXPECT_THAT(described,
              HasSubstr("restrict 10.0.0.0 mask 255.0.0.0 noquery serverresponse fuzz\n"));
  EXPECT_THAT(described, HasSubstr("interface ignore 192.0.2.0/24\n"));
}

TEST(NtpConfDescribeTest, EmptyConfig) { EXPECT_EQ(describe_config(NtpConfig{}), ""); }

// ---------- read_text_file (the I/O shell) ----------

class TextFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ntp_conf_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const auto& file : files_) ::unlink(file.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(TextFileTest, ReadsAndParsesFromDisk) {
  write("acl.conf", "restrict default noquery\n");
  const std::string main = write("ntp.conf", "server a.example\nincludefile acl.conf\n");
  const auto parsed = parse_ntp_conf(main, read_text_file);
  EXPECT_THAT(messages(parsed), IsEmpty());
  EXPECT_EQ(parsed.config.restrictions.size(), 1u);
}

TEST_F(TextFileTest, Errors) {
  std::string error;
  EXPECT_FALSE(read_text_file(dir_ + "/missing", &error).has_value());
  EXPECT_EQ(error, "No such file or directory");
  EXPECT_FALSE(read_text_file(dir_, &error).has_value());
  EXPECT_EQ(error, "not a regular file");
  const std::string big = write("big", std::string(100, 'x'));
  EXPECT_FALSE(read_text_file_at_most(big, 99, &error).has_value());
  EXPECT_EQ(error, "larger than 99 bytes");
  EXPECT_EQ(read_text_file_at_most(big, 100, nullptr), std::string(100, 'x'));
}

}  // namespace
}  // namespace ntpd::common
