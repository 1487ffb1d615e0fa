// The leap-seconds file (IERS/NIST leap-seconds.list, `leapfile` in
// ntp.conf): a pure parser with SHA-1 verification, and the pure decision
// "is a leap second due at the end of this UTC day". Runs in the clock
// process, which alone reads trusted files. Never arms the kernel and never
// logs: it returns what it found and the caller acts and warns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_types.h"

namespace ntpd::clock {

// One data line: from `ntp_seconds` (NTP era-0 seconds since 1900, the
// first second of a UTC month) on, TAI - UTC is `tai_offset_s`.
struct LeapEntry {
  std::int64_t ntp_seconds = 0;
  int tai_offset_s = 0;
  friend bool operator==(const LeapEntry&, const LeapEntry&) = default;
};

// The `#h` line, checked as ntpd does (ntp_leapsec.c leapsec_validate):
// SHA-1 over the digits of the `#$` line, the `#@` line and each data line
// up to its '#', in file order, compared with the five 32-bit hex words.
enum class LeapHash { kVerified, kMissing, kMalformed, kMismatch };

struct LeapTable {
  std::vector<LeapEntry> entries;  // strictly ascending; the first is the 1972 base
  std::int64_t updated_ntp_s = 0;  // `#$` (0 if absent)
  std::int64_t expires_ntp_s = 0;  // `#@` (required)
  LeapHash hash = LeapHash::kMissing;
};

// Parses the file text. `file_name` is used only in messages. nullopt with
// *error = "FILE:LINE: reason" (or "FILE: reason") on a malformed line, a
// transition that is not 00:00:00 UTC on the 1st of a month, times not
// ascending, a step in TAI - UTC other than +-1 s, an offset outside
// [0, 100] s, no data lines, or no `#@` expiration. A bad or missing hash is
// not an error here: it is reported in LeapTable::hash.
std::optional<LeapTable> parse_leap_file(std::string_view text, std::string_view file_name,
                                         std::string* error);

// Shell: reads `path` (size-bounded, regular files only) and parses it.
std::optional<LeapTable> load_leap_file(const std::string& path, std::string* error);

enum class LeapKind { kNone, kInsert, kDelete };

struct LeapDecision {
  // What to arm now (STA_INS / STA_DEL): a leap at the end of the current
  // UTC day, i.e. at `leap_ntp_s` (0 when kind is kNone).
  LeapKind kind = LeapKind::kNone;
  std::int64_t leap_ntp_s = 0;
  int tai_offset_s = 0;  // TAI - UTC in force at `now` (0 if the table does not say)
  // Human-readable problems for the caller to log (once, when they
  // change): the file expired, its hash is missing, wrong or malformed.
  std::vector<std::string> warnings;
};

inline constexpr std::int64_t kLeapAnnounceWindowS = 86'400;

// The leap scheduled at the end of the UTC day containing `now`, if any.
// ntpd announces a leap (sys_leap = LEAP_ADDSECOND/DELSECOND, and the kernel
// gets STA_INS/STA_DEL from it) only within the last day before the
// transition (ntpsec ntp_leapsec.c leapsec_query: LSPROX_ANNOUNCE when
// `when >= dtime - SECSPERDAY`; ntp_timer.c timer(); ntp_loopfilter.c
// local_clock), and Linux inserts or deletes the second at the next UTC
// midnight after STA_INS/STA_DEL are set (adjtimex(2)). So: due iff
// transition - 86400 s <= now < transition. Like ntpd, a file whose hash is
// wrong or malformed is not acted on; an expired file or one without a hash
// still is (its entries are history, not forecasts), with a warning.
LeapDecision leap_pending(const LeapTable& table, common::UnixNs now);

}  // namespace ntpd::clock
