// libFuzzer target for common/keys_file: parses arbitrary text and checks
// the result's invariants (ids, sizes, order, diagnostic lines), then that
// no diagnostic depends on a token's content: redacting every token that
// is not a valid key id or type (keeping only what the grammar looks at:
// length, hex-ness, printability) must give the very same diagnostics.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/keys_file.h"

namespace {

using ntpd::common::ParsedKeys;

void check(bool condition) {
  if (!condition) std::abort();
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_valid_id(std::string_view token) {
  if (token.empty() || token.size() > 5) return false;
  std::uint32_t value = 0;
  for (const char c : token) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// Same-class replacement: hex digits become 'a', other printable bytes 'Z',
// anything else stays (its position is what the parser reports).
void redact(std::string& text, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (is_hex(text[i])) {
      text[i] = 'a';
    } else if (c >= 0x21 && c <= 0x7e) {
      text[i] = 'Z';
    }
  }
}

// Redacts each token of each line as described in the file comment. An
// invalid id becomes "x"-filled (still invalid), an unknown type "Q"-filled
// (still unknown), every other token from the key on is redact()ed.
std::string redacted(std::string text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    int index = 0;
    std::size_t i = pos;
    while (i < end && text[i] != '#') {
      if (is_blank(text[i])) {
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < end && !is_blank(text[i]) && text[i] != '#') ++i;
      const std::string_view token(text.data() + start, i - start);
      if (index == 0 && !is_valid_id(token)) {
        text.replace(start, i - start, i - start, 'x');
      } else if (index == 1 && !ntpd::common::parse_key_type(token)) {
        text.replace(start, i - start, i - start, 'Q');
      } else if (index >= 2) {
        redact(text, start, i);
      }
      ++index;
    }
    pos = end + 1;
  }
  return text;
}

void check_invariants(const ParsedKeys& parsed, std::size_t line_count) {
  for (std::size_t i = 0; i < parsed.keys.size(); ++i) {
    const auto& key = parsed.keys[i];
    check(key.id >= 1);
    check(i == 0 || parsed.keys[i - 1].id < key.id);
    check(!key.secret.empty() && key.secret.size() <= ntpd::common::kMaxKeyBytes);
    if (key.type == ntpd::common::KeyType::kAes128Cmac) check(key.secret.size() == 16);
  }
  for (const auto& d : parsed.diagnostics) {
    check(d.line >= 0 && static_cast<std::size_t>(d.line) <= line_count);
    check(d.column >= 0);
    check(!d.message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t line_count = 1;
  for (const char c : text) line_count += c == '\n' ? 1 : 0;
  const ParsedKeys parsed = ntpd::common::parse_keys_file_text("fuzz.keys", text);
  check_invariants(parsed, line_count);

  const ParsedKeys again = ntpd::common::parse_keys_file_text("fuzz.keys", redacted(text));
  check(again.keys.size() == parsed.keys.size());
  check(again.diagnostics.size() == parsed.diagnostics.size());
  for (std::size_t i = 0; i < parsed.diagnostics.size(); ++i) {
    check(again.diagnostics[i].to_string() == parsed.diagnostics[i].to_string());
  }
  return 0;
}
