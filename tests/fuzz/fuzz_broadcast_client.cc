// libFuzzer target for ntpd-net/broadcast_client: a broadcast-client
// association (with or without its calibration volley) receives arbitrary
// mode 5 packets and volley replies, optionally patched into plausible
// broadcasts so the sample path is reached. Invariants: summary values in
// range, results consistent with their action, no poll after calibration.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ntpd-net/broadcast_client.h"

namespace {

using ntpd::common::UnixNs;
using ntpd::net::BroadcastClient;
using ntpd::net::ReplyAction;

constexpr std::int64_t kT0 = 1'700'000'000LL * ntpd::common::kNsPerSecond;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_result(const ntpd::net::ReceiveResult& r) {
  switch (r.action) {
    case ReplyAction::kAccepted:
      check(r.failed.none());
      check(r.sample.delay_ns > 0 && r.sample.dispersion_ns > 0);
      break;
    case ReplyAction::kUnfit:
      check(r.failed == ntpd::net::mask_of(ntpd::net::OnWireTest::kDistance));
      break;
    case ReplyAction::kDropped:
      check(!r.failed.none());
      break;
    case ReplyAction::kRateLimited:
    case ReplyAction::kDenied:
      break;  // volley replies only (the client on-wire code)
  }
}

void check_summary(const BroadcastClient& c, UnixNs now) {
  const ntpd::net::PeerSummary s = c.summary(now);
  check(s.dispersion_ns >= 0 && s.dispersion_ns <= ntpd::net::kMaxDispersionNs);
  check(s.delay_ns >= 0);
  check(s.jitter_ns >= 0 && s.jitter_ns <= ntpd::net::kMaxDispersionNs);
  check(s.poll_log2s >= ntpd::net::kPollFloorLog2s && s.poll_log2s <= ntpd::net::kPollCeilingLog2s);
  check(c.one_way_delay_ns() >= 0 && c.one_way_delay_ns() <= ntpd::common::kNsPerSecond);
  if (!c.calibrating()) check(!c.poll_due(now).due);
}

}  // namespace

// Input: [config byte] then records [length][flags][bytes...]. flags bit 0:
// make it a mode 5 packet with a plausible transmit time; bit 1: feed it as
// a volley reply; bit 2: poll first; bits 4-7: time step in seconds.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ntpd::net::BroadcastClientConfig config;
  config.id = 1;
  config.volley = (data[0] & 1) != 0;
  config.delay_ns = static_cast<std::int64_t>(data[0] >> 1) * 1'000'000;
  UnixNs now{kT0};
  BroadcastClient client(config, now, 0);
  std::size_t at = 1;
  std::uint64_t cookie = 1;
  while (at + 2 <= size) {
    const std::size_t length = data[at];
    const std::uint8_t flags = data[at + 1];
    at += 2;
    std::vector<std::uint8_t> bytes(data + at, data + std::min(size, at + length));
    at += length;
    now = UnixNs{now.ns + static_cast<std::int64_t>(flags >> 4) * ntpd::common::kNsPerSecond};
    if ((flags & 4) != 0 && client.poll_due(now).due) client.make_request(now, cookie++);
    if ((flags & 1) != 0 && bytes.size() >= ntpd::net::kHeaderBytes) {
      bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0xf8) | 5);
      const std::uint64_t t = ntpd::common::to_ntp(now).raw;
      for (std::size_t i = 0; i < 8; ++i) {
        bytes[40 + i] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
      }
    }
    const auto r =
        (flags & 2) != 0 ? client.on_reply(bytes, now, now) : client.on_broadcast(bytes, now, now);
    check_result(r);
    check_summary(client, now);
  }
  return 0;
}
