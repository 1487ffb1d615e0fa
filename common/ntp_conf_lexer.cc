// Tokenizer for ntp.conf (see ntp_conf_lexer.h). Works on bytes in one
// linear pass; it must never allocate more than the input implies, never
// throw, and never look at what a token means.
#include "common/ntp_conf_lexer.h"

#include <cstdio>

namespace ntpd::common {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

std::string describe_control(char c) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "unexpected control character 0x%02x",
                static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buffer;
}

// Splits one line (without its '\n'). Returns an empty optional when the line
// holds neither tokens nor an error.
std::optional<ConfLine> split_line(std::string_view text, int line_number) {
  ConfLine line;
  line.line = line_number;
  std::size_t i = 0;
  auto fail = [&](std::size_t at, std::string message) {
    line.error = LexError{static_cast<int>(at) + 1, std::move(message)};
  };
  while (i < text.size() && !line.error) {
    const char c = text[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '#') break;
    if (is_control(c)) {
      fail(i, describe_control(c));
      break;
    }
    ConfToken token;
    token.line = line_number;
    token.column = static_cast<int>(i) + 1;
    if (c == '"') {
      const std::size_t start = i + 1;
      std::size_t end = start;
      while (end < text.size() && text[end] != '"' && !is_control(text[end])) ++end;
      if (end >= text.size()) {
        fail(i, "unterminated quoted string");
        break;
      }
      if (text[end] != '"') {
        fail(end, describe_control(text[end]));
        break;
      }
      if (end + 1 < text.size() && !is_space(text[end + 1]) && text[end + 1] != '#') {
        fail(end + 1, "expected whitespace after the closing '\"'");
        break;
      }
      token.text.assign(text.substr(start, end - start));
      token.quoted = true;
      i = end + 1;
    } else {
      const std::size_t start = i;
      while (i < text.size() && !is_space(text[i]) && text[i] != '#' && text[i] != '"' &&
             !is_control(text[i])) {
        ++i;
      }
      if (i < text.size() && text[i] == '"') {
        fail(i, "unexpected '\"' inside a word; quote the whole value");
        break;
      }
      token.text.assign(text.substr(start, i - start));
    }
    line.tokens.push_back(std::move(token));
  }
  if (line.tokens.empty() && !line.error) return std::nullopt;
  return line;
}

}  // namespace

int ConfToken::end_column() const {
  return column + static_cast<int>(text.size()) + (quoted ? 2 : 0);
}

std::vector<ConfLine> tokenize_ntp_conf(std::string_view text) {
  std::vector<ConfLine> lines;
  int line_number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (auto line = split_line(text.substr(start, end - start), line_number)) {
      lines.push_back(std::move(*line));
    }
    start = end + 1;
  }
  return lines;
}

}  // namespace ntpd::common
