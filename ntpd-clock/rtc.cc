// RTC: adjtime parsing, rtc_time conversion, the set policy, and the one
// RTC_SET_TIME call. Only Rtc::set touches the hardware clock; nothing here
// reads or sets the system clock.
#include "ntpd-clock/rtc.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/text_file.h"

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::size_t kMaxAdjtimeBytes = 4096;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

RtcTimescale parse_adjtime(std::string_view text, std::string* warning) {
  warning->clear();
  std::string_view line3;
  for (int line = 1; line <= 3; ++line) {
    const std::size_t newline = text.find('\n');
    line3 = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line < 3 && newline == std::string_view::npos) return RtcTimescale::kUtc;
  }
  if (line3 == "LOCAL") return RtcTimescale::kLocal;
  if (line3 != "UTC" && !line3.empty()) {
    *warning = "unrecognized third line in adjtime file (expected 'UTC' or 'LOCAL'): using UTC";
  }
  return RtcTimescale::kUtc;
}

RtcTimescale load_adjtime(const std::string& path, std::string* warning) {
  warning->clear();
  std::string why;
  const std::optional<std::string> text =
      common::read_text_file_at_most(path, kMaxAdjtimeBytes, &why);
  if (!text) {
    if (why != std::strerror(ENOENT)) *warning = path + ": " + why + ": using UTC";
    return RtcTimescale::kUtc;
  }
  const RtcTimescale timescale = parse_adjtime(*text, warning);
  if (!warning->empty()) *warning = path + ": " + *warning;
  return timescale;
}

UtcOffsetFn system_utc_offset() {
  ::tzset();
  return [](std::int64_t unix_s) -> std::int64_t {
    const time_t t = static_cast<time_t>(unix_s);
    struct tm local {};
    if (::localtime_r(&t, &local) == nullptr) return 0;
    return local.tm_gmtoff;
  };
}

std::optional<rtc_time> rtc_time_for(common::UnixNs now, RtcTimescale timescale,
                                     const UtcOffsetFn& utc_offset, std::string* error) {
  std::int64_t seconds = floor_div(now.ns, common::kNsPerSecond);
  if (now.ns - seconds * common::kNsPerSecond >= common::kNsPerSecond / 2) ++seconds;
  if (timescale == RtcTimescale::kLocal) {
    if (!utc_offset) {
      *error = "local-time RTC without a time zone offset function";
      return std::nullopt;
    }
    const std::int64_t offset_s = utc_offset(seconds);
    if (offset_s > kSecondsPerDay || offset_s < -kSecondsPerDay) {
      *error = "time zone offset " + std::to_string(offset_s) + " s is beyond a day";
      return std::nullopt;
    }
    seconds += offset_s;
  }
  const std::int64_t days = floor_div(seconds, kSecondsPerDay);
  const std::int64_t second_of_day = seconds - days * kSecondsPerDay;
  const std::chrono::sys_days day{std::chrono::days{days}};
  const std::chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 1970) {
    *error = "year " + std::to_string(year) + " is before what an RTC is set to";
    return std::nullopt;
  }
  const std::chrono::sys_days jan1{
      std::chrono::year_month_day{ymd.year(), std::chrono::January, std::chrono::day{1}}};
  rtc_time out{};
  out.tm_sec = static_cast<int>(second_of_day % 60);
  out.tm_min = static_cast<int>(second_of_day / 60 % 60);
  out.tm_hour = static_cast<int>(second_of_day / 3600);
  out.tm_mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.tm_mon = static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  out.tm_year = year - 1900;
  out.tm_wday = static_cast<int>(std::chrono::weekday{day}.c_encoding());
  out.tm_yday = static_cast<int>((day - jan1).count());
  out.tm_isdst = 0;
  return out;
}

bool RtcPolicy::due(bool synchronized, std::int64_t now_mono_ns) {
  if (!enabled_ || !synchronized) return false;
  if (last_set_mono_ns_ && now_mono_ns - *last_set_mono_ns_ < kIntervalNs) return false;
  last_set_mono_ns_ = now_mono_ns;
  return true;
}

std::optional<Rtc> Rtc::open(const std::string& path, std::string* error) {
  int fd = -1;
  do {
    // hwclock opens the RTC read-only for RTC_SET_TIME too (hwclock-rtc.c).
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return Rtc(common::UniqueFd(fd), path);
}

bool Rtc::set(const rtc_time& time, std::string* error) {
  rtc_time copy = time;
  int rc = -1;
  do {
    rc = ::ioctl(fd_.get(), RTC_SET_TIME, &copy);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    *error = "RTC_SET_TIME on " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace ntpd::clock
