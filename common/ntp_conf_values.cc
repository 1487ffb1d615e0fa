// Value parsing for the ntp.conf parser: the per-line cursor with its
// diagnostics, numbers, addresses, masks and host names. Pure: inet_pton and
// std::from_chars only; nothing here throws or touches the network.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/ntp_conf_internal.h"

namespace ntpd::common {

std::string SourceLocation::to_string() const { return file + ":" + std::to_string(line); }

std::string ConfigAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  const int af = family == AddressFamily::kIpv6 ? AF_INET6 : AF_INET;
  if (inet_ntop(af, bytes.data(), buffer, sizeof buffer) == nullptr) return "?";
  return buffer;
}

std::string ConfigDiagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  out += message;
  return out;
}

bool ParsedConfig::has_errors() const {
  for (const auto& diagnostic : diagnostics) {
    if (diagnostic.severity == ConfigDiagnostic::Severity::kError) return true;
  }
  return false;
}

namespace conf_detail {
namespace {

std::string format_double(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string got(const ConfToken& token) { return ", got " + quote_for_message(token.text); }

}  // namespace

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::optional<double> parse_finite_double(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<ConfigAddress> parse_numeric_address(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);  // inet_pton needs a terminated string
  ConfigAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.family = AddressFamily::kIpv4;
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.family = AddressFamily::kIpv6;
    return address;
  }
  return std::nullopt;
}

std::optional<ConfigAddress> parse_mask(std::string_view text, AddressFamily family) {
  auto mask = parse_numeric_address(text);
  if (!mask || mask->family != family) return std::nullopt;
  return mask;
}

ConfigAddress prefix_mask(AddressFamily family, int prefix_len) {
  ConfigAddress mask;
  mask.family = family;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    const int bits = std::min(8, std::max(0, prefix_len - static_cast<int>(i) * 8));
    mask.bytes[i] = static_cast<std::uint8_t>(0xff00 >> bits);
  }
  return mask;
}

ConfigAddress apply_mask(const ConfigAddress& address, const ConfigAddress& mask) {
  ConfigAddress out = address;
  for (std::size_t i = 0; i < out.bytes.size(); ++i) {
    out.bytes[i] = static_cast<std::uint8_t>(address.bytes[i] & mask.bytes[i]);
  }
  return out;
}

bool is_valid_hostname(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t label_length = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (label_length == 0) return false;
      label_length = 0;
      continue;
    }
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && c != '_') return false;
    if (c == '-' && label_length == 0) return false;
    if (++label_length > 63) return false;
  }
  return true;
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  if (text.size() > kMaxShown) return "'" + std::string(text.substr(0, kMaxShown)) + "...'";
  return "'" + std::string(text) + "'";
}

LineCursor::LineCursor(const std::string& file, const ConfLine& line, ParseState& state)
    : file_(file), line_(line), state_(state) {}

const ConfToken& LineCursor::previous() const { return line_.tokens[next_ - 1]; }

void ParseState::report(ConfigDiagnostic diagnostic) {
  const bool is_error = diagnostic.severity == ConfigDiagnostic::Severity::kError;
  if (is_error) ++error_count;
  if (diagnostics.size() < kMaxDiagnostics) {
    diagnostics.push_back(std::move(diagnostic));
    return;
  }
  ++dropped_count;
  if (is_error) ++dropped_error_count;
}

bool LineCursor::error(const ConfToken& at, std::string message) {
  state_.report(
      {ConfigDiagnostic::Severity::kError, file_, at.line, at.column, std::move(message)});
  return false;
}

bool LineCursor::error_missing(std::string expected) {
  state_.report({ConfigDiagnostic::Severity::kError, file_, line_.line, previous().end_column(),
                 std::move(expected)});
  return false;
}

void LineCursor::warning(const ConfToken& at, std::string message) {
  state_.report(
      {ConfigDiagnostic::Severity::kWarning, file_, at.line, at.column, std::move(message)});
}

bool LineCursor::expect_end() {
  if (at_end()) return true;
  return error(peek(), "unexpected " + quote_for_message(peek().text) + " after " +
                           quote_for_message(previous().text));
}

std::optional<std::int64_t> LineCursor::take_int(std::string_view what, std::int64_t lo,
                                                 std::int64_t hi) {
  std::string expected = std::string(what) + " expects an integer " + std::to_string(lo);
  expected +=
      hi == std::numeric_limits<std::int32_t>::max() ? " or more" : ".." + std::to_string(hi);
  if (at_end()) {
    error_missing(expected);
    return std::nullopt;
  }
  const ConfToken& token = take();
  const auto value = parse_int(token.text);
  if (!value || *value < lo || *value > hi) {
    error(token, expected + got(token));
    return std::nullopt;
  }
  return value;
}

std::optional<double> LineCursor::take_double(std::string_view what, double lo, double hi) {
  std::string expected = std::string(what) + " expects a number ";
  expected += hi == std::numeric_limits<double>::max()
                  ? ">= " + format_double(lo)
                  : format_double(lo) + ".." + format_double(hi);
  if (at_end()) {
    error_missing(expected);
    return std::nullopt;
  }
  const ConfToken& token = take();
  const auto value = parse_finite_double(token.text);
  if (!value || *value < lo || *value > hi) {
    error(token, expected + got(token));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> LineCursor::take_bool01(std::string_view what) {
  const std::string expected = std::string(what) + " expects 0 or 1";
  if (at_end()) {
    error_missing(expected);
    return std::nullopt;
  }
  const ConfToken& token = take();
  if (token.text == "0") return false;
  if (token.text == "1") return true;
  error(token, expected + got(token));
  return std::nullopt;
}

std::optional<std::string> LineCursor::take_path(std::string_view what) {
  const std::string expected = std::string(what) + " expects a file name";
  if (at_end()) {
    error_missing(expected);
    return std::nullopt;
  }
  const ConfToken& token = take();
  if (token.text.empty()) {
    error(token, expected + ", got an empty string");
    return std::nullopt;
  }
  return token.text;
}

}  // namespace conf_detail
}  // namespace ntpd::common
