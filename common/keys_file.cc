// The keys file parser (see keys_file.h). Every message is built from
// validated numbers, token columns and fixed text: no token of a key line
// is copied into a diagnostic, and a bad key is reported at its first
// column, never at the offending character (that would hint at content). Decoded key bytes live
// only in SecretBytes (or in buffers wiped before they go out of scope).
#include "common/keys_file.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

namespace ntpd::common {

// ---- SecretBytes ----

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes)
    : bytes_(bytes.begin(), bytes.end()) {}

SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() noexcept {
  if (!bytes_.empty()) explicit_bzero(bytes_.data(), bytes_.size());
  bytes_.clear();
}

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  if (a.size() != b.size()) return false;
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<std::uint8_t>(a.bytes_[i] ^ b.bytes_[i]);
  return diff == 0;
}

// ---- key types ----

std::string_view to_string(KeyType type) {
  switch (type) {
    case KeyType::kMd5:
      return "MD5";
    case KeyType::kSha1:
      return "SHA1";
    case KeyType::kSha256:
      return "SHA256";
    case KeyType::kAes128Cmac:
      return "AES128CMAC";
  }
  return "?";
}

std::optional<KeyType> parse_key_type(std::string_view name) {
  struct Spelling {
    std::string_view name;
    KeyType type;
  };
  // ntpsec authreadkeys.c: OpenSSL digest names, cipher names with "-CBC"
  // appended (AES and AES128CMAC mean AES-128), and classic ntpd's "M".
  static constexpr std::array<Spelling, 11> kSpellings{{
      {"M", KeyType::kMd5},
      {"MD5", KeyType::kMd5},
      {"SHA1", KeyType::kSha1},
      {"SHA-1", KeyType::kSha1},
      {"SHA256", KeyType::kSha256},
      {"SHA-256", KeyType::kSha256},
      {"SHA2-256", KeyType::kSha256},
      {"AES", KeyType::kAes128Cmac},
      {"AES128CMAC", KeyType::kAes128Cmac},
      {"AES-128", KeyType::kAes128Cmac},
      {"AES-128-CMAC", KeyType::kAes128Cmac},
  }};
  for (const auto& spelling : kSpellings) {
    if (spelling.name.size() == name.size() &&
        strncasecmp(spelling.name.data(), name.data(), name.size()) == 0) {
      return spelling.type;
    }
  }
  return std::nullopt;
}

// ---- diagnostics ----

std::string KeysDiagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  out += message;
  return out;
}

bool ParsedKeys::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const KeysDiagnostic& d) {
    return d.severity == KeysDiagnostic::Severity::kError;
  });
}

namespace {

constexpr std::string_view kExpectedTypes = "MD5, SHA1, SHA256 or AES128CMAC";

struct Token {
  std::string_view text;
  int column = 0;  // 1-based byte offset in the line
};

// Splits at blanks; '#' ends the line (also inside a token, as ntpd's
// nexttok does). '\r' counts as a blank so CRLF files work.
std::vector<Token> tokenize(std::string_view line) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '#') break;
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
           line[i] != '#') {
      ++i;
    }
    tokens.push_back(Token{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return tokens;
}

std::optional<std::uint16_t> parse_key_id(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > kMaxKeyId) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class LineParser {
 public:
  LineParser(const std::string& file, int line, std::vector<KeysDiagnostic>& out)
      : file_(file), line_(line), out_(out) {}

  void error(int column, std::string message) {
    add(KeysDiagnostic::Severity::kError, column, message);
  }
  void warning(int column, std::string message) {
    add(KeysDiagnostic::Severity::kWarning, column, message);
  }

  std::optional<SymmetricKey> parse(const std::vector<Token>& tokens);

 private:
  void add(KeysDiagnostic::Severity severity, int column, std::string& message) {
    out_.push_back(KeysDiagnostic{severity, file_, line_, column, std::move(message)});
  }
  std::optional<SecretBytes> decode_key(std::uint16_t id, const Token& token);
  std::optional<SecretBytes> decode_hex(const std::string& what, const Token& token);

  const std::string& file_;
  int line_;
  std::vector<KeysDiagnostic>& out_;
};

std::optional<SymmetricKey> LineParser::parse(const std::vector<Token>& tokens) {
  const auto id = parse_key_id(tokens[0].text);
  if (!id) {
    error(tokens[0].column, "expected a key id from 1 to " + std::to_string(kMaxKeyId) +
                                " at the start of the line; line skipped");
    return std::nullopt;
  }
  const std::string what = "key " + std::to_string(*id);
  if (tokens.size() < 2) {
    error(0, what + ": missing key type; expected " + std::string(kExpectedTypes));
    return std::nullopt;
  }
  const auto type = parse_key_type(tokens[1].text);
  if (!type) {
    error(tokens[1].column, what + ": unknown key type; expected " + std::string(kExpectedTypes));
    return std::nullopt;
  }
  if (tokens.size() < 3) {
    error(0, what + ": missing the key after the type");
    return std::nullopt;
  }
  if (tokens.size() > 3) {
    error(tokens[3].column, what +
                                ": unexpected text after the key (per-key address lists are "
                                "not supported); key not loaded");
    return std::nullopt;
  }
  auto secret = decode_key(*id, tokens[2]);
  if (!secret) return std::nullopt;
  return SymmetricKey{*id, *type, std::move(*secret)};
}

std::optional<SecretBytes> LineParser::decode_key(std::uint16_t id, const Token& token) {
  const std::string what = "key " + std::to_string(id);
  if (token.text.size() > kMaxAsciiKeyChars) return decode_hex(what, token);
  for (std::size_t i = 0; i < token.text.size(); ++i) {
    const auto c = static_cast<unsigned char>(token.text[i]);
    if (c < 0x21 || c > 0x7e) {
      error(token.column, what + ": an ASCII key must be printable characters; key not loaded");
      return std::nullopt;
    }
  }
  const auto* data = reinterpret_cast<const std::uint8_t*>(token.text.data());
  return SecretBytes(std::span<const std::uint8_t>(data, token.text.size()));
}

std::optional<SecretBytes> LineParser::decode_hex(const std::string& what, const Token& token) {
  std::size_t digits = token.text.size();
  if (digits > 2 * kMaxKeyBytes) {
    warning(token.column, what + ": hex key longer than " + std::to_string(2 * kMaxKeyBytes) +
                              " digits; only the first " + std::to_string(kMaxKeyBytes) +
                              " bytes are used, as ntpd does");
    digits = 2 * kMaxKeyBytes;
  }
  for (std::size_t i = 0; i < digits; ++i) {
    if (hex_value(token.text[i]) < 0) {
      error(token.column, what + ": a key longer than " + std::to_string(kMaxAsciiKeyChars) +
                              " characters must be hex digits; key not loaded");
      return std::nullopt;
    }
  }
  if (digits % 2 != 0) {
    warning(token.column,
            what + ": odd number of hex digits; the last one is ignored, as ntpd does");
  }
  std::array<std::uint8_t, kMaxKeyBytes> buffer{};
  const std::size_t length = digits / 2;
  for (std::size_t i = 0; i < length; ++i) {
    buffer[i] = static_cast<std::uint8_t>(hex_value(token.text[2 * i]) * 16 +
                                          hex_value(token.text[2 * i + 1]));
  }
  SecretBytes secret(std::span<const std::uint8_t>(buffer.data(), length));
  explicit_bzero(buffer.data(), buffer.size());
  return secret;
}

// ntpsec check_cmac_key_length: AES-128 takes exactly 16 bytes.
void fit_cmac_key(SymmetricKey& key, LineParser& parser, int column) {
  const std::size_t length = key.secret.size();
  if (length == kCmacKeyBytes) return;
  std::array<std::uint8_t, kCmacKeyBytes> buffer{};
  std::memcpy(buffer.data(), key.secret.bytes().data(), std::min(length, kCmacKeyBytes));
  key.secret = SecretBytes(buffer);
  explicit_bzero(buffer.data(), buffer.size());
  parser.warning(column, "key " + std::to_string(key.id) + ": AES128CMAC key of " +
                             std::to_string(length) + " bytes " +
                             (length < kCmacKeyBytes ? "padded with zeros" : "truncated") +
                             " to 16 bytes, as ntpd does");
}

}  // namespace

ParsedKeys parse_keys_file_text(const std::string& path_for_messages, std::string_view text) {
  ParsedKeys result;
  if (text.size() > kMaxKeysFileBytes) {
    result.diagnostics.push_back(KeysDiagnostic{
        KeysDiagnostic::Severity::kError, path_for_messages, 0, 0,
        "keys file larger than " + std::to_string(kMaxKeysFileBytes) + " bytes; no key loaded"});
    return result;
  }
  std::map<std::uint16_t, int> defined_at;  // id -> line of its latest definition
  std::vector<SymmetricKey> keys;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    const auto tokens = tokenize(line);
    if (tokens.empty()) continue;
    LineParser parser(path_for_messages, line_number, result.diagnostics);
    auto key = parser.parse(tokens);
    if (!key) continue;
    if (key->type == KeyType::kAes128Cmac) fit_cmac_key(*key, parser, tokens[2].column);
    const auto [earlier, first] = defined_at.try_emplace(key->id, line_number);
    if (!first) {
      parser.warning(tokens[0].column, "key " + std::to_string(key->id) + " is defined again; " +
                                           "this line replaces line " +
                                           std::to_string(earlier->second));
      earlier->second = line_number;
    }
    keys.push_back(std::move(*key));
  }
  // Later definitions win: keep the last one for each id.
  std::stable_sort(keys.begin(), keys.end(),
                   [](const SymmetricKey& a, const SymmetricKey& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i + 1 < keys.size() && keys[i + 1].id == keys[i].id) continue;
    result.keys.push_back(std::move(keys[i]));
  }
  return result;
}

}  // namespace ntpd::common
