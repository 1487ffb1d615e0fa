// libFuzzer target for ntpd-net/association (and its clock filter): an
// association with an outstanding request receives arbitrary datagrams,
// optionally patched to echo the right origin so deep paths (samples, KoD)
// are reached. Invariants: poll within [minpoll, maxpoll], at most 8
// filter stages, sane summary values, results consistent with their action.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ntpd-net/association.h"

namespace {

using ntpd::common::UnixNs;
using ntpd::net::Association;
using ntpd::net::ReplyAction;

constexpr std::int64_t kT0 = 1'700'000'000LL * ntpd::common::kNsPerSecond;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_invariants(const Association& a, const ntpd::net::AssociationConfig& config,
                      UnixNs now) {
  check(a.min_poll_log2s() >= a.config().minpoll_log2s);
  check(a.max_poll_log2s() == a.config().maxpoll_log2s);
  check(a.poll_log2s() >= a.min_poll_log2s() && a.poll_log2s() <= a.max_poll_log2s());
  check(a.config().minpoll_log2s >= ntpd::net::kPollFloorLog2s);
  check(a.config().maxpoll_log2s <= ntpd::net::kPollCeilingLog2s);
  check(a.config().id == config.id);
  check(a.filter().valid_samples() <= ntpd::net::kFilterStages);
  const ntpd::net::PeerSummary s = a.summary(now);
  check(s.reach == a.reach());
  check(s.dispersion_ns >= 0 && s.dispersion_ns <= ntpd::net::kMaxDispersionNs);
  check(s.delay_ns >= 0);
  check(s.jitter_ns >= 0 && s.jitter_ns <= ntpd::net::kMaxDispersionNs);
  check(s.poll_log2s == a.poll_log2s());
  if (a.demobilized()) {
    check(!a.poll_due(now).due);
    check(s.noselect);
  }
}

void check_result(const ntpd::net::ReceiveResult& r, const Association& a) {
  using ntpd::net::OnWireTest;
  switch (r.action) {
    case ReplyAction::kAccepted:
    case ReplyAction::kRateLimited:
      check(r.failed.none());
      break;
    case ReplyAction::kUnfit:
      check(r.failed == ntpd::net::mask_of(OnWireTest::kDistance));
      break;
    case ReplyAction::kDenied:
      check(a.demobilized() && r.failed.has(OnWireTest::kAccessDenied));
      break;
    case ReplyAction::kDropped:
      check(!r.failed.none());
      break;
  }
  if (r.action == ReplyAction::kAccepted || r.action == ReplyAction::kUnfit) {
    check((a.reach() & 1u) != 0);
    check(r.sample.delay_ns > 0 && r.sample.dispersion_ns > 0);
  }
}

void store_be64(std::vector<std::uint8_t>& b, std::size_t at, std::uint64_t v) {
  if (b.size() < at + 8) return;
  for (std::size_t i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}

}  // namespace

// Input: [config byte][poll byte] then records [length][flags][bytes...].
// flags bit 0: echo our transmit as origin; bit 1/2: plausible receive /
// transmit timestamps; bit 3: send a new request first; bits 4-7: delay.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ntpd::net::AssociationConfig config;
  config.id = 1;
  config.mode = static_cast<ntpd::net::AssociationMode>(data[0] % 3);
  config.iburst = (data[0] & 0x04) != 0;
  config.burst = (data[0] & 0x08) != 0;
  config.xleave = (data[0] & 0x40) != 0;
  config.minpoll_log2s = static_cast<std::int8_t>(data[1] & 0x1f);
  config.maxpoll_log2s = static_cast<std::int8_t>(static_cast<std::int8_t>(data[1]) >> 3);
  ntpd::net::SystemVars sys;
  sys.synchronized = (data[0] & 0x80) != 0;
  sys.stratum = 2;
  sys.leap = 0;
  sys.poll_log2s = static_cast<std::int8_t>(data[0] >> 3);

  UnixNs now{kT0};
  Association a(config, now, (data[0] & 0x10) ? 1'000'000'000 : 0);
  a.set_system(sys);
  now = a.poll_due(now).next;
  ntpd::net::TransmitPlan plan = a.make_request(now, 0x1234'5678'9abc'def0ULL ^ size);
  check(plan.length == (plan.send ? ntpd::net::kHeaderBytes : 0));
  check_invariants(a, config, now);

  std::size_t pos = 2;
  for (int round = 0; round < 64 && pos + 2 <= size; ++round) {
    const std::size_t length = std::min<std::size_t>(data[pos], size - pos - 2);
    const std::uint8_t flags = data[pos + 1];
    std::vector<std::uint8_t> datagram(data + pos + 2, data + pos + 2 + length);
    pos += 2 + length;
    if (flags & 0x08) {
      const ntpd::net::Poll due = a.poll_due(now);
      if (due.next.ns != ntpd::net::kNever.ns) now = std::max(now, due.next);
      plan = a.make_request(now, 0x9e37'79b9'7f4a'7c15ULL * static_cast<std::uint64_t>(round + 1));
      check(plan.length == (plan.send ? ntpd::net::kHeaderBytes : 0));
    }
    const std::int64_t delay_ns = static_cast<std::int64_t>(flags >> 4) * 7'000'000;
    if (flags & 0x01) {
      // Odd rounds of an xleave association echo the receive cookie: an
      // interleaved reply (RFC 9769).
      const std::size_t echoed = config.xleave && (round & 1) != 0 ? 32 : 40;
      std::uint64_t xmt = 0;
      for (std::size_t i = echoed; i < echoed + 8; ++i) xmt = (xmt << 8) | plan.bytes[i];
      store_be64(datagram, 24, xmt);
    }
    if (flags & 0x02)
      store_be64(datagram, 32, ntpd::common::to_ntp(UnixNs{now.ns + 3'000'000}).raw);
    if (flags & 0x04)
      store_be64(datagram, 40, ntpd::common::to_ntp(UnixNs{now.ns + 3'100'000}).raw);
    const UnixNs rx{now.ns + delay_ns};
    const ntpd::net::ReceiveResult r = a.on_reply(datagram, rx, rx);
    check_result(r, a);
    now = rx;
    check_invariants(a, config, now);
  }
  return 0;
}
