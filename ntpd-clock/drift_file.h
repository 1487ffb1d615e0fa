// The drift file (ntpd format: one number, the frequency correction in
// PPM). Parsing is pure; writing is atomic (temporary file, fsync, rename,
// fsync of the directory) through a directory fd opened at startup, so a
// crash at any instant leaves the old or the new content, never a torn file.
// The only code that writes the drift file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace ntpd::clock {

inline constexpr std::int64_t kMaxDriftPpb = 500'000;  // +-500 PPM

// Parses drift file text; nullopt with a reason if it is not one finite
// number within +-500 PPM.
std::optional<std::int64_t> parse_drift_text(std::string_view text, std::string* why);
std::string format_drift_text(std::int64_t frequency_ppb);

class DriftFile {
 public:
  // Opens the directory that holds `path`. Empty path: no drift file.
  static std::optional<DriftFile> open(const std::string& path, std::string* error);

  // Reads the current value; nullopt if absent, unreadable or invalid
  // (*why says which, empty when simply absent).
  std::optional<std::int64_t> read(std::string* why) const;
  bool write(std::int64_t frequency_ppb, std::string* error) const;
  const std::string& path() const { return path_; }

 private:
  DriftFile(common::UniqueFd dir, std::string path, std::string name);
  common::UniqueFd dir_;
  std::string path_;
  std::string name_;
};

}  // namespace ntpd::clock
