// The keys file (ntp.keys(5)): "keyid type key" lines in, symmetric keys and
// diagnostics out. Pure core for the clock process: text in, never opens a
// file, logs or throws. A key's bytes never appear in a diagnostic, and no
// token of a key line is ever echoed (a misplaced field may be the secret).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ntpd::common {

inline constexpr std::size_t kMaxKeysFileBytes = 1 << 20;
inline constexpr std::uint32_t kMaxKeyId = 65535;     // ntpd NTP_MAXKEY; key 0 is invalid
inline constexpr std::size_t kMaxAsciiKeyChars = 20;  // longer keys are hex (ntpd bug 2537)
inline constexpr std::size_t kMaxKeyBytes = 32;       // ntpsec truncates longer hex keys
inline constexpr std::size_t kCmacKeyBytes = 16;      // AES-128 (RFC 8573)

// Secret bytes that are wiped (explicit_bzero) when destroyed, reassigned or
// moved from. Copies are explicit deep copies; there is no way to print one.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::span<const std::uint8_t> bytes);
  SecretBytes(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // Constant time in the content (the lengths are not secret).
  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> bytes_;
};

// The MAC algorithms of ntp.keys(5) that RFC 5905 / RFC 8573 peers use.
enum class KeyType : std::uint8_t { kMd5, kSha1, kSha256, kAes128Cmac };

// "MD5", "SHA1", "SHA256", "AES128CMAC" (the spelling ntpq and ntpd print).
std::string_view to_string(KeyType type);

// Case-insensitive, the spellings ntpd and ntpsec accept: M, MD5; SHA1,
// SHA-1; SHA256, SHA-256, SHA2-256; AES, AES128CMAC, AES-128, AES-128-CMAC.
std::optional<KeyType> parse_key_type(std::string_view name);

struct SymmetricKey {
  std::uint16_t id = 0;  // 1..kMaxKeyId
  KeyType type = KeyType::kMd5;
  SecretBytes secret;  // 1..32 bytes; exactly 16 for kAes128Cmac
};

struct KeysDiagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;    // 0 when the problem is the file itself
  int column = 0;  // 0 when the problem concerns the whole line
  std::string message;

  // "file:line:col: error: message" (line and column left out when 0).
  std::string to_string() const;
};

struct ParsedKeys {
  std::vector<SymmetricKey> keys;           // sorted by id, unique (a later line wins)
  std::vector<KeysDiagnostic> diagnostics;  // in line order
  bool has_errors() const;
};

// Parses a keys file already read into memory. Each line is
// "keyid type key", '#' starts a comment anywhere. keyid is 1..65535. A key
// of at most 20 characters is printable ASCII used as is; a longer one is
// hex (ntpsec: at most 64 digits are used, an odd last digit is dropped).
// AES-128-CMAC keys are padded with zeros or truncated to 16 bytes, as
// ntpsec does (with a warning). A bad line is skipped with an error naming
// file:line:column and what was expected, as ntpd skips it; a line with
// text after the key (ntpd 4.2.8's per-key address list) is skipped too,
// because ignoring that list would let any address use the key.
ParsedKeys parse_keys_file_text(const std::string& path_for_messages, std::string_view text);

}  // namespace ntpd::common
