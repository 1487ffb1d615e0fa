// Drift file parse and atomic write.
#include "ntpd-clock/drift_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ntpd::clock {

std::optional<std::int64_t> parse_drift_text(std::string_view text, std::string* why) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    *why = "empty";
    return std::nullopt;
  }
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  const std::string number(text.substr(first, last - first + 1));
  if (number.size() > 32) {
    *why = "not a number";
    return std::nullopt;
  }
  char* end = nullptr;
  const double ppm = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(ppm)) {
    *why = "not a number: '" + number + "'";
    return std::nullopt;
  }
  if (std::fabs(ppm) > static_cast<double>(kMaxDriftPpb) / 1000.0) {
    *why = "frequency " + number + " PPM is beyond +-500 PPM";
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(ppm * 1000.0));
}

std::string format_drift_text(std::int64_t frequency_ppb) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f\n", static_cast<double>(frequency_ppb) / 1000.0);
  return buffer;
}

DriftFile::DriftFile(common::UniqueFd dir, std::string path, std::string name)
    : dir_(std::move(dir)), path_(std::move(path)), name_(std::move(name)) {}

std::optional<DriftFile> DriftFile::open(const std::string& path, std::string* error) {
  const std::size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) {
    *error = "drift file path " + path + " names a directory";
    return std::nullopt;
  }
  common::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    *error = "cannot open drift file directory " + dir + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return DriftFile(std::move(fd), path, name);
}

std::optional<std::int64_t> DriftFile::read(std::string* why) const {
  why->clear();
  common::UniqueFd fd(::openat(dir_.get(), name_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno != ENOENT) *why = std::strerror(errno);
    return std::nullopt;
  }
  char buffer[128];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n < 0) {
    *why = std::strerror(errno);
    return std::nullopt;
  }
  if (static_cast<std::size_t>(n) == sizeof buffer) {
    *why = "file too large";
    return std::nullopt;
  }
  return parse_drift_text(std::string_view(buffer, static_cast<std::size_t>(n)), why);
}

bool DriftFile::write(std::int64_t frequency_ppb, std::string* error) const {
  const std::string temp = name_ + ".TEMP";
  const std::string text = format_drift_text(frequency_ppb);
  common::UniqueFd fd(::openat(dir_.get(), temp.c_str(),
                               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) {
    *error = "cannot create " + temp + ": " + std::strerror(errno);
    return false;
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd.get()) != 0) {
    *error = "cannot write " + temp + ": " + std::strerror(errno);
    ::unlinkat(dir_.get(), temp.c_str(), 0);
    return false;
  }
  fd.reset();
  if (::renameat(dir_.get(), temp.c_str(), dir_.get(), name_.c_str()) != 0) {
    *error = "cannot rename " + temp + ": " + std::strerror(errno);
    ::unlinkat(dir_.get(), temp.c_str(), 0);
    return false;
  }
  ::fsync(dir_.get());
  return true;
}

}  // namespace ntpd::clock
