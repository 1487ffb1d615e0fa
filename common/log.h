// Logging for both processes: one line per event, tagged with the process
// ("[clock]", "[net]") and a subsystem word the caller puts first
// ("STEP:", "IPC:"). The sink is chosen once at start: stderr, syslog, a
// file (-l), or a callback (ntpd-net forwards to the clock process over IPC,
// since it cannot reach syslog from its jail).
#pragma once

#include <syslog.h>

#include <cstdarg>
#include <functional>
#include <string>
#include <string_view>

namespace ntpd::common {

using LogCallback = std::function<void(int priority, std::string_view line)>;

// process_tag is "clock" or "net". min_priority is a syslog priority
// (LOG_DEBUG..LOG_EMERG); messages less severe than it are dropped.
void log_to_stderr(std::string_view process_tag, int min_priority);
void log_to_syslog(std::string_view process_tag, int min_priority, bool daemon_facility = true);
// Returns false (and keeps the previous sink) if the file cannot be opened.
bool log_to_file(std::string_view process_tag, int min_priority, const std::string& path);
void log_to_callback(std::string_view process_tag, int min_priority, LogCallback callback);
void set_log_min_priority(int min_priority);
int log_min_priority();

// printf-style; the text is one line (embedded newlines become spaces).
void logf(int priority, const char* format, ...) __attribute__((format(printf, 2, 3)));
void vlogf(int priority, const char* format, va_list args);

// Writes an already-formatted line (e.g. one that came from ntpd-net) under
// this process's sink. Control characters are replaced, length is capped.
void log_line(int priority, std::string_view text);

// Replaces control and non-ASCII bytes with '?' and truncates to max_bytes:
// what the clock process does to any text that came from ntpd-net.
std::string sanitize_log_text(std::string_view text, std::size_t max_bytes);

}  // namespace ntpd::common
