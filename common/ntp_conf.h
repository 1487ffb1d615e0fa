// The ntp.conf parser: text in, NtpConfig plus diagnostics out. Pure core:
// it never opens a file itself (includefile goes through the FileReader the
// caller passes), never logs, never throws, and never resolves hostnames.
// Used by the clock process at start and by --check-config.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ntp_conf_types.h"

namespace ntpd::common {

inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;  // per file, main or included
inline constexpr int kMaxIncludeDepth = 8;           // includefile nesting below the main file
inline constexpr int kMaxIncludedFiles = 64;         // includefile reads per parse, in total
inline constexpr std::size_t kMaxDiagnostics = 200;  // more are counted in one last line

struct ConfigDiagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;    // 0 when the problem is the file itself (unreadable)
  int column = 0;  // 0 when the problem concerns the whole line
  std::string message;

  // "file:line:col: error: message" (line and column left out when 0).
  std::string to_string() const;
};

// Returns the file's content, or nullopt with a reason in *error
// (e.g. "No such file or directory"). read_text_file() is the daemon's.
using FileReader =
    std::function<std::optional<std::string>(const std::string& path, std::string* error)>;

struct ParsedConfig {
  NtpConfig config;
  // In file order with includes inline; warnings about fudge lines that
  // match no server come last, as fudges are applied after every server.
  std::vector<ConfigDiagnostic> diagnostics;
  // The daemon must refuse to start (fail closed): an access-control line
  // (restrict, unrestrict, discard, interface, nic) was rejected, or a file
  // whose content may hold such lines (the main file, an includefile) could
  // not be read.
  bool fatal = false;

  bool has_errors() const;
};

// Reads `path` with `reader` and parses it. Relative includefile paths are
// resolved against the directory of the file that names them. Every problem
// is a diagnostic: an unknown directive or bad value is an error and the line
// is skipped (as ntpd does); unsupported features (autokey, NTS, refclock
// drivers other than LOCAL, mode 7) are warnings.
ParsedConfig parse_ntp_conf(const std::string& path, const FileReader& reader);

// As parse_ntp_conf, on text already in memory. path_for_messages names the
// file in diagnostics and is the base for relative includefile paths.
// Text longer than kMaxConfigFileBytes is rejected (fatal).
ParsedConfig parse_ntp_conf_text(const std::string& path_for_messages, std::string_view text,
                                 const FileReader& reader_for_includes);

// The effective configuration in ntp.conf syntax, one directive per line,
// includes flattened, defaults left out. Parsing the output gives the same
// configuration (and the same description) again.
std::string describe_config(const NtpConfig& config);

}  // namespace ntpd::common
