// Leap-seconds file: parse, verify (OpenSSL EVP SHA-1), decide. The format
// and hashing rule are those of the IERS/NIST leap-seconds.list header
// (https://hpiers.obspm.fr/iers/bul/bulc/ntp/sources/README) as ntpd reads
// them (ntp_leapsec.c). Pure except load_leap_file(), which only reads.
#include "ntpd-clock/leap_file.h"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>

#include "common/text_file.h"

namespace ntpd::clock {
namespace {

constexpr int kMaxTaiOffsetS = 100;  // ntp 4.2 ntp_util.c MAX_TAI
constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::size_t kSha1Bytes = 20;

struct EvpMdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree>;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Consumes one decimal integer (optional '-') at the front of `s`.
bool take_integer(std::string_view* s, std::int64_t* out) {
  const char* begin = s->data();
  const char* end = begin + s->size();
  const auto [ptr, ec] = std::from_chars(begin, end, *out);
  if (ec != std::errc() || ptr == begin) return false;
  s->remove_prefix(static_cast<std::size_t>(ptr - begin));
  return true;
}

// A `#$` or `#@` line: one non-negative integer, nothing else.
bool parse_time_line(std::string_view rest, std::int64_t* out) {
  rest = trim(rest);
  return take_integer(&rest, out) && rest.empty() && *out > 0;
}

// `#h` followed by five 32-bit words in hex. NIST writes them without
// leading zeros, so each word is 1 to 8 digits (ntp_leapsec.c do_leap_hash).
bool parse_hash_line(std::string_view rest, std::array<unsigned char, kSha1Bytes>* digest) {
  for (std::size_t word = 0; word < 5; ++word) {
    rest = trim(rest);
    std::size_t digits = 0;
    while (digits < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[digits])) != 0) {
      ++digits;
    }
    if (digits == 0 || digits > 8 || (digits < rest.size() && !is_space(rest[digits]))) {
      return false;
    }
    std::uint32_t value = 0;
    std::from_chars(rest.data(), rest.data() + digits, value, 16);
    for (std::size_t byte = 0; byte < 4; ++byte) {
      (*digest)[word * 4 + byte] = static_cast<unsigned char>(value >> (24 - 8 * byte));
    }
    rest.remove_prefix(digits);
  }
  return trim(rest).empty();
}

// Feeds the digits of `text` up to the first '#' to the hash.
void hash_digits(EVP_MD_CTX* ctx, std::string_view text) {
  std::string digits;
  for (const char c : text) {
    if (c == '#') break;
    if (is_digit(c)) digits.push_back(c);
  }
  if (!digits.empty()) EVP_DigestUpdate(ctx, digits.data(), digits.size());
}

bool is_month_start(std::int64_t ntp_seconds) {
  const std::int64_t unix_s = ntp_seconds - common::kNtpToUnixSeconds;
  if (unix_s % kSecondsPerDay != 0) return false;
  const std::chrono::sys_days day{std::chrono::days{unix_s / kSecondsPerDay}};
  return std::chrono::year_month_day{day}.day() == std::chrono::day{1};
}

std::string utc_date(std::int64_t ntp_seconds) {
  std::int64_t unix_s = ntp_seconds - common::kNtpToUnixSeconds;
  std::int64_t days = unix_s / kSecondsPerDay;
  if (unix_s % kSecondsPerDay < 0) --days;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

class Parser {
 public:
  Parser(std::string_view file_name, std::string* error) : file_name_(file_name), error_(error) {}

  std::optional<LeapTable> run(std::string_view text) {
    const EvpMdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1) {
      return fail_file("cannot initialise SHA-1");
    }
    ctx_ = ctx.get();
    std::size_t line_number = 0;
    while (!text.empty()) {
      const std::size_t newline = text.find('\n');
      const std::string_view line = trim(text.substr(0, newline));
      text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
      ++line_number;
      if (!parse_line(line, line_number)) return std::nullopt;
    }
    if (table_.entries.empty()) return fail_file("no leap second entries");
    if (table_.expires_ntp_s == 0) return fail_file("no expiration line ('#@')");
    std::array<unsigned char, kSha1Bytes> computed{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_, computed.data(), &length) != 1 || length != kSha1Bytes) {
      return fail_file("SHA-1 failed");
    }
    if (table_.hash == LeapHash::kVerified) {
      table_.hash = computed == expected_ ? LeapHash::kVerified : LeapHash::kMismatch;
    }
    return std::move(table_);
  }

 private:
  bool parse_line(std::string_view line, std::size_t line_number) {
    if (line.empty()) return true;
    if (line.starts_with("#$") || line.starts_with("#@")) {
      std::int64_t* target = line[1] == '$' ? &table_.updated_ntp_s : &table_.expires_ntp_s;
      const char* what = line[1] == '$' ? "update time ('#$')" : "expiration time ('#@')";
      if (*target != 0) return fail(line_number, std::string("second ") + what);
      if (!parse_time_line(line.substr(2), target))
        return fail(line_number, std::string("bad ") + what);
      hash_digits(ctx_, line.substr(2));
      return true;
    }
    if (line.starts_with("#h")) {
      if (seen_hash_line_ || !parse_hash_line(line.substr(2), &expected_)) {
        table_.hash = LeapHash::kMalformed;
      } else if (table_.hash == LeapHash::kMissing) {
        table_.hash = LeapHash::kVerified;  // provisional: compared at the end
      }
      seen_hash_line_ = true;
      return true;
    }
    if (line.front() == '#') return true;
    if (!is_digit(line.front())) return fail(line_number, "expected 'NTP_SECONDS TAI_OFFSET'");
    return parse_data_line(line, line_number);
  }

  bool parse_data_line(std::string_view line, std::size_t line_number) {
    hash_digits(ctx_, line);
    std::string_view rest = line;
    std::int64_t ntp_seconds = 0;
    std::int64_t tai_offset = 0;
    if (!take_integer(&rest, &ntp_seconds) || rest.empty() || !is_space(rest.front())) {
      return fail(line_number, "expected 'NTP_SECONDS TAI_OFFSET'");
    }
    rest = trim(rest);
    if (!take_integer(&rest, &tai_offset)) return fail(line_number, "bad TAI-UTC offset");
    if (!rest.empty() && !is_space(rest.front()) && rest.front() != '#') {
      return fail(line_number, "bad TAI-UTC offset");
    }
    rest = trim(rest);
    if (!rest.empty() && rest.front() != '#') return fail(line_number, "text after the offset");
    if (tai_offset < 0 || tai_offset > kMaxTaiOffsetS) {
      return fail(line_number, "TAI-UTC offset " + std::to_string(tai_offset) + " out of range");
    }
    if (ntp_seconds <= common::kNtpToUnixSeconds || !is_month_start(ntp_seconds)) {
      return fail(line_number, "time " + std::to_string(ntp_seconds) +
                                   " is not 00:00:00 UTC on the first of a month");
    }
    if (!table_.entries.empty()) {
      const LeapEntry& last = table_.entries.back();
      if (ntp_seconds <= last.ntp_seconds) return fail(line_number, "times not ascending");
      const std::int64_t step = tai_offset - last.tai_offset_s;
      if (step != 1 && step != -1) {
        return fail(line_number, "TAI-UTC changes by " + std::to_string(step) + " s, not +-1 s");
      }
    }
    table_.entries.push_back(LeapEntry{ntp_seconds, static_cast<int>(tai_offset)});
    return true;
  }

  // Sets *error_ to "FILE:LINE: reason" ("FILE: reason" for line 0).
  bool fail(std::size_t line_number, const std::string& reason) {
    *error_ = std::string(file_name_);
    if (line_number != 0) *error_ += ":" + std::to_string(line_number);
    *error_ += ": " + reason;
    return false;
  }

  std::nullopt_t fail_file(const std::string& reason) {
    fail(0, reason);
    return std::nullopt;
  }

  std::string_view file_name_;
  std::string* error_;
  EVP_MD_CTX* ctx_ = nullptr;
  LeapTable table_;
  std::array<unsigned char, kSha1Bytes> expected_{};
  bool seen_hash_line_ = false;
};

}  // namespace

std::optional<LeapTable> parse_leap_file(std::string_view text, std::string_view file_name,
                                         std::string* error) {
  return Parser(file_name, error).run(text);
}

std::optional<LeapTable> load_leap_file(const std::string& path, std::string* error) {
  std::string why;
  const std::optional<std::string> text = common::read_text_file(path, &why);
  if (!text) {
    *error = path + ": " + why;
    return std::nullopt;
  }
  return parse_leap_file(*text, path, error);
}

LeapDecision leap_pending(const LeapTable& table, common::UnixNs now) {
  LeapDecision decision;
  std::int64_t now_s = now.ns / common::kNsPerSecond;
  if (now.ns % common::kNsPerSecond < 0) --now_s;
  const std::int64_t now_ntp_s = now_s + common::kNtpToUnixSeconds;

  switch (table.hash) {
    case LeapHash::kVerified:
      break;
    case LeapHash::kMissing:
      decision.warnings.push_back("leap file has no hash ('#h'): integrity not verified");
      break;
    case LeapHash::kMalformed:
      decision.warnings.push_back("leap file hash line ('#h') is malformed: file ignored");
      return decision;
    case LeapHash::kMismatch:
      decision.warnings.push_back("leap file hash mismatch: file ignored");
      return decision;
  }
  // ntp_leapsec.c leapsec_expired(): expired from the expiration second on.
  if (now_ntp_s >= table.expires_ntp_s) {
    decision.warnings.push_back("leap file expired on " + utc_date(table.expires_ntp_s) +
                                ": install a current one (tzdata) or leap seconds may be missed");
  }

  std::size_t next = 0;
  while (next < table.entries.size() && table.entries[next].ntp_seconds <= now_ntp_s) ++next;
  if (next > 0) decision.tai_offset_s = table.entries[next - 1].tai_offset_s;
  if (next == 0 || next == table.entries.size()) return decision;

  const LeapEntry& transition = table.entries[next];
  if (now_ntp_s < transition.ntp_seconds - kLeapAnnounceWindowS) return decision;
  decision.kind = transition.tai_offset_s > table.entries[next - 1].tai_offset_s
                      ? LeapKind::kInsert
                      : LeapKind::kDelete;
  decision.leap_ntp_s = transition.ntp_seconds;
  return decision;
}

}  // namespace ntpd::clock
