// Sinks for common/log.h. Not thread-safe by design: both processes are
// single-threaded event loops.
#include "common/log.h"

#include <cstdio>
#include <ctime>
#include <memory>

namespace ntpd::common {
namespace {

enum class Sink { kStderr, kSyslog, kFile, kCallback };

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

struct LogState {
  Sink sink = Sink::kStderr;
  std::string tag = "ntpd";
  int min_priority = LOG_NOTICE;
  std::unique_ptr<std::FILE, FileCloser> file;
  LogCallback callback;
};

LogState& state() {
  static LogState s;
  return s;
}

constexpr std::size_t kMaxLineBytes = 1024;

const char* priority_name(int priority) {
  switch (priority) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
      return "crit";
    case LOG_ERR:
      return "err";
    case LOG_WARNING:
      return "warning";
    case LOG_NOTICE:
      return "notice";
    case LOG_INFO:
      return "info";
    default:
      return "debug";
  }
}

void write_stamped(std::FILE* f, int priority, std::string_view text) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm parts{};
  gmtime_r(&now.tv_sec, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
  std::fprintf(f, "%s.%03ldZ [%s] %s: %.*s\n", stamp, now.tv_nsec / 1000000, state().tag.c_str(),
               priority_name(priority), static_cast<int>(text.size()), text.data());
  std::fflush(f);
}

void emit(int priority, std::string_view text) {
  LogState& s = state();
  if (priority > s.min_priority) return;
  switch (s.sink) {
    case Sink::kStderr:
      write_stamped(stderr, priority, text);
      break;
    case Sink::kFile:
      write_stamped(s.file.get(), priority, text);
      break;
    case Sink::kSyslog:
      syslog(priority, "[%s] %.*s", s.tag.c_str(), static_cast<int>(text.size()), text.data());
      break;
    case Sink::kCallback:
      s.callback(priority, text);
      break;
  }
}

void set_common(Sink sink, std::string_view tag, int min_priority) {
  LogState& s = state();
  s.sink = sink;
  s.tag = std::string(tag);
  s.min_priority = min_priority;
}

}  // namespace

void log_to_stderr(std::string_view process_tag, int min_priority) {
  set_common(Sink::kStderr, process_tag, min_priority);
}

void log_to_syslog(std::string_view process_tag, int min_priority, bool daemon_facility) {
  openlog("ntpd", LOG_PID | LOG_NDELAY, daemon_facility ? LOG_DAEMON : LOG_USER);
  set_common(Sink::kSyslog, process_tag, min_priority);
}

bool log_to_file(std::string_view process_tag, int min_priority, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return false;
  state().file.reset(f);
  set_common(Sink::kFile, process_tag, min_priority);
  return true;
}

void log_to_callback(std::string_view process_tag, int min_priority, LogCallback callback) {
  state().callback = std::move(callback);
  set_common(Sink::kCallback, process_tag, min_priority);
}

void set_log_min_priority(int min_priority) { state().min_priority = min_priority; }
int log_min_priority() { return state().min_priority; }

std::string sanitize_log_text(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (char c : text) {
    if (out.size() >= max_bytes) break;
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte >= 0x20 && byte < 0x7f ? c : '?');
  }
  return out;
}

void vlogf(int priority, const char* format, va_list args) {
  if (priority > state().min_priority) return;
  char buffer[kMaxLineBytes];
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  if (n < 0) return;
  const std::size_t len = std::min(static_cast<std::size_t>(n), sizeof buffer - 1);
  for (std::size_t i = 0; i < len; ++i) {
    if (buffer[i] == '\n' || buffer[i] == '\r') buffer[i] = ' ';
  }
  emit(priority, std::string_view(buffer, len));
}

void logf(int priority, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlogf(priority, format, args);
  va_end(args);
}

void log_line(int priority, std::string_view text) {
  emit(priority, sanitize_log_text(text, kMaxLineBytes));
}

}  // namespace ntpd::common
