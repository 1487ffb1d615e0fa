// Tests for the ntp.conf tokenizer: token text, line and column numbers,
// comments, quoting and the errors it reports. Table-driven; no I/O.
#include "common/ntp_conf_lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ntpd::common {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// "line:col:text" for every token, "line:col:!message" for a line's error.
std::vector<std::string> render(std::string_view text) {
  std::vector<std::string> out;
  for (const ConfLine& line : tokenize_ntp_conf(text)) {
    for (const ConfToken& token : line.tokens) {
      EXPECT_EQ(token.line, line.line);
      out.push_back(std::to_string(token.line) + ":" + std::to_string(token.column) + ":" +
                    (token.quoted ? "\"" : "") + token.text);
    }
    if (line.error) {
      out.push_back(std::to_string(line.line) + ":" + std::to_string(line.error->column) + ":!" +
                    line.error->message);
    }
  }
  return out;
}

struct LexCase {
  const char* name;
  std::string_view text;
  std::vector<std::string> expected;
};

void PrintTo(const LexCase& c, std::ostream* os) { *os << c.name; }

class LexerTableTest : public ::testing::TestWithParam<LexCase> {};

TEST_P(LexerTableTest, Tokens) { EXPECT_EQ(render(GetParam().text), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Cases, LexerTableTest,
    ::testing::Values(
        LexCase{"Empty", "", {}}, LexCase{"OnlyNewlines", "\n\n\n", {}},
        LexCase{"OneWord", "server", {"1:1:server"}},
        LexCase{"Words",
                "server 0.pool.ntp.org iburst",
                {"1:1:server", "1:8:0.pool.ntp.org", "1:23:iburst"}},
        LexCase{"TabsAndSpaces", " \tserver\t\tx  ", {"1:3:server", "1:11:x"}},
        LexCase{"CommentLine", "# server x\n", {}},
        LexCase{"TrailingComment", "server x # prefer", {"1:1:server", "1:8:x"}},
        LexCase{"CommentGluedToWord", "server x#prefer", {"1:1:server", "1:8:x"}},
        LexCase{"LineNumbersSkipBlankLines",
                "\n# c\nserver a\n\nserver b\n",
                {"3:1:server", "3:8:a", "5:1:server", "5:8:b"}},
        LexCase{"CrLf", "server a\r\nserver b\r\n", {"1:1:server", "1:8:a", "2:1:server", "2:8:b"}},
        LexCase{"NoFinalNewline", "a\nb", {"1:1:a", "2:1:b"}},
        LexCase{"Quoted",
                "driftfile \"/var/lib/my ntp/drift\"",
                {"1:1:driftfile", "1:11:\"/var/lib/my ntp/drift"}},
        LexCase{"QuotedHashIsNotComment", "logfile \"/a#b\" # c", {"1:1:logfile", "1:9:\"/a#b"}},
        LexCase{"QuotedEmpty", "keys \"\"", {"1:1:keys", "1:6:\""}},
        LexCase{"QuotedThenComment", "keys \"/k\"#c", {"1:1:keys", "1:6:\"/k"}},
        LexCase{"UnterminatedQuote",
                "keys \"/etc/ntp.keys",
                {"1:1:keys", "1:6:!unterminated quoted string"}},
        LexCase{"QuoteInsideWord",
                "keys /a\"b\"",
                {"1:1:keys", "1:8:!unexpected '\"' inside a word; quote the whole value"}},
        LexCase{"TextGluedToClosingQuote",
                "keys \"/a\"b",
                {"1:1:keys", "1:10:!expected whitespace after the closing '\"'"}},
        LexCase{"ControlByte",
                "server a\x01 b",
                {"1:1:server", "1:8:a", "1:9:!unexpected control character 0x01"}},
        LexCase{"NulByte",
                std::string_view("x\0y", 3),
                {"1:1:x", "1:2:!unexpected control character 0x00"}},
        LexCase{"DeleteByte", "\x7f", {"1:1:!unexpected control character 0x7f"}},
        LexCase{"ControlByteInsideQuotes",
                "keys \"a\x02\"",
                {"1:1:keys", "1:8:!unexpected control character 0x02"}},
        LexCase{"ControlByteInCommentIsFine", "a # \x01\x02", {"1:1:a"}},
        LexCase{"ErrorOnlyAffectsItsLine",
                "\"open\nserver b",
                {"1:1:!unterminated quoted string", "2:1:server", "2:8:b"}},
        LexCase{"Utf8BytesAreText",
                "logfile /var/log/h\xc3\xa9",
                {"1:1:logfile", "1:9:/var/log/h\xc3\xa9"}}),
    [](const ::testing::TestParamInfo<LexCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(LexerTest, LineContinuationIsNotSupported) {
  // ntp.conf has no continuation lines: a backslash is an ordinary byte.
  EXPECT_THAT(render("server a \\\niburst"),
              ElementsAre("1:1:server", "1:8:a", "1:10:\\", "2:1:iburst"));
}

TEST(LexerTest, EndColumnAccountsForQuotes) {
  const auto lines = tokenize_ntp_conf("keys \"/k y\" x");
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].tokens.size(), 3u);
  EXPECT_EQ(lines[0].tokens[0].end_column(), 5);
  EXPECT_EQ(lines[0].tokens[1].end_column(), 12);
  EXPECT_TRUE(lines[0].tokens[1].quoted);
  EXPECT_FALSE(lines[0].tokens[2].quoted);
}

TEST(LexerTest, BlankAndCommentLinesAreDropped) {
  EXPECT_THAT(tokenize_ntp_conf("  \n\t\n# x\n   # y\n"), IsEmpty());
}

TEST(LexerTest, LongInputIsLinear) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "restrict 10.0.0.1 nomodify # comment\n";
  const auto lines = tokenize_ntp_conf(text);
  ASSERT_EQ(lines.size(), 20000u);
  EXPECT_EQ(lines.back().line, 20000);
  EXPECT_EQ(lines.back().tokens.size(), 3u);
}

}  // namespace
}  // namespace ntpd::common
