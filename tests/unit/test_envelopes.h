// Builders for IPC envelopes used by the clock-side unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "common/ipc_codec.h"

namespace ntpd::testing {

inline ipc::Sample valid_sample() {
  ipc::Sample s;
  s.set_offset_ns(1'500'000);
  s.set_delay_ns(2'000'000);
  s.set_dispersion_ns(100'000);
  s.set_jitter_ns(50'000);
  s.set_root_distance_ns(10'000'000);
  s.set_stratum(2);
  s.set_leap(0);
  s.set_refid(0x7f000001);
  s.set_poll_log2s(6);
  return s;
}

inline std::vector<std::uint8_t> encode(const ipc::Sample& sample) {
  ipc::Envelope envelope;
  *envelope.mutable_sample() = sample;
  return *common::encode_envelope(envelope);
}

inline std::vector<std::uint8_t> encode_log(ipc::LogSeverity severity, const std::string& text) {
  ipc::Envelope envelope;
  envelope.mutable_log()->set_severity(severity);
  envelope.mutable_log()->set_text(text);
  return *common::encode_envelope(envelope);
}

}  // namespace ntpd::testing
