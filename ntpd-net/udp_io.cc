// Datagram I/O for UdpEndpoint: rounds of DatagramBatch receive, respond,
// send. Truncated requests (bigger than kMaxDatagram) are dropped.
#include "ntpd-net/udp_io.h"

#include <time.h>

namespace ntpd::net {
namespace {

// Rounds per readiness: bounds the time one busy socket holds the loop.
constexpr int kMaxRounds = 4;

}  // namespace

common::UnixNs realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
}

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * common::kNsPerSecond + ts.tv_nsec;
}

timespec timespec_from_ns(std::int64_t ns) {
  return timespec{static_cast<time_t>(ns / common::kNsPerSecond),
                  static_cast<long>(ns % common::kNsPerSecond)};
}

UdpEndpoint::UdpEndpoint(common::UniqueFd fd, std::string label, int family)
    : fd_(std::move(fd)), label_(std::move(label)), family_(family) {}

std::size_t UdpEndpoint::drain(DatagramBatch& batch, const Responder& respond,
                               const ReplyFinalizer& finalize) {
  std::size_t read = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    const int n = batch.receive(fd_.get());
    if (n == 0) return read;
    read += static_cast<std::size_t>(n);
    received_ += static_cast<std::uint64_t>(n);
    for (int i = 0; i < n; ++i) {
      if (batch.truncated(i)) continue;
      batch.set_reply(i, respond(batch.request(i), batch.from(i), batch.received_at(i),
                                 batch.reply_buffer(i), batch.note(i)));
    }
    sent_ += static_cast<std::uint64_t>(batch.send(fd_.get(), finalize));
    if (n < kBatchSize) return read;
  }
  return read;
}

}  // namespace ntpd::net
