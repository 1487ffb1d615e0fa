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
// bytes". Directories, FIFOs and devices are refused. Has the FileReader
// signature (ntp_conf.h), so it can be passed to parse_ntp_conf directly.
std::optional<std::string> read_text_file(const std::string& path, std::string* error);

// As read_text_file, with another size bound.
std::optional<std::string> read_text_file_at_most(const std::string& path, std::size_t max_bytes,
                                                  std::string* error);

}  // namespace ntpd::common
