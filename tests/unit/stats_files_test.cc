// loopstats: exact lines as ntpd prints them, file-generation names, and the
// writer's generations and link, in a temporary statsdir.
#include "ntpd-clock/stats_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace ntpd::clock {
namespace {

using common::FilegenType;
using common::kNsPerSecond;
using common::UnixNs;

constexpr std::int64_t kMjd60000 = (60'000 - 40'587) * std::int64_t{86'400};  // unix seconds

UnixNs at(std::int64_t unix_s, std::int64_t extra_ns = 0) {
  return UnixNs{unix_s * kNsPerSecond + extra_ns};
}

struct LineCase {
  const char* name;
  LoopStatsRecord record;
  const char* line;
};

TEST(LoopStatsLineTest, ExactNtpdFormat) {
  const LineCase cases[] = {
      {"typical",
       {at(kMjd60000 + 3600, 123'000'000), 12'345, -12'345, 1'234, 12, 6},
       "60000 3600.123 0.000012345 -12.345 0.000001234 0.012000 6\n"},
      {"midnight, zeros",
       {at(kMjd60000), 0, 0, 0, 0, 4},
       "60000 0.000 0.000000000 0.000 0.000000000 0.000000 4\n"},
      {"negative offset",
       {at(kMjd60000 + 1), -500'000'000, 500'000, 1, 1'234'567, 10},
       "60000 1.000 -0.500000000 500.000 0.000000001 1234.567000 10\n"},
      {"tiny negatives",
       {at(kMjd60000 + 1), -1, -1, 0, 0, 6},
       "60000 1.000 -0.000000001 -0.001 0.000000000 0.000000 6\n"},
      {"big step",
       {at(kMjd60000 + 86'399, 999'000'000), 1'500'000'000'000, 0, 0, 0, 6},
       "60000 86399.999 1500.000000000 0.000 0.000000000 0.000000 6\n"},
      {"ms rounds half up",
       {at(kMjd60000 + 7, 500'000), 0, 0, 0, 0, 6},
       "60000 7.001 0.000000000 0.000 0.000000000 0.000000 6\n"},
      {"ms rounds down",
       {at(kMjd60000 + 7, 499'999), 0, 0, 0, 0, 6},
       "60000 7.000 0.000000000 0.000 0.000000000 0.000000 6\n"},
      {"carries like ulfptoa",
       {at(kMjd60000 + 86'399, 999'600'000), 0, 0, 0, 0, 6},
       "60000 86400.000 0.000000000 0.000 0.000000000 0.000000 6\n"},
      {"before 1970",
       {at(-1), 0, 0, 0, 0, 6},
       "40586 86399.000 0.000000000 0.000 0.000000000 0.000000 6\n"},
      {"extremes",
       {at(kMjd60000), INT64_MIN, INT64_MAX, 0, 0, 17},
       "60000 0.000 -9223372036.854775808 9223372036854775.807 0.000000000 0.000000 17\n"},
  };
  for (const LineCase& c : cases) EXPECT_EQ(format_loopstats_line(c.record), c.line) << c.name;
}

TEST(LoopStatsLineTest, MatchesNtpdsPrintfOnDoubles) {
  // What ntpd does: fprintf("%.9f %.3f %.9f %.6f") on the values in seconds
  // and PPM. For values whose decimal digits a double holds, ours is equal.
  std::mt19937_64 random(5);
  std::uniform_int_distribution<std::int64_t> offset_ns(-1'000'000'000'000, 1'000'000'000'000);
  std::uniform_int_distribution<std::int64_t> ppb(-500'000, 500'000);
  std::uniform_int_distribution<std::int64_t> jitter_ns(0, 1'000'000'000);
  for (int i = 0; i < 2000; ++i) {
    const LoopStatsRecord r{at(kMjd60000 + 1), offset_ns(random), ppb(random),
                            jitter_ns(random), ppb(random) / 100, 6};
    char expected[160];
    std::snprintf(expected, sizeof expected, "60000 1.000 %.9f %.3f %.9f %.6f 6\n",
                  static_cast<double>(r.offset_ns) / 1e9,
                  static_cast<double>(r.frequency_ppb) / 1e3,
                  static_cast<double>(r.jitter_ns) / 1e9, static_cast<double>(r.wander_ppb) / 1e3);
    ASSERT_EQ(format_loopstats_line(r), expected);
  }
}

struct NameCase {
  FilegenType type;
  std::int64_t unix_s;
  const char* name;
};

TEST(FilegenNameTest, NamesAsNtpFilegenOpen) {
  const NameCase cases[] = {
      {FilegenType::kDay, 1709251199, "loopstats.20240229"},
      {FilegenType::kDay, 1709251200, "loopstats.20240301"},
      {FilegenType::kDay, 0, "loopstats.19700101"},
      {FilegenType::kNone, 1709251199, "loopstats"},
      {FilegenType::kPid, 1709251199, "loopstats.#4321"},
      {FilegenType::kMonth, 1709251199, "loopstats.202402"},
      {FilegenType::kYear, 1709251199, "loopstats.2024"},
      {FilegenType::kWeek, 1709251199, "loopstats.2024w09"},
      {FilegenType::kWeek, 1735687800, "loopstats.2025w01"},  // 2024-12-31 is in ISO 2025
      {FilegenType::kWeek, 1609632000, "loopstats.2020w53"},  // 2021-01-03 is in ISO 2020
      {FilegenType::kWeek, 1577664000, "loopstats.2020w01"},  // 2019-12-30
      {FilegenType::kWeek, 1483228800, "loopstats.2016w52"},  // 2017-01-01
  };
  for (const NameCase& c : cases) {
    EXPECT_EQ(filegen_file_name("loopstats", c.type, at(c.unix_s, 999'999'999), 4321),
              std::optional<std::string>(c.name))
        << c.name;
  }
  EXPECT_FALSE(filegen_file_name("loopstats", FilegenType::kAge, at(0), 1));
}

class StatsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/stats_files_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  bool same_file(const std::string& a, const std::string& b) const {
    struct stat sa {};
    struct stat sb {};
    return ::lstat(path(a).c_str(), &sa) == 0 && ::lstat(path(b).c_str(), &sb) == 0 &&
           sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
  }
  bool exists(const std::string& name) const {
    struct stat s {};
    return ::lstat(path(name).c_str(), &s) == 0;
  }
  StatsFile open_file(FilegenSettings settings = {}) {
    std::string error;
    auto file = StatsFile::open(dir_, std::move(settings), &error);
    EXPECT_TRUE(file) << error;
    return std::move(*file);
  }
  static void expect_clean(const StatsWrite& w) {
    EXPECT_TRUE(w.written) << w.error;
    EXPECT_EQ(w.error, "");
  }

  std::string dir_;
};

constexpr std::int64_t kFeb29 = 1709251000;  // 2024-02-29 23:56:40 UTC
constexpr std::int64_t kMar1 = 1709251200;   // 2024-03-01 00:00:00 UTC

TEST_F(StatsFileTest, DailyGenerationsAndTheLink) {
  StatsFile file = open_file();
  expect_clean(file.append(at(kFeb29), "line 1\n"));
  expect_clean(file.append(at(kFeb29 + 1), "line 2"));  // newline added
  EXPECT_EQ(file.current_file_name(), "loopstats.20240229");
  EXPECT_EQ(read("loopstats.20240229"), "line 1\nline 2\n");
  EXPECT_TRUE(same_file("loopstats", "loopstats.20240229"));

  expect_clean(file.append(at(kMar1), "line 3\n"));
  EXPECT_EQ(read("loopstats.20240301"), "line 3\n");
  EXPECT_EQ(read("loopstats.20240229"), "line 1\nline 2\n");
  EXPECT_TRUE(same_file("loopstats", "loopstats.20240301"));
  EXPECT_FALSE(exists("loopstats.link-new"));
}

TEST_F(StatsFileTest, RestartAppendsToTodaysFile) {
  {
    StatsFile first = open_file();
    expect_clean(first.append(at(kFeb29), "before restart\n"));
  }
  StatsFile second = open_file();
  expect_clean(second.append(at(kFeb29 + 60), "after restart\n"));
  EXPECT_EQ(read("loopstats.20240229"), "before restart\nafter restart\n");
  EXPECT_TRUE(same_file("loopstats", "loopstats.20240229"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            2);
}

TEST_F(StatsFileTest, LoneFileUnderTheLinkNameIsKept) {
  std::ofstream(path("loopstats")) << "precious\n";
  StatsFile file = open_file();
  expect_clean(file.append(at(kFeb29), "x\n"));
  EXPECT_TRUE(same_file("loopstats", "loopstats.20240229"));
  EXPECT_EQ(read("loopstats." + std::to_string(::getpid()) + "C0"), "precious\n");
}

TEST_F(StatsFileTest, StaleTemporaryLinkIsReplaced) {
  std::ofstream(path("loopstats.link-new")) << "stale\n";
  StatsFile file = open_file();
  expect_clean(file.append(at(kFeb29), "x\n"));
  EXPECT_TRUE(same_file("loopstats", "loopstats.20240229"));
  EXPECT_FALSE(exists("loopstats.link-new"));
}

TEST_F(StatsFileTest, NoLinkAndTypeNone) {
  StatsFile nolink = open_file({"loopstats", FilegenType::kDay, false});
  expect_clean(nolink.append(at(kFeb29), "a\n"));
  EXPECT_FALSE(exists("loopstats"));

  StatsFile none = open_file({"sysstats", FilegenType::kNone, true});
  expect_clean(none.append(at(kFeb29), "b\n"));
  expect_clean(none.append(at(kMar1), "c\n"));
  EXPECT_EQ(read("sysstats"), "b\nc\n");
}

TEST_F(StatsFileTest, NeverFollowsASymlinkOutOfStatsdir) {
  const std::string outside = dir_ + ".outside";
  std::ofstream(outside) << "untouched\n";
  ASSERT_EQ(::symlink(outside.c_str(), path("loopstats.20240229").c_str()), 0);
  StatsFile file = open_file();
  const StatsWrite w = file.append(at(kFeb29), "x\n");
  EXPECT_FALSE(w.written);
  EXPECT_NE(w.error.find("cannot open " + path("loopstats.20240229")), std::string::npos)
      << w.error;
  std::ifstream in(outside);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "untouched\n");
  ::unlink(outside.c_str());
}

TEST_F(StatsFileTest, KeepsThePreviousGenerationWhenTheNextCannotOpen) {
  StatsFile file = open_file();
  expect_clean(file.append(at(kFeb29), "a\n"));
  ASSERT_EQ(::mkdir(path("loopstats.20240301").c_str(), 0755), 0);
  const StatsWrite w = file.append(at(kMar1), "b\n");
  EXPECT_TRUE(w.written);
  EXPECT_NE(w.error.find("cannot open"), std::string::npos) << w.error;
  EXPECT_EQ(read("loopstats.20240229"), "a\nb\n");
}

TEST_F(StatsFileTest, LinkProblemsAreReportedButTheLineIsWritten) {
  ASSERT_EQ(::mkdir(path("loopstats").c_str(), 0755), 0);
  StatsFile file = open_file();
  const StatsWrite w = file.append(at(kFeb29), "a\n");
  EXPECT_TRUE(w.written);
  EXPECT_NE(w.error.find("expected a regular file"), std::string::npos) << w.error;
  EXPECT_EQ(read("loopstats.20240229"), "a\n");
}

TEST_F(StatsFileTest, RejectsNamesOutsideStatsdirAndUnsupportedTypes) {
  for (const char* name : {"", ".", "..", "a/b", "../loopstats", "/etc/passwd"}) {
    std::string error;
    EXPECT_FALSE(StatsFile::open(dir_, {name, FilegenType::kDay, true}, &error)) << name;
    EXPECT_NE(error.find("inside statsdir"), std::string::npos) << error;
  }
  std::string error;
  EXPECT_FALSE(StatsFile::open(dir_, {"loopstats", FilegenType::kAge, true}, &error));
  EXPECT_NE(error.find("age"), std::string::npos) << error;
  EXPECT_FALSE(StatsFile::open(dir_ + "/missing", {}, &error));
  EXPECT_NE(error.find("cannot open statsdir"), std::string::npos) << error;
}

}  // namespace
}  // namespace ntpd::clock
