// WakeupPacer: decides when a serving thread reads its sockets. At a low
// request rate it blocks until a datagram arrives, as any server does. Once
// requests arrive faster than one per kMinWindowNs, waking for each one
// costs more than answering it (a wakeup, a poll and a syscall pair per
// datagram, all kernel time), so the thread switches to reading once per
// window: it sleeps to the window's end and answers everything queued
// meanwhile in one batch. The window adapts so a batch holds about
// kTargetBatch datagrams (one recvmmsg), between kMinWindowNs and
// kMaxWindowNs. A window that brings nothing ends pacing.
//
// Answers stay exact: receive times are the kernel's, taken on arrival, and
// the transmit time is read just before sending, so the wait is server hold
// time (T3 - T2), which RFC 5905 section 8 takes out of both the offset and
// the round-trip delay. The cost is up to kMaxWindowNs of extra reply
// latency under load, far below any client's timeout.
//
// Pure: time comes in as monotonic nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ntpd::net {

class WakeupPacer {
 public:
  static constexpr std::int64_t kMinWindowNs = 250'000;
  static constexpr std::int64_t kMaxWindowNs = 4'000'000;
  static constexpr std::size_t kTargetBatch = 64;  // DatagramBatch's size

  // `enabled` false: always block (a thread that must not pace).
  explicit WakeupPacer(bool enabled = true) : enabled_(enabled) {}

  // After a wakeup at `now_ns` that read `datagrams`: the monotonic time to
  // sleep until before looking at the sockets again without blocking, or
  // nullopt to block until one is readable.
  std::optional<std::int64_t> after_wakeup(std::int64_t now_ns, std::size_t datagrams);

  bool pacing() const { return pacing_; }
  std::int64_t window_ns() const { return window_ns_; }

 private:
  bool enabled_;
  bool pacing_ = false;
  std::optional<std::int64_t> last_busy_ns_;  // previous wakeup that read something
  std::int64_t window_ns_ = kMinWindowNs;     // length of the current window
  std::int64_t deadline_ns_ = 0;              // end of the current window
};

}  // namespace ntpd::net
