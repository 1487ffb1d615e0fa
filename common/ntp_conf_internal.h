// Shared by the ntp_conf*.cc files only: the per-line token cursor that
// reports diagnostics, value parsers, and the directive handlers. Not part of
// the public API; nothing here does I/O or throws.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/ntp_conf.h"
#include "common/ntp_conf_lexer.h"

namespace ntpd::common::conf_detail {

// A fudge line waits for the end of the parse: ntpd applies fudges after all
// servers, so "fudge" may come before its "server".
struct PendingFudge {
  int type = 0;
  int unit = 0;
  FudgeOptions options;
  SourceLocation location;
  int column = 0;
};

// Everything the directive handlers share across lines.
struct ParseState {
  NtpConfig config;
  std::vector<PendingFudge> fudges;
  // Indexes that keep a long file linear: association and restrict target
  // keys to their position in config, refclocks already warned about (by
  // type * 256 + unit), trustedkey ids (so "(1 ... 65535)" stays cheap).
  std::unordered_map<std::string, std::size_t> association_index;
  std::unordered_map<std::string, std::size_t> restrict_index;
  std::array<std::uint64_t, 65536 / 64> unsupported_refclock_bits{};
  std::array<std::uint64_t, 65536 / 64> trusted_key_bits{};
  std::vector<ConfigDiagnostic> diagnostics;  // at most kMaxDiagnostics
  std::size_t error_count = 0;                // including those not kept
  std::size_t dropped_count = 0;
  std::size_t dropped_error_count = 0;

  // Keeps the first kMaxDiagnostics diagnostics and counts the rest, so a
  // megabyte of garbage cannot turn into gigabytes of messages.
  void report(ConfigDiagnostic diagnostic);
};

// Walks the tokens of one line. Error helpers return false so a handler can
// `return line.error(...)`. A handler reports at most one error: the first
// one makes it return false and the caller drops the line.
class LineCursor {
 public:
  LineCursor(const std::string& file, const ConfLine& line, ParseState& state);

  const ConfToken& directive() const { return line_.tokens.front(); }
  bool at_end() const { return next_ >= line_.tokens.size(); }
  const ConfToken& peek() const { return line_.tokens[next_]; }
  const ConfToken& take() { return line_.tokens[next_++]; }
  // The last token taken (the directive when none was).
  const ConfToken& previous() const;
  SourceLocation location() const { return {file_, line_.line}; }

  bool error(const ConfToken& at, std::string message);
  // For a missing value: points just past the last token taken.
  bool error_missing(std::string expected);
  void warning(const ConfToken& at, std::string message);
  // Reports "unexpected 'x'" unless every token was taken.
  bool expect_end();

  // Take the next token as a value; on failure report
  // "<what> expects an integer lo..hi, got 'x'" and return nullopt.
  std::optional<std::int64_t> take_int(std::string_view what, std::int64_t lo, std::int64_t hi);
  std::optional<double> take_double(std::string_view what, double lo, double hi);
  std::optional<bool> take_bool01(std::string_view what);  // "0" or "1"
  // A non-empty path without control bytes.
  std::optional<std::string> take_path(std::string_view what);

 private:
  const std::string& file_;
  const ConfLine& line_;
  ParseState& state_;
  std::size_t next_ = 1;  // token 0 is the directive
};

// Whole-token number parsing (std::from_chars; no exceptions, no locale).
std::optional<std::int64_t> parse_int(std::string_view text);
std::optional<double> parse_finite_double(std::string_view text);
std::optional<ConfigAddress> parse_numeric_address(std::string_view text);
// A mask address of the given family, e.g. 255.255.255.0 or ffff:ffff::.
std::optional<ConfigAddress> parse_mask(std::string_view text, AddressFamily family);
ConfigAddress prefix_mask(AddressFamily family, int prefix_len);
ConfigAddress apply_mask(const ConfigAddress& address, const ConfigAddress& mask);
// RFC 1123 host name: letters, digits, '-', '_' and dots, at most 253 bytes.
bool is_valid_hostname(std::string_view text);
std::string quote_for_message(std::string_view text);  // 'text', shortened if long

inline bool test_bit(const std::array<std::uint64_t, 1024>& bits, std::uint32_t index) {
  return (bits[index / 64] >> (index % 64)) & 1;
}
inline void set_bit(std::array<std::uint64_t, 1024>& bits, std::uint32_t index) {
  bits[index / 64] |= std::uint64_t{1} << (index % 64);
}

// Name tables shared by the handlers and describe_config(), so that what is
// parsed and what is printed cannot drift apart.
struct RestrictFlagName {
  std::string_view name;
  bool RestrictFlags::*member;
};
// All single-word restrict flags ("serverresponse fuzz" is two words).
inline constexpr RestrictFlagName kRestrictFlags[] = {
    {"ignore", &RestrictFlags::ignore},       {"kod", &RestrictFlags::kod},
    {"limited", &RestrictFlags::limited},     {"lowpriotrap", &RestrictFlags::lowpriotrap},
    {"mssntp", &RestrictFlags::mssntp},       {"nomodify", &RestrictFlags::nomodify},
    {"nomrulist", &RestrictFlags::nomrulist}, {"noepeer", &RestrictFlags::noepeer},
    {"nopeer", &RestrictFlags::nopeer},       {"noquery", &RestrictFlags::noquery},
    {"noserve", &RestrictFlags::noserve},     {"notrap", &RestrictFlags::notrap},
    {"notrust", &RestrictFlags::notrust},     {"ntpport", &RestrictFlags::ntpport},
    {"version", &RestrictFlags::version},
};

inline constexpr double kUnbounded = std::numeric_limits<double>::max();

struct TinkerField {
  std::string_view name;
  std::optional<double> TinkerConfig::*member;
  double lo;
  double hi;
};
inline constexpr TinkerField kTinkerFields[] = {
    {"step", &TinkerConfig::step_s, 0, kUnbounded},
    {"stepout", &TinkerConfig::stepout_s, 0, kUnbounded},
    {"panic", &TinkerConfig::panic_s, 0, kUnbounded},
    {"dispersion", &TinkerConfig::dispersion_ppm, 0, kUnbounded},
    {"allan", &TinkerConfig::allan_s, 0, kUnbounded},
    {"freq", &TinkerConfig::freq_ppm, -500, 500},
    {"huffpuff", &TinkerConfig::huffpuff_s, 0, kUnbounded},
};

// tos: integer fields (cohort, a 0/1 flag, is handled apart).
struct TosIntField {
  std::string_view name;
  std::optional<int> TosConfig::*member;
  std::int64_t lo;
  std::int64_t hi;
};
inline constexpr std::int64_t kIntMax = std::numeric_limits<std::int32_t>::max();
inline constexpr TosIntField kTosIntFields[] = {
    {"minclock", &TosConfig::minclock, 1, 100},
    {"maxclock", &TosConfig::maxclock, 1, 100},
    {"minsane", &TosConfig::minsane, 0, 100},
    {"orphan", &TosConfig::orphan, 1, 15},
    {"orphanwait", &TosConfig::orphanwait_s, 0, kIntMax},
    {"floor", &TosConfig::floor, 0, 15},
    {"ceiling", &TosConfig::ceiling, 1, 16},
    {"beacon", &TosConfig::beacon_s, 1, kIntMax},
};
struct TosDoubleField {
  std::string_view name;
  std::optional<double> TosConfig::*member;
};
inline constexpr TosDoubleField kTosDoubleFields[] = {
    {"mindist", &TosConfig::mindist_s},
    {"maxdist", &TosConfig::maxdist_s},
};

struct MruField {
  std::string_view name;
  std::optional<std::int64_t> MruConfig::*member;
};
inline constexpr MruField kMruFields[] = {
    {"maxdepth", &MruConfig::maxdepth},   {"maxmem", &MruConfig::maxmem_kib},
    {"mindepth", &MruConfig::mindepth},   {"maxage", &MruConfig::maxage_s},
    {"minage", &MruConfig::minage_s},     {"initalloc", &MruConfig::initalloc},
    {"initmem", &MruConfig::initmem_kib}, {"incalloc", &MruConfig::incalloc},
    {"incmem", &MruConfig::incmem_kib},
};

struct SystemFlagField {
  std::string_view name;
  std::optional<bool> SystemFlags::*member;
};
inline constexpr SystemFlagField kSystemFlagFields[] = {
    {"auth", &SystemFlags::auth},           {"bclient", &SystemFlags::bclient},
    {"calibrate", &SystemFlags::calibrate}, {"kernel", &SystemFlags::kernel},
    {"monitor", &SystemFlags::monitor},     {"ntp", &SystemFlags::ntp},
    {"stats", &SystemFlags::stats},         {"pps", &SystemFlags::pps},
    {"mode7", &SystemFlags::mode7},         {"rtc", &SystemFlags::rtc},
};

inline constexpr std::string_view kStatisticsNames[] = {
    "clockstats", "cryptostats", "loopstats",   "peerstats", "protostats",
    "rawstats",   "sysstats",    "timingstats", "usestats",
};

struct FilegenTypeName {
  std::string_view name;
  FilegenType type;
};
inline constexpr FilegenTypeName kFilegenTypes[] = {
    {"none", FilegenType::kNone}, {"pid", FilegenType::kPid},     {"day", FilegenType::kDay},
    {"week", FilegenType::kWeek}, {"month", FilegenType::kMonth}, {"year", FilegenType::kYear},
    {"age", FilegenType::kAge},
};

// Directive handlers. Each parses one line and changes state.config only
// when the whole line is valid.
bool parse_association(LineCursor& line, ParseState& state, AssociationKind kind);
bool parse_fudge(LineCursor& line, ParseState& state);
// Applies pending fudges to their refclocks; warns about the rest.
void finish_refclocks(ParseState& state);

bool parse_restrict(LineCursor& line, ParseState& state, bool unrestrict);
bool parse_discard(LineCursor& line, ParseState& state);
bool parse_interface(LineCursor& line, ParseState& state);

bool parse_tinker(LineCursor& line, ParseState& state);
bool parse_tos(LineCursor& line, ParseState& state);
bool parse_enable_disable(LineCursor& line, ParseState& state, bool enable);
bool parse_mru(LineCursor& line, ParseState& state);
bool parse_trustedkey(LineCursor& line, ParseState& state);
bool parse_statistics(LineCursor& line, ParseState& state);
bool parse_filegen(LineCursor& line, ParseState& state);
bool parse_logconfig(LineCursor& line, ParseState& state);
// Moves trusted_key_bits into config.trusted_keys.
void finish_trusted_keys(ParseState& state);

// "server", "pool", "peer", "broadcast", "manycastclient".
std::string_view kind_name(AssociationKind kind);

}  // namespace ntpd::common::conf_detail
