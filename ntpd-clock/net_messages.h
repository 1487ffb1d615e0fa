// NetMessageHandler: what the clock process does with each datagram from
// ntpd-net, as a pure core (bytes and a monotonic time in, effects out) so
// that unit tests and the fuzzer drive exactly the daemon's handler. An
// invalid message changes nothing but the rejection counter.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "ntpd-clock/validate.h"
#include "proto/ntpd.pb.h"

namespace ntpd::clock {

struct HandleEffects {
  bool send_clock_state = false;        // answer ntpd-net with current_state()
  std::optional<ValidSample> sample;    // a sample that was accepted
  std::optional<ValidLog> log;          // a line to log (from ntpd-net, or a rejection)
  std::optional<SeccompReport> report;  // ntpd-net announced its own seccomp death
};

class NetMessageHandler {
 public:
  explicit NetMessageHandler(std::optional<std::int64_t> initial_frequency_ppb);

  HandleEffects handle(std::span<const std::uint8_t> bytes, std::int64_t now_ns);
  // The channel discarded a datagram larger than the cap.
  HandleEffects handle_oversized(std::int64_t now_ns);
  // A fresh ntpd-net starts with fresh rate buckets.
  void reset_rate_limits() { validator_.reset(); }

  ipc::ClockState current_state() const;

  std::uint64_t samples_accepted() const { return samples_accepted_; }
  std::uint64_t messages_rejected() const { return messages_rejected_; }
  const std::optional<ValidSample>& last_sample() const { return last_sample_; }
  std::optional<std::int64_t> frequency_ppb() const { return frequency_ppb_; }

 private:
  HandleEffects apply(const Verdict& verdict, std::int64_t now_ns);

  MessageValidator validator_;
  RejectionLogLimiter rejection_log_;
  std::uint64_t samples_accepted_ = 0;
  std::uint64_t messages_rejected_ = 0;
  std::optional<ValidSample> last_sample_;
  std::optional<std::int64_t> frequency_ppb_;
};

}  // namespace ntpd::clock
