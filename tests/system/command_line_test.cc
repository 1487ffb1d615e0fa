// ntpd's command line as an operator meets it: exit statuses, where usage
// and errors are printed, a missing user, and a second ntpd started while
// one runs (refused for the pid file, or for port 123). Each case runs as
// root of a private namespace, so no case can reach the host's port or clock.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <map>
#include <sstream>

#include "tests/system/daemon_fixture.h"

namespace ntpd::systest {
namespace {

struct CommandResult {
  std::optional<int> status;  // wait status; nullopt if it had to be killed
  std::string out, err;
};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_EQ(::mkdir(dir_.file("jail").c_str(), 0755), 0);
    ASSERT_TRUE(write_file(dir_.file("ntp.conf"), demo_config_text()));
  }

  // Runs `ntpd ARGS` (ARGS already quoted as needed) with stdout and stderr
  // captured separately.
  CommandResult run_ntpd(const std::string& args) {
    const std::string script = "exec " + quoted(bin_path("ntpd")) + " " + args + " >" +
                               quoted(dir_.file("stdout")) + " 2>" + quoted(dir_.file("stderr"));
    CommandResult result;
    std::string error;
    result.status =
        run_shell_in_namespace(script, dir_.file("shell.txt"), milliseconds(10000), &error);
    EXPECT_TRUE(result.status.has_value()) << error;
    result.out = read_file(dir_.file("stdout")).value_or("");
    result.err = read_file(dir_.file("stderr")).value_or("");
    return result;
  }

  // Options for a real start in this directory, minus user and log file.
  std::string start_args() const {
    return "-n -c " + quoted(dir_.file("ntp.conf")) + " --no-clock-control -i " +
           quoted(dir_.file("jail"));
  }

  static int exit_code(const CommandResult& r) {
    return r.status && WIFEXITED(*r.status) ? WEXITSTATUS(*r.status) : -1;
  }

  TempDir dir_;
};

TEST_F(CommandLineTest, UnknownOptionExits2WithUsageOnStderr) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd("--no-such-option");
  EXPECT_EQ(exit_code(r), 2) << describe_wait_status(r.status.value_or(-1));
  EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: ntpd"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CommandLineTest, MissingArgumentExits2NamingTheOption) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd("-c");
  EXPECT_EQ(exit_code(r), 2);
  EXPECT_NE(r.err.find("-c/--configfile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: ntpd"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CommandLineTest, HelpExits0WithUsageOnStdout) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd("--help");
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_EQ(r.out.rfind("usage: ntpd", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("--configfile"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CommandLineTest, VersionExits0) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd("--version");
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_EQ(r.out, "ntpd " NTPD_VERSION "\n");
  EXPECT_EQ(r.err, "");
}

// Started by hand in the foreground with no log file, an operator must see
// why ntpd refused to start on the terminal.
TEST_F(CommandLineTest, MissingUserIsNamedOnStderr) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd(start_args() + " -u no-such-user-xyz");
  EXPECT_NE(exit_code(r), 0);
  EXPECT_NE(r.err.find("no-such-user-xyz"), std::string::npos)
      << "stderr: '" << r.err << "' stdout: '" << r.out << "'";
}

TEST_F(CommandLineTest, MissingUserIsNamedInLogFile) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const auto r = run_ntpd(start_args() + " -u no-such-user-xyz -l " + quoted(dir_.file("log")));
  EXPECT_NE(exit_code(r), 0);
  const std::string log = read_file(dir_.file("log")).value_or("");
  EXPECT_NE((log + r.err).find("user 'no-such-user-xyz'"), std::string::npos) << log << r.err;
}

std::map<std::string, std::string> parse_results(const std::string& text) {
  std::map<std::string, std::string> values;
  for (const std::string& line : split_lines(text)) {
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

// Two ntpd in one namespace: the second is refused, first for the pid file
// the first one holds, then (with its own pid file) for port 123.
TEST_F(CommandLineTest, SecondInstanceIsRefused) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  const std::string d = dir_.path();
  const std::string ntpd = quoted(bin_path("ntpd"));
  const std::string common = start_args() + " -u nobody:nogroup";
  std::ostringstream script;
  script << "D=" << quoted(d) << "\n"
         << ntpd << " " << common << " -l \"$D/first.log\" -p \"$D/first.pid\""
         << " >\"$D/first.out\" 2>&1 &\n"
         << "echo \"first_pid=$!\" >\"$D/results\"\n"
         << "i=0\n"
         << "while ! grep -q 'START: ntpd' \"$D/first.log\" 2>/dev/null; do\n"
         << "  i=$((i+1)); if [ $i -gt 250 ]; then echo started=0 >>\"$D/results\"; exit 3; fi\n"
         << "  sleep 0.02\n"
         << "done\n"
         << "echo started=1 >>\"$D/results\"\n"
         << "timeout -s KILL 5 " << ntpd << " " << common
         << " -l \"$D/second.log\" -p \"$D/first.pid\" >\"$D/second.out\" 2>&1\n"
         << "echo \"same_pid_file=$?\" >>\"$D/results\"\n"
         << "timeout -s KILL 5 " << ntpd << " " << common
         << " -l \"$D/third.log\" -p \"$D/third.pid\" >\"$D/third.out\" 2>&1\n"
         << "echo \"other_pid_file=$?\" >>\"$D/results\"\n"
         << "echo \"first_pid_file=$(cat \"$D/first.pid\")\" >>\"$D/results\"\n"
         << "if [ -e \"$D/third.pid\" ]; then echo third_pid_left=1; else echo third_pid_left=0; fi"
         << " >>\"$D/results\"\n";
  std::string error;
  const auto status =
      run_shell_in_namespace(script.str(), dir_.file("shell.txt"), milliseconds(20000), &error);
  ASSERT_TRUE(status.has_value()) << error;
  const auto values = parse_results(read_file(dir_.file("results")).value_or(""));
  auto result = [&values](const std::string& key) {
    auto it = values.find(key);
    return it == values.end() ? std::string("<missing>") : it->second;
  };
  ASSERT_EQ(result("started"), "1") << read_file(dir_.file("first.log")).value_or("")
                                    << read_file(dir_.file("first.out")).value_or("");

  const std::string second = read_file(dir_.file("second.log")).value_or("") +
                             read_file(dir_.file("second.out")).value_or("");
  EXPECT_NE(result("same_pid_file"), "0");
  EXPECT_NE(result("same_pid_file"), "137") << "second ntpd kept running";
  EXPECT_NE(second.find("another ntpd (pid " + result("first_pid") + ") is running"),
            std::string::npos)
      << second;
  EXPECT_NE(second.find(d + "/first.pid"), std::string::npos) << second;
  // The refused start left the first one's pid file alone.
  EXPECT_EQ(result("first_pid_file"), result("first_pid"));

  const std::string third = read_file(dir_.file("third.log")).value_or("") +
                            read_file(dir_.file("third.out")).value_or("");
  EXPECT_NE(result("other_pid_file"), "0");
  EXPECT_NE(result("other_pid_file"), "137") << "third ntpd kept running";
  EXPECT_NE(third.find("port 123"), std::string::npos) << third;
  EXPECT_NE(third.find("in use"), std::string::npos) << third;
  EXPECT_EQ(result("third_pid_left"), "0") << "a refused start left its pid file";
}

}  // namespace
}  // namespace ntpd::systest
