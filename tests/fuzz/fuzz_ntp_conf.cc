// libFuzzer target for the ntp.conf parser: arbitrary bytes are the main
// file and every includefile, so include cycles and fan-out are exercised.
// Must never crash, hang or grow without bound; also checks that
// describe_config() output parses back, without errors, to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/ntp_conf.h"

namespace {

using ntpd::common::FileReader;
using ntpd::common::kMaxDiagnostics;
using ntpd::common::ParsedConfig;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  int reads = 0;
  const FileReader reader = [&](const std::string&, std::string*) -> std::optional<std::string> {
    ++reads;
    return text;
  };
  const ParsedConfig parsed = ntpd::common::parse_ntp_conf_text("fuzz.conf", text, reader);
  check(reads <= ntpd::common::kMaxIncludedFiles);
  check(parsed.diagnostics.size() <= kMaxDiagnostics + 1);
  for (const auto& diagnostic : parsed.diagnostics) {
    check(!diagnostic.to_string().empty());
  }

  // Round trip: the effective configuration must read back as itself.
  const std::string described = ntpd::common::describe_config(parsed.config);
  const ParsedConfig again =
      ntpd::common::parse_ntp_conf_text("described.conf", described, nullptr);
  check(!again.has_errors());
  check(!again.fatal);
  check(ntpd::common::describe_config(again.config) == described);
  return 0;
}
