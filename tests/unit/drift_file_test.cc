// Drift file: what is accepted, and that writes are whole and atomic.
#include "ntpd-clock/drift_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ntpd::clock {
namespace {

TEST(ParseDriftText, AcceptsNtpdFormat) {
  std::string why;
  EXPECT_EQ(parse_drift_text("12.345\n", &why), std::optional<std::int64_t>(12'345));
  EXPECT_EQ(parse_drift_text("  -7.5  ", &why), std::optional<std::int64_t>(-7'500));
  EXPECT_EQ(parse_drift_text("500.000", &why), std::optional<std::int64_t>(500'000));
  EXPECT_EQ(parse_drift_text("0", &why), std::optional<std::int64_t>(0));
}

TEST(ParseDriftText, RejectsCorruptAndAbsurdValues) {
  for (const char* text :
       {"", "\n", "abc", "12.3abc", "nan", "inf", "-inf", "500.001", "-1e9", "1e400", "12 13"}) {
    std::string why;
    EXPECT_FALSE(parse_drift_text(text, &why)) << text;
    EXPECT_FALSE(why.empty()) << text;
  }
}

TEST(ParseDriftText, FormatRoundTrips) {
  for (std::int64_t ppb : {0L, 1L, -1L, 12'345L, -499'999L, 500'000L}) {
    std::string why;
    EXPECT_EQ(parse_drift_text(format_drift_text(ppb), &why), std::optional<std::int64_t>(ppb));
  }
}

class DriftFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/drift_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(DriftFileTest, WritesAtomicallyAndReadsBack) {
  std::string error;
  auto drift = DriftFile::open(dir_ + "/ntp.drift", &error);
  ASSERT_TRUE(drift) << error;
  std::string why;
  EXPECT_FALSE(drift->read(&why));
  EXPECT_TRUE(why.empty()) << "absent is not an error";
  ASSERT_TRUE(drift->write(-23'456, &error)) << error;
  EXPECT_EQ(drift->read(&why), std::optional<std::int64_t>(-23'456));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ntp.drift.TEMP"));
  std::ifstream in(dir_ + "/ntp.drift");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "-23.456\n");
}

TEST_F(DriftFileTest, CorruptFileIsReportedAndIgnored) {
  std::ofstream(dir_ + "/ntp.drift") << "garbage\n";
  std::string error;
  auto drift = DriftFile::open(dir_ + "/ntp.drift", &error);
  ASSERT_TRUE(drift);
  std::string why;
  EXPECT_FALSE(drift->read(&why));
  EXPECT_NE(why.find("not a number"), std::string::npos);
}

TEST_F(DriftFileTest, MissingDirectoryIsAnError) {
  std::string error;
  EXPECT_FALSE(DriftFile::open(dir_ + "/no/such/ntp.drift", &error));
  EXPECT_NE(error.find("cannot open drift file directory"), std::string::npos);
}

}  // namespace
}  // namespace ntpd::clock
