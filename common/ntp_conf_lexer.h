// Tokenizer for ntp.conf text: splits it into lines of whitespace-separated
// tokens with 1-based line and column numbers, drops '#' comments and
// unquotes "..." strings. Pure: no I/O, no knowledge of directives, and no
// line continuation (ntp.conf has none).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ntpd::common {

struct ConfToken {
  std::string text;  // without the quotes when quoted
  int line = 0;      // 1-based
  int column = 0;    // 1-based byte column of the first byte (the quote if quoted)
  bool quoted = false;

  // The column just after the token, for "expected ... after this" messages.
  int end_column() const;
};

// The first problem found on a line; the rest of that line is not split.
struct LexError {
  int column = 0;
  std::string message;
};

struct ConfLine {
  int line = 0;
  std::vector<ConfToken> tokens;  // the tokens before any error
  std::optional<LexError> error;
};

// Splits text into lines that hold at least one token or an error; blank and
// comment-only lines are dropped. Never fails: problems (an unterminated
// quote, a control byte, a '"' inside a word, text glued to a closing quote)
// are reported in ConfLine::error. Whitespace is space, tab, CR, VT and FF, so
// CRLF files read like LF files. Quoted strings have no escapes and cannot
// contain '"'; they may contain spaces and '#'.
std::vector<ConfLine> tokenize_ntp_conf(std::string_view text);

}  // namespace ntpd::common
