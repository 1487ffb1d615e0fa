// libFuzzer target for ntpd-net/packet and server: parses arbitrary bytes,
// rebuilds and re-parses what parses, and feeds every input to respond().
// Invariants checked: header round trip, offsets inside the input, and no
// reply longer than its request. Never does I/O beyond libFuzzer's own.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ntpd-net/packet.h"
#include "ntpd-net/server.h"

namespace {

using ntpd::net::NtpPacket;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_layout(const NtpPacket& p, std::size_t size) {
  check(p.authenticated_bytes >= ntpd::net::kHeaderBytes && p.authenticated_bytes <= size);
  check(p.extensions.offset == ntpd::net::kHeaderBytes);
  check(p.extensions.offset + p.extensions.length == p.authenticated_bytes);
  check(p.mac_digest.offset + p.mac_digest.length <= size);
  if (p.mac_kind == ntpd::net::MacKind::kNone) check(p.authenticated_bytes == size);
}

// Walking the reported extension fields lands exactly on their end.
void check_extension_walk(std::span<const std::uint8_t> bytes, const NtpPacket& p) {
  std::size_t offset = p.extensions.offset;
  const std::size_t end = p.extensions.offset + p.extensions.length;
  std::uint16_t count = 0;
  while (offset < end) {
    const auto field = ntpd::net::extension_at(bytes, offset);
    check(field.has_value());
    offset += field->length;
    ++count;
  }
  check(offset == end && count == p.extension_count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  ntpd::net::ParseError why = ntpd::net::ParseError::kNone;
  const auto parsed = ntpd::net::parse_packet(bytes, &why);
  check(parsed.has_value() == (why == ntpd::net::ParseError::kNone));
  if (parsed) {
    check_layout(*parsed, size);
    check_extension_walk(bytes, *parsed);
    std::uint8_t rebuilt[ntpd::net::kHeaderBytes];
    check(ntpd::net::build_packet(*parsed, rebuilt) == sizeof rebuilt);
    const auto again = ntpd::net::parse_packet(rebuilt, nullptr);
    check(again.has_value());
    check(ntpd::net::same_header(*parsed, *again));
    for (std::size_t i = 0; i < sizeof rebuilt; ++i) check(rebuilt[i] == data[i]);
  }

  ntpd::net::SystemVars sys;
  sys.synchronized = size % 2 == 0;
  sys.stratum = 2;
  sys.leap = 0;
  std::uint8_t out[2048];
  const auto decision =
      ntpd::net::respond(bytes, ntpd::common::UnixNs{1'700'000'000'000'000'000},
                         ntpd::common::UnixNs{1'700'000'000'000'100'000}, sys, out);
  if (decision.action == ntpd::net::ServerDecision::Action::kReply) {
    check(parsed.has_value());
    check(decision.length <= size);
    check(ntpd::net::parse_packet(std::span<const std::uint8_t>(out, decision.length), nullptr)
              .has_value());
  } else {
    check(decision.length == 0);
  }
  return 0;
}
