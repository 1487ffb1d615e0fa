// Kernel software transmit timestamps (SO_TIMESTAMPING, read back from a
// socket's error queue) for interleaved mode (RFC 9769) and a better T1.
// The only code that touches the error queue. Without kernel support the
// callers keep their user-space timestamps: nothing here is required.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "common/time_types.h"

namespace ntpd::net {

// Asks the kernel to loop every datagram sent on `fd` back to its error
// queue with a software transmit timestamp. False (and errno) if refused.
bool enable_tx_timestamps(int fd);

// Lets the kernel report software timestamps on `fd` without generating a
// transmit timestamp for every datagram: only a datagram sent with the
// control message from append_tx_timestamp_request() loops back. A busy
// server socket uses this so that only interleaved replies pay for it.
bool enable_tx_timestamp_reports(int fd);

// Appends, at control[used], the SO_TIMESTAMPING control message that asks
// for this one datagram's software transmit timestamp. Returns the new
// control length, or `used` unchanged if it does not fit.
std::size_t append_tx_timestamp_request(std::span<std::uint8_t> control, std::size_t used);

// Reads up to max_messages queued transmit timestamps from `fd`'s error
// queue (never blocks) and hands each one's UDP payload and time to
// `on_timestamp`. Must run whenever the socket is readable: a non-empty
// error queue keeps the socket reporting an error event. Returns how many
// were delivered.
using TxTimestampSink = std::function<void(std::span<const std::uint8_t>, common::UnixNs)>;
int drain_tx_timestamps(int fd, const TxTimestampSink& on_timestamp, int max_messages = 64);

// Pure: the UDP payload of a datagram the kernel looped back, which starts
// at the link-layer (Ethernet, optionally one VLAN tag) or network header.
// Checks the IPv4/IPv6 and UDP headers and lengths; empty if anything does
// not add up (an IPv6 extension header included).
std::span<const std::uint8_t> looped_udp_payload(std::span<const std::uint8_t> frame);

}  // namespace ntpd::net
