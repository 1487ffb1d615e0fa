// Leap-seconds file: the real IERS file as Debian ships it (tzdata), corrupted
// variants of it, malformed lines, and when a leap is due.
#include "ntpd-clock/leap_file.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace ntpd::clock {
namespace {

using common::kNsPerSecond;
using common::kNtpToUnixSeconds;
using common::UnixNs;

constexpr std::int64_t kNtp2017 = 3'692'217'600;  // 2017-01-01 00:00:00 UTC, TAI-UTC 37
constexpr std::int64_t kNtp2015Jul = 3'644'697'600;
constexpr std::int64_t kNtp2026 = 3'976'214'400;  // 2026-01-01
constexpr std::int64_t kExpires = 3'991'593'600;  // 2026-06-28, the Debian file's #@
constexpr std::int64_t kDay = 86'400;

std::string data_path(const std::string& name) {
  const std::string source = __FILE__;
  return source.substr(0, source.rfind('/') + 1) + "data/" + name;
}

std::string real_file_text() {
  std::ifstream in(data_path("leap-seconds.list"));
  EXPECT_TRUE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

UnixNs at_ntp(std::int64_t ntp_seconds, std::int64_t extra_ns = 0) {
  return UnixNs{(ntp_seconds - kNtpToUnixSeconds) * kNsPerSecond + extra_ns};
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The documented rule, independently: SHA-1 of the digits of the #$, #@
// and data lines (before any '#'), in order.
std::array<std::uint32_t, 5> digest_words(const std::string& text) {
  std::string digits;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const bool header = line.rfind("#$", 0) == 0 || line.rfind("#@", 0) == 0;
    if (!header && (line.empty() || line[0] < '0' || line[0] > '9')) continue;
    for (std::size_t i = header ? 2 : 0; i < line.size() && line[i] != '#'; ++i) {
      if (line[i] >= '0' && line[i] <= '9') digits.push_back(line[i]);
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(digits.data(), digits.size(), md, &length, EVP_sha1(), nullptr), 1);
  std::array<std::uint32_t, 5> words{};
  for (std::size_t i = 0; i < 20; ++i) words[i / 4] = (words[i / 4] << 8) | md[i];
  return words;
}

std::string with_hash(const std::string& body, const char* word_format = "%x") {
  const auto words = digest_words(body);
  std::string line = "#h\t";
  for (std::size_t i = 0; i < words.size(); ++i) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, word_format, static_cast<unsigned>(words[i]));
    line += buffer;
    line += i + 1 < words.size() ? " " : "\n";
  }
  return body + line;
}

LeapTable parse_ok(const std::string& text) {
  std::string error;
  const auto table = parse_leap_file(text, "t.list", &error);
  EXPECT_TRUE(table) << error;
  return table.value_or(LeapTable{});
}

TEST(LeapFileTest, ParsesTheRealIersFile) {
  const LeapTable table = parse_ok(real_file_text());
  ASSERT_EQ(table.entries.size(), 28u);
  EXPECT_EQ(table.entries.front(), (LeapEntry{2'272'060'800, 10}));
  EXPECT_EQ(table.entries.back(), (LeapEntry{kNtp2017, 37}));
  EXPECT_EQ(table.updated_ntp_s, 3'960'835'200);
  EXPECT_EQ(table.expires_ntp_s, kExpires);
  EXPECT_EQ(table.hash, LeapHash::kVerified);
}

TEST(LeapFileTest, LoadsFromDiskAndNamesMissingFiles) {
  std::string error;
  const auto table = load_leap_file(data_path("leap-seconds.list"), &error);
  ASSERT_TRUE(table) << error;
  EXPECT_EQ(table->hash, LeapHash::kVerified);
  EXPECT_FALSE(load_leap_file("/nonexistent/leap-seconds.list", &error));
  EXPECT_NE(error.find("/nonexistent/leap-seconds.list"), std::string::npos) << error;
}

struct PendingCase {
  const char* name;
  UnixNs now;
  LeapKind kind;
  std::int64_t leap_ntp_s;
  int tai_offset_s;
};

TEST(LeapFileTest, LeapIsDueOnlyOnTheLastUtcDayBeforeIt) {
  const LeapTable table = parse_ok(real_file_text());
  const PendingCase cases[] = {
      {"day before the last day", at_ntp(kNtp2017 - kDay - 1), LeapKind::kNone, 0, 36},
      {"last day, first second", at_ntp(kNtp2017 - kDay), LeapKind::kInsert, kNtp2017, 36},
      {"last day, noon", at_ntp(kNtp2017 - kDay / 2), LeapKind::kInsert, kNtp2017, 36},
      {"last nanosecond", at_ntp(kNtp2017, -1), LeapKind::kInsert, kNtp2017, 36},
      {"after the leap", at_ntp(kNtp2017), LeapKind::kNone, 0, 37},
      {"2015-06-30", at_ntp(kNtp2015Jul - 3600), LeapKind::kInsert, kNtp2015Jul, 35},
      {"1972-06-30", at_ntp(2'287'785'600 - 60), LeapKind::kInsert, 2'287'785'600, 10},
      {"before the table", at_ntp(2'272'060'800 - 10 * kDay), LeapKind::kNone, 0, 0},
      {"1972-01-01 eve is no leap", at_ntp(2'272'060'800 - 60), LeapKind::kNone, 0, 0},
      {"2025-06-30, none scheduled", at_ntp(kExpires - 363 * kDay), LeapKind::kNone, 0, 37},
  };
  for (const PendingCase& c : cases) {
    const LeapDecision decision = leap_pending(table, c.now);
    EXPECT_EQ(decision.kind, c.kind) << c.name;
    EXPECT_EQ(decision.leap_ntp_s, c.leap_ntp_s) << c.name;
    EXPECT_EQ(decision.tai_offset_s, c.tai_offset_s) << c.name;
    EXPECT_TRUE(decision.warnings.empty()) << c.name;
  }
}

TEST(LeapFileTest, ExpiredFileIsStillUsedWithAWarning) {
  const LeapTable table = parse_ok(real_file_text());
  EXPECT_TRUE(leap_pending(table, at_ntp(kExpires, -1)).warnings.empty());
  const LeapDecision decision = leap_pending(table, at_ntp(kExpires));
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_NE(decision.warnings[0].find("expired on 2026-06-28"), std::string::npos)
      << decision.warnings[0];
  EXPECT_EQ(decision.tai_offset_s, 37);
}

TEST(LeapFileTest, NegativeLeapSecondIsADelete) {
  const LeapTable table = parse_ok(with_hash(
      "#$\t3960835200\n#@\t3991593600\n3692217600\t37\t# 1 Jan 2017\n3976214400\t36\t# 1 Jan "
      "2026\n"));
  ASSERT_EQ(table.hash, LeapHash::kVerified);
  const LeapDecision decision = leap_pending(table, at_ntp(kNtp2026 - 600));
  EXPECT_EQ(decision.kind, LeapKind::kDelete);
  EXPECT_EQ(decision.leap_ntp_s, kNtp2026);
  EXPECT_EQ(decision.tai_offset_s, 37);
  EXPECT_EQ(leap_pending(table, at_ntp(kNtp2026)).tai_offset_s, 36);
}

TEST(LeapFileTest, HashWordsWithoutLeadingZerosVerify) {
  // NIST prints the five words with %x; find an update time whose digest has
  // a word below 0x10000000, so that the short form is really exercised.
  std::string body;
  bool short_word = false;
  for (std::int64_t updated = 3'960'835'200; updated < 3'960'835'200 + 1000 && !short_word;
       ++updated) {
    body = "#$\t" + std::to_string(updated) + "\n#@\t3991593600\n2272060800\t10\n";
    for (const std::uint32_t word : digest_words(body)) short_word |= word < 0x10000000u;
  }
  ASSERT_TRUE(short_word);
  EXPECT_EQ(parse_ok(with_hash(body, "%x")).hash, LeapHash::kVerified);
  EXPECT_EQ(parse_ok(with_hash(body, "%08x")).hash, LeapHash::kVerified);
  EXPECT_EQ(parse_ok(with_hash(body, "%08X")).hash, LeapHash::kVerified);
}

struct CorruptCase {
  const char* name;
  const char* from;
  const char* to;
  LeapHash hash;
};

TEST(LeapFileTest, CorruptedVariantsOfTheRealFile) {
  const std::string real = real_file_text();
  const CorruptCase cases[] = {
      {"expiry extended", "#@\t3991593600", "#@\t4007318400", LeapHash::kMismatch},
      {"update time changed", "#$\t3960835200", "#$\t3960835201", LeapHash::kMismatch},
      {"last leap removed", "3692217600      37      # 1 Jan 2017\n", "", LeapHash::kMismatch},
      {"hash word changed", "39b8e49e", "39b8e49f", LeapHash::kMismatch},
      {"hash line removed", "#h\t49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e", "",
       LeapHash::kMissing},
      {"hash line short", "9c8da8e4 39b8e49e", "9c8da8e4", LeapHash::kMalformed},
      {"hash line not hex", "39b8e49e", "39b8e49g", LeapHash::kMalformed},
      {"hash word too long", "39b8e49e", "039b8e49e", LeapHash::kMalformed},
      {"hash line trailing text", "39b8e49e", "39b8e49e x", LeapHash::kMalformed},
      {"comment edited", "# 1 Jan 2017", "# 1 Jan 2018", LeapHash::kVerified},
      {"spacing edited", "3692217600      37", "3692217600\t37", LeapHash::kVerified},
  };
  for (const CorruptCase& c : cases) {
    std::string error;
    const auto table = parse_leap_file(replace(real, c.from, c.to), "t.list", &error);
    ASSERT_TRUE(table) << c.name << ": " << error;
    EXPECT_EQ(table->hash, c.hash) << c.name;
  }
}

TEST(LeapFileTest, CrLfLineEndingsStillVerify) {
  std::string crlf;
  for (const char c : real_file_text()) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(parse_ok(crlf).hash, LeapHash::kVerified);
}

TEST(LeapFileTest, BadHashMeansNoLeapButMissingHashIsUsed) {
  const std::string real = real_file_text();
  const UnixNs last_day = at_ntp(kNtp2017 - 3600);

  const LeapDecision mismatch =
      leap_pending(parse_ok(replace(real, "39b8e49e", "39b8e49f")), last_day);
  EXPECT_EQ(mismatch.kind, LeapKind::kNone);
  ASSERT_EQ(mismatch.warnings.size(), 1u);
  EXPECT_NE(mismatch.warnings[0].find("hash mismatch"), std::string::npos);

  const LeapDecision malformed = leap_pending(parse_ok(replace(real, "39b8e49e", "zz")), last_day);
  EXPECT_EQ(malformed.kind, LeapKind::kNone);
  ASSERT_EQ(malformed.warnings.size(), 1u);
  EXPECT_NE(malformed.warnings[0].find("malformed"), std::string::npos);

  const LeapDecision missing = leap_pending(
      parse_ok(replace(real, "#h\t49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e", "")), last_day);
  EXPECT_EQ(missing.kind, LeapKind::kInsert);
  ASSERT_EQ(missing.warnings.size(), 1u);
  EXPECT_NE(missing.warnings[0].find("no hash"), std::string::npos);
}

struct ErrorCase {
  const char* name;
  const char* text;
  const char* error;
};

TEST(LeapFileTest, MalformedFilesAreRejectedWithFileAndLine) {
  const ErrorCase cases[] = {
      {"not a month start", "#@ 3991593600\n2272060800 10\n2287785601 11\n",
       "t.list:3: time 2287785601 is not 00:00:00 UTC on the first of a month"},
      {"second of the month", "#@ 3991593600\n2272060800 10\n2287872000 11\n",
       "t.list:3: time 2287872000 is not 00:00:00 UTC on the first of a month"},
      {"before 1970", "#@ 3991593600\n86400 10\n", "t.list:2: time 86400 is not"},
      {"not ascending", "#@ 3991593600\n2287785600 11\n2272060800 10\n",
       "t.list:3: times not ascending"},
      {"step of two", "#@ 3991593600\n2272060800 10\n2287785600 12\n",
       "t.list:3: TAI-UTC changes by 2 s, not +-1 s"},
      {"text after offset", "#@ 3991593600\n2272060800 10 x\n", "t.list:2: text after the offset"},
      {"offset glued to text", "#@ 3991593600\n2272060800 10x\n", "t.list:2: bad TAI-UTC offset"},
      {"offset missing", "#@ 3991593600\n2272060800\n",
       "t.list:2: expected 'NTP_SECONDS TAI_OFFSET'"},
      {"offset not a number", "#@ 3991593600\n2272060800 ten\n", "t.list:2: bad TAI-UTC offset"},
      {"offset negative", "#@ 3991593600\n2272060800 -1\n", "t.list:2: TAI-UTC offset -1 out"},
      {"offset huge", "#@ 3991593600\n2272060800 101\n", "t.list:2: TAI-UTC offset 101 out"},
      {"time overflows", "#@ 3991593600\n99999999999999999999 10\n",
       "t.list:2: expected 'NTP_SECONDS TAI_OFFSET'"},
      {"stray text", "#@ 3991593600\nhello\n2272060800 10\n",
       "t.list:2: expected 'NTP_SECONDS TAI_OFFSET'"},
      {"two expirations", "#@ 3991593600\n#@ 3991593600\n2272060800 10\n",
       "t.list:2: second expiration time ('#@')"},
      {"bad expiration", "#@ soon\n2272060800 10\n", "t.list:1: bad expiration time ('#@')"},
      {"bad update", "#$ 12x\n#@ 3991593600\n2272060800 10\n", "t.list:1: bad update time ('#$')"},
      {"no expiration", "#$ 3960835200\n2272060800 10\n", "t.list: no expiration line ('#@')"},
      {"no entries", "#@ 3991593600\n# nothing\n", "t.list: no leap second entries"},
      {"empty", "", "t.list: no leap second entries"},
  };
  for (const ErrorCase& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_leap_file(c.text, "t.list", &error)) << c.name;
    EXPECT_EQ(error.rfind(c.error, 0), 0u) << c.name << ": got '" << error << "'";
  }
}

}  // namespace
}  // namespace ntpd::clock
