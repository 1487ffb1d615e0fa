// The one thin I/O shell for reading small trusted text files (ntp.conf and
// its includes, keys, leap file) in the clock process. Reads whole files up
// to a size bound; never writes, never follows a size it was not told.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace ntpd::common {

inline constexpr std::size_t kDefaultMaxTextFileBytes = 1 << 20;  // 1 MiB

// Returns the file's bytes, or nullopt with *error (if not null) set to a
// reason such as "No such file or directory" or "larger than 1048576
// bytes". Directories and other non-regular files are refused.
std::optional<std::string> read_text_file(const std::string& path, std::string* error,
                                          std::size_t max_bytes = kDefaultMaxTextFileBytes);

}  // namespace ntpd::common
