// The clock process against a hostile ntpd-net (fake_net_main.cc): garbage,
// wrong versions, truncation, oversize, out-of-range and missing fields,
// wrong wire types, wrong-direction messages, log injection, a descriptor
// and a flood. It must survive, count exactly, log sanely and act on nothing.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/system/daemon_fixture.h"
#include "tests/system/fake_net_plan.h"

namespace ntpd::systest {
namespace {

namespace plan = fake_plan;

// ntpd-clock/validate.cc: kSampleBurst (bucket size) and one token per second.
constexpr int kSampleBurst = 8;

std::map<std::string, std::string> parse_result(const std::string& output) {
  std::map<std::string, std::string> values;
  const std::size_t at = output.find("FAKE-RESULT ");
  if (at == std::string::npos) return values;
  std::istringstream line(output.substr(at + 12, output.find('\n', at) - at - 12));
  std::string pair;
  while (line >> pair) {
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos) values[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return values;
}

long number(const std::map<std::string, std::string>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? -1 : std::stol(it->second);
}

// The first byte that is a control character other than the line break.
std::optional<std::size_t> first_control_byte(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n') continue;
    if (byte < 0x20 || byte == 0x7f) return i;
  }
  return std::nullopt;
}

bool clock_holds(pid_t clock, const std::string& target) {
  for (int fd = 0; fd < 1024; ++fd) {
    if (proc_link(clock, "fd/" + std::to_string(fd)) == target) return true;
  }
  return false;
}

TEST(IpcHostileTest, ClockSurvivesCountsExactlyAndLogsSafely) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  DaemonPair pair;
  std::string error;
  ASSERT_TRUE(pair.start({bin_path("ntpd-fake-net"), std::nullopt, {}}, &error)) << error;
  const auto fake = pair.wait_for_net(milliseconds(5000));
  ASSERT_TRUE(fake.has_value()) << pair.log_text() << pair.output_text();
  ASSERT_TRUE(pair.wait_for_output("FAKE-RESULT", milliseconds(20000)))
      << pair.output_text() << pair.log_text();
  ASSERT_EQ(pair.output_text().find("FAKE-ERROR"), std::string::npos) << pair.output_text();
  const auto result = parse_result(pair.output_text());

  // The clock process is alive, and so is the same fake: nothing crashed,
  // nothing was restarted.
  EXPECT_TRUE(pair.clock_alive());
  EXPECT_FALSE(process_gone(*fake));
  EXPECT_EQ(child_pids(pair.clock_pid()), std::vector<pid_t>{*fake});

  // The premise of the exact counts: the flood reached the bucket within
  // one refill interval of the control sample.
  ASSERT_LT(number(result, "control_to_flood_end_ms"), 800) << "test machine too slow";
  EXPECT_EQ(number(result, "invalid_sent"), plan::kInvalidMessages);
  EXPECT_EQ(number(result, "control_accepted"), plan::kControlSamples);
  EXPECT_EQ(number(result, "control_rejected"), 0);
  // Invalid messages never reach the bucket; the flood gets what is left
  // of the burst; after the pause exactly one token was earned.
  const long flood_accepted = kSampleBurst - plan::kControlSamples;
  const long rejected = plan::kInvalidMessages + plan::kFloodSamples - flood_accepted;
  EXPECT_EQ(number(result, "after_flood_accepted"), plan::kControlSamples + flood_accepted);
  // The last reply during the flood answers its last accepted sample: every
  // invalid message was counted before it, the flood's rejections after.
  EXPECT_EQ(number(result, "after_flood_rejected"), plan::kInvalidMessages);
  EXPECT_EQ(number(result, "final_reply"), 1) << "the final valid sample got no ClockState";
  EXPECT_EQ(number(result, "accepted"),
            plan::kControlSamples + flood_accepted + plan::kFinalSamples);
  EXPECT_EQ(number(result, "rejected"), rejected);
  EXPECT_GE(number(result, "rejected"), plan::kInvalidMessages);

  // The descriptor the fake attached is not in the clock process.
  const auto passed = result.find("passed_fd");
  ASSERT_NE(passed, result.end());
  EXPECT_FALSE(clock_holds(pair.clock_pid(), passed->second))
      << "clock process holds " << passed->second;

  const std::string log = pair.log_text();
  // Every kind of rejection is logged, each once: a flood of bad messages
  // cannot flood the log.
  EXPECT_EQ(count_occurrences(log, "rejected message from ntpd-net"), 6u) << log;
  for (const char* kind : {"(undecodable)", "(oversized)", "(unexpected type)", "(missing field)",
                           "(out of range)", "(rate limited)"}) {
    EXPECT_EQ(count_occurrences(log, std::string("rejected message from ntpd-net ") + kind), 1u)
        << kind << "\n"
        << log;
  }
  // The hostile log record arrives as one sanitized, capped line.
  std::size_t marker_lines = 0;
  for (const std::string& line : split_lines(log)) {
    EXPECT_NE(line.rfind("FAKE-INJECTED", 0), 0u) << "forged line start: " << line;
    if (line.find(plan::kHostileLogMarker) == std::string::npos) continue;
    ++marker_lines;
    EXPECT_NE(line.find("[net] "), std::string::npos) << line;
    EXPECT_NE(line.find("FAKE-INJECTED [clock] EXIT: forged line"), std::string::npos) << line;
    EXPECT_LT(line.size(), 700u) << "10 KB log record was not capped";
  }
  EXPECT_EQ(marker_lines, 1u) << log;
  EXPECT_EQ(first_control_byte(log), std::nullopt) << "control byte in the log";
  EXPECT_EQ(first_control_byte(pair.output_text()), std::nullopt) << "control byte in output";
  // No restart, no crash, no sandbox kill of either process.
  EXPECT_EQ(count_occurrences(log, "START: ntpd"), 1u) << log;
  EXPECT_EQ(log.find("SUPERVISE:"), std::string::npos) << log;
  EXPECT_EQ(log.find("seccomp killed"), std::string::npos) << log;
  EXPECT_EQ(log.find("notice: EXIT:"), std::string::npos) << log;
  EXPECT_TRUE(sanitizer_reports(pair.output_text()).empty()) << pair.output_text();
}

}  // namespace
}  // namespace ntpd::systest
