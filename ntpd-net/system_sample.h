// What the system process (RFC 5905 section 11) hands on: the SystemSample
// ntpd-net sends the clock process (proto Sample) and the AdvertisedState
// the server puts in its replies. Plain data in ntpd-net; no behaviour, and
// nothing here is trusted by the clock process without validation.
#pragma once

#include <cstdint>

namespace ntpd::net {

// One system update (RFC 5905 section 11.2.3 and A.5.5.6 clock_update).
// Sign convention: offset = reference - local; positive = local clock behind.
// Every duration is in [0, kMaxSampleDurationNs] (selection.h).
struct SystemSample {
  std::int64_t offset_ns = 0;         // Theta: combined offset of the survivors
  std::int64_t delay_ns = 0;          // root delay to the reference: delta + DELTA_r
  std::int64_t dispersion_ns = 0;     // root dispersion E (see combine.h)
  std::int64_t jitter_ns = 0;         // system jitter (selection and peer jitter)
  std::int64_t root_distance_ns = 0;  // Lambda of the system peer
  std::uint8_t stratum = 0;           // the system peer's stratum (ours is one more)
  std::uint8_t leap = 0;              // voted leap indicator, 0..2 (combine.h vote_leap)
  std::uint32_t refid = 0;            // the system refid we advertise
  std::int8_t poll_log2s = 6;         // the system peer's poll exponent, 3..17
  std::uint32_t system_peer_id = 0;   // PeerSummary::id of the system peer
  // How old the offset is: now minus the newest survivor's clock-filter
  // sample time (PeerSummary::epoch_ns), >= 0. Set by Engine::update_system.
  std::int64_t age_ns = 0;
};

// The system variables a server reply carries (RFC 5905 section 7.3, ntpd
// sys_leap/sys_stratum/sys_refid/sys_rootdelay/sys_rootdisp).
struct AdvertisedState {
  bool synchronized = false;
  std::uint8_t leap = 3;      // 3 while unsynchronized
  std::uint8_t stratum = 16;  // 16 while unsynchronized
  std::uint32_t refid = 0;
  std::int64_t root_delay_ns = 0;
  std::int64_t root_dispersion_ns = 0;
};

}  // namespace ntpd::net
