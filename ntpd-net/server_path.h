// ServerPath: one request in, at most one reply out, for the listening
// sockets: access control (restrict, rate limit, KoD, authentication), the
// stateless reply, and the last-moment transmit stamp and MAC. Pure apart
// from the time callers pass in; udp_io.cc does the socket work.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "ntpd-net/access_control.h"
#include "ntpd-net/interleave_server.h"
#include "ntpd-net/reply_note.h"
#include "ntpd-net/server.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

// Builds the access configuration from NetConfig: its access_config text
// (parsed with the ntp.conf parser) and its keys. Invalid entries are
// skipped, each described in *problems.
AccessConfig access_config_from(const ipc::NetConfig& config, std::vector<std::string>* problems);

class ServerPath {
 public:
  ServerPath(const AccessConfig& config, std::uint64_t hash_seed);

  // Writes the reply for `request` into `reply` and returns its length, or
  // 0 to send nothing. The reply still needs finalize() with `*note`, which
  // this fills; any number of replies may be pending at once (a batch).
  std::size_t handle(std::span<const std::uint8_t> request, const sockaddr_storage& from,
                     common::UnixNs received, const SystemVars& sys, std::span<std::uint8_t> reply,
                     ReplyNote* note);
  // Stamps the transmit time and, for an authenticated request, appends the
  // MAC with the client's key (as `note` says) and remembers the reply for
  // interleaved mode; returns the final length, or 0 to send nothing.
  std::size_t finalize(std::span<std::uint8_t> reply, std::size_t length, const ReplyNote& note,
                       common::UnixNs now);
  // A datagram a listening socket's error queue returned with its kernel
  // transmit timestamp (interleaved mode, RFC 9769).
  // True if it refined a remembered reply.
  bool note_kernel_transmit(std::span<const std::uint8_t> datagram, common::UnixNs sent) {
    return xleave_.kernel_transmit(datagram, sent);
  }
  const InterleaveServer& interleave() const { return xleave_; }

  struct Counters {
    std::uint64_t served = 0, dropped = 0, kod = 0, crypto_nak = 0, authenticated = 0;
  };
  const Counters& counters() const { return counters_; }
  AccessControl& access() { return access_; }

 private:
  AccessControl access_;
  InterleaveServer xleave_;
  Counters counters_;
};

}  // namespace ntpd::net
