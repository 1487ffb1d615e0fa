// libFuzzer target: the clock process's handler for ntpd-net's messages.
// Arbitrary datagrams at advancing times must never crash it, and nothing
// out of policy may ever be accepted as a sample.
#include <cstdint>
#include <cstdlib>

#include "ntpd-clock/net_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ntpd::clock::NetMessageHandler handler(std::nullopt);
  // The input is split into datagrams at each 0xA5 0x5A marker, so one
  // input exercises sequences (rate limits, counters) as well as parsing.
  std::int64_t now = 1'000'000'000;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 1 <= size; ++i) {
    const bool end = i + 1 == size;
    const bool marker = i + 1 < size && data[i] == 0xA5 && data[i + 1] == 0x5A;
    if (!marker && !end) continue;
    const std::size_t stop = end ? size : i;
    const std::uint64_t before = handler.samples_accepted();
    handler.handle({data + start, stop - start}, now);
    if (handler.samples_accepted() != before) {
      const auto& s = *handler.last_sample();
      if (s.offset_ns > ntpd::clock::kMaxSampleOffsetNs ||
          s.offset_ns < -ntpd::clock::kMaxSampleOffsetNs || s.delay_ns < 0 || s.stratum > 15 ||
          s.leap > 2 || s.poll_log2s < 3 || s.poll_log2s > 17) {
        std::abort();
      }
    }
    now += 100'000'000;
    start = stop + 2;
    if (marker) ++i;
  }
  (void)handler.current_state();
  return 0;
}
