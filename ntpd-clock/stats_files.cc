// loopstats formatting, file-generation naming, and the appending writer.
// Writes only inside the statsdir fd: openat, fstatat, linkat, renameat (and
// unlinkat of our own stale temporary link name).
#include "ntpd-clock/stats_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kMjdOfUnixEpoch = 40'587;  // MJD of 1970-01-01
constexpr std::int64_t kNsPerMs = 1'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// `value` has `scale` decimal digits after the point; prints it with
// `decimals` >= `scale` digits after the point, as printf's %.Nf would.
std::string fixed_point(std::int64_t value, int scale, int decimals) {
  std::uint64_t magnitude =
      value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::uint64_t unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s%" PRIu64 ".%0*" PRIu64, value < 0 ? "-" : "",
                magnitude / unit, scale, magnitude % unit);
  std::string out = buffer;
  out.append(static_cast<std::size_t>(decimals - scale), '0');
  return out;
}

std::chrono::year_month_day utc_date(common::UnixNs now) {
  const std::int64_t days = floor_div(floor_div(now.ns, common::kNsPerSecond), kSecondsPerDay);
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

// ISO 8601 week-numbering year and week of the UTC day containing `now`.
std::pair<int, unsigned> iso_week(common::UnixNs now) {
  const std::int64_t days = floor_div(floor_div(now.ns, common::kNsPerSecond), kSecondsPerDay);
  const std::chrono::sys_days day{std::chrono::days{days}};
  const int iso_weekday = static_cast<int>(std::chrono::weekday{day}.iso_encoding());  // Mon=1
  const std::chrono::sys_days thursday = day + std::chrono::days{4 - iso_weekday};
  const std::chrono::year year = std::chrono::year_month_day{thursday}.year();
  const std::chrono::sys_days jan1{year / std::chrono::January / 1};
  return {static_cast<int>(year), static_cast<unsigned>((thursday - jan1).count() / 7 + 1)};
}

bool valid_base_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::string format_loopstats_line(const LoopStatsRecord& record) {
  const std::int64_t unix_s = floor_div(record.time.ns, common::kNsPerSecond);
  const std::int64_t days = floor_div(unix_s, kSecondsPerDay);
  const std::int64_t ns_of_day = record.time.ns - days * kSecondsPerDay * common::kNsPerSecond;
  // ulfptoa(&now, 3) rounds half up; like ntpd, 86399.9995 s prints as 86400.000.
  const std::int64_t ms_of_day = (ns_of_day + kNsPerMs / 2) / kNsPerMs;
  std::string line = std::to_string(days + kMjdOfUnixEpoch);
  line += ' ' + fixed_point(ms_of_day, 3, 3);
  line += ' ' + fixed_point(record.offset_ns, 9, 9);
  line += ' ' + fixed_point(record.frequency_ppb, 3, 3);
  line += ' ' + fixed_point(record.jitter_ns, 9, 9);
  line += ' ' + fixed_point(record.wander_ppb, 3, 6);
  line += ' ' + std::to_string(record.poll_log2s) + '\n';
  return line;
}

std::optional<std::string> filegen_file_name(std::string_view base, common::FilegenType type,
                                             common::UnixNs now, pid_t pid) {
  using common::FilegenType;
  char suffix[48];
  const std::chrono::year_month_day ymd = utc_date(now);
  const int year = static_cast<int>(ymd.year());
  const auto month = static_cast<unsigned>(ymd.month());
  switch (type) {
    case FilegenType::kNone:
      return std::string(base);
    case FilegenType::kPid:
      std::snprintf(suffix, sizeof suffix, ".#%ld", static_cast<long>(pid));
      break;
    case FilegenType::kDay:
      std::snprintf(suffix, sizeof suffix, ".%04d%02u%02u", year, month,
                    static_cast<unsigned>(ymd.day()));
      break;
    case FilegenType::kWeek: {
      const auto [iso_year, week] = iso_week(now);
      std::snprintf(suffix, sizeof suffix, ".%04dw%02u", iso_year, week);
      break;
    }
    case FilegenType::kMonth:
      std::snprintf(suffix, sizeof suffix, ".%04d%02u", year, month);
      break;
    case FilegenType::kYear:
      std::snprintf(suffix, sizeof suffix, ".%04d", year);
      break;
    case FilegenType::kAge:
    default:
      return std::nullopt;
  }
  return std::string(base) + suffix;
}

StatsFile::StatsFile(common::UniqueFd dir, std::string dir_path, FilegenSettings settings,
                     pid_t pid)
    : dir_(std::move(dir)),
      dir_path_(std::move(dir_path)),
      settings_(std::move(settings)),
      pid_(pid) {}

std::optional<StatsFile> StatsFile::open(const std::string& stats_dir, FilegenSettings settings,
                                         std::string* error) {
  if (!valid_base_name(settings.base_name)) {
    *error = "statistics file name '" + settings.base_name + "' must be one name inside statsdir";
    return std::nullopt;
  }
  if (!filegen_file_name(settings.base_name, settings.type, common::UnixNs{}, 0)) {
    *error = "filegen " + settings.base_name + ": type age is not supported";
    return std::nullopt;
  }
  common::UniqueFd dir(::open(stats_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    *error = errno_text("cannot open statsdir " + stats_dir);
    return std::nullopt;
  }
  return StatsFile(std::move(dir), stats_dir, std::move(settings), ::getpid());
}

StatsWrite StatsFile::append(common::UnixNs now, std::string_view line) {
  StatsWrite result;
  const std::string name = *filegen_file_name(settings_.base_name, settings_.type, now, pid_);
  if (name != current_name_ || !file_) {
    common::UniqueFd fd(::openat(dir_.get(), name.c_str(),
                                 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd) {
      file_ = std::move(fd);
      current_name_ = name;
      if (settings_.link && settings_.type != common::FilegenType::kNone) {
        result.error = update_link();
      }
    } else {
      // ntp_filegen.c: keep the previous generation rather than lose output.
      result.error = errno_text("cannot open " + dir_path_ + "/" + name);
      if (!file_) return result;
    }
  }
  std::string text(line);
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  ssize_t n = -1;
  do {
    n = ::write(file_.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(text.size())) {
    result.error = n < 0 ? errno_text("cannot write " + dir_path_ + "/" + current_name_)
                         : "short write to " + dir_path_ + "/" + current_name_;
    return result;
  }
  result.written = true;
  return result;
}

// Points `base_name` at the current generation. Returns "" or a problem.
std::string StatsFile::update_link() {
  const std::string& base = settings_.base_name;
  const std::string where = dir_path_ + "/" + base;
  struct stat current {};
  struct stat existing {};
  if (::fstat(file_.get(), &current) != 0) return errno_text("cannot stat " + current_name_);
  if (::fstatat(dir_.get(), base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISREG(existing.st_mode)) return "expected a regular file or link at " + where;
    if (existing.st_dev == current.st_dev && existing.st_ino == current.st_ino) return "";
    if (existing.st_nlink <= 1) {
      // Not a link to any generation: keep it, as ntp_filegen.c does.
      const std::string saved =
          base + "." + std::to_string(pid_) + "C" + std::to_string(saved_conflicts_++);
      if (::renameat(dir_.get(), base.c_str(), dir_.get(), saved.c_str()) != 0) {
        return errno_text("cannot save " + where);
      }
    }
  } else if (errno != ENOENT) {
    return errno_text("cannot stat " + where);
  }
  const std::string temporary = base + ".link-new";
  int rc = ::linkat(dir_.get(), current_name_.c_str(), dir_.get(), temporary.c_str(), 0);
  if (rc != 0 && errno == EEXIST) {
    ::unlinkat(dir_.get(), temporary.c_str(), 0);
    rc = ::linkat(dir_.get(), current_name_.c_str(), dir_.get(), temporary.c_str(), 0);
  }
  if (rc != 0) return errno_text("cannot link " + current_name_ + " to " + where);
  if (::renameat(dir_.get(), temporary.c_str(), dir_.get(), base.c_str()) != 0) {
    const std::string problem = errno_text("cannot rename link to " + where);
    ::unlinkat(dir_.get(), temporary.c_str(), 0);
    return problem;
  }
  return "";
}

}  // namespace ntpd::clock
