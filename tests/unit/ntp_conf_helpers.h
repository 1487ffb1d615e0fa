// ntp.conf text parsed for the clock-side unit tests: an include directive
// is an error here (no files are read).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/ntp_conf.h"

namespace ntpd::testing {

inline common::ParsedConfig parse_conf_result(std::string_view text) {
  return common::parse_ntp_conf_text(
      "test.conf", text, [](const std::string&, std::string* e) -> std::optional<std::string> {
        *e = "no includes in this test";
        return std::nullopt;
      });
}

// The configuration of text that must parse without errors.
inline common::NtpConfig parse_conf(std::string_view text) {
  auto parsed = parse_conf_result(text);
  EXPECT_FALSE(parsed.has_errors());
  return parsed.config;
}

}  // namespace ntpd::testing
