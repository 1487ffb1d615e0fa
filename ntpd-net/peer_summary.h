// PeerSummary: what one association offers the system process (RFC 5905
// sections 10-11) after its clock filter: the quantities selection,
// clustering and combining work on. Produced by the association core,
// consumed by the selection core; plain data, no behaviour.
#pragma once

#include <cstdint>

namespace ntpd::net {

struct PeerSummary {
  std::uint32_t id = 0;            // association id, stable while it lives
  std::int64_t offset_ns = 0;      // theta: reference - local, positive = local behind
  std::int64_t delay_ns = 0;       // delta, >= 0
  std::int64_t dispersion_ns = 0;  // epsilon, grown to "now" by the caller (PHI * age)
  std::int64_t jitter_ns = 0;      // psi
  std::int64_t root_delay_ns = 0;  // the server's root delay
  std::int64_t root_dispersion_ns = 0;
  std::uint8_t stratum = 16;  // the server's stratum
  std::uint8_t leap = 3;      // the server's leap indicator
  std::uint32_t refid = 0;
  std::uint8_t reach = 0;  // 8-bit reach register
  std::int8_t poll_log2s = 6;
  bool prefer = false;
  bool noselect = false;
  bool true_chimer = false;               // "true": survives selection regardless
  bool is_local_clock = false;            // 127.127.1.x
  std::uint32_t source_address_hash = 0;  // for the refid loop check (own address)
  // Added for the system process (selection.h): the refid that names this
  // association downstream (RFC 5905 section 7.3: the IPv4 address, or the
  // first four octets of the MD5 of the IPv6 address; 127.127.1.u for the
  // local clock). Becomes the system refid when this is the system peer,
  // and is the orphan-parent election metric (ntpd clock_select).
  std::uint32_t address_refid = 0;
  // Monotonic time (ns) of the clock-filter sample now in offset_ns (ntpd
  // peer->epoch). A Sample goes to the clock process only when the system
  // peer's epoch is newer than the last one used (ntpd clock_select).
  std::int64_t epoch_ns = 0;
};

}  // namespace ntpd::net
