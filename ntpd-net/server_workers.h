// ServerWorkers: ntpd-net's serving threads. Each owns the SO_REUSEPORT
// sockets the clock process opened for it (one per listen address), its
// own DatagramBatch and its own ServerPath (restrict, rate limit and MRU
// for the clients the kernel steers to it by source address, see
// ntpd-clock/reuseport_steering.h), and answers client requests only.
// System variables come from a SeqlockSnapshot the main thread publishes:
// the main thread stays the single writer of all system state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "ntpd-net/access_control.h"
#include "ntpd-net/seqlock_snapshot.h"
#include "ntpd-net/server.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {

using SystemSnapshot = SeqlockSnapshot<SystemVars>;

class ServerWorkers {
 public:
  // `snapshot` must outlive this object.
  ServerWorkers(const AccessConfig& access, std::uint64_t hash_seed,
                const SystemSnapshot& snapshot);
  ~ServerWorkers();  // stops and joins the threads
  ServerWorkers(const ServerWorkers&) = delete;
  ServerWorkers& operator=(const ServerWorkers&) = delete;

  // Before start(): gives serving thread `thread` (1..) a socket bound to
  // `address` (numeric).
  void add_socket(unsigned thread, common::UniqueFd fd, const std::string& address,
                  std::string label, int family);
  // After a failed start() (no thread running): hands every socket back,
  // with its address, so the main thread can serve them instead.
  std::vector<std::pair<std::string, std::unique_ptr<UdpEndpoint>>> take_sockets();
  // Starts one thread per number that has sockets. False (and no thread
  // left running) if the stop event or a thread cannot be created.
  bool start(std::string* error);
  void stop();

  std::size_t threads() const { return workers_.size(); }
  unsigned thread_number(std::size_t index) const;
  // Replies sent by the thread at `index`; safe from any thread.
  std::uint64_t replies(std::size_t index) const;
  // Requests that were not client requests (the steering sends those to
  // the main thread; a nonzero count means it is not in effect).
  std::uint64_t misrouted(std::size_t index) const;
  // Replies of thread `index` whose remembered transmit time the kernel's
  // timestamp refined (interleaved mode).
  std::uint64_t kernel_transmit_times(std::size_t index) const;
  // Pacing windows (wakeup_pacer.h) thread `index` has read its sockets in.
  std::uint64_t paced_windows(std::size_t index) const;

 private:
  struct Worker;
  void run(Worker& worker);

  AccessConfig access_;
  std::uint64_t hash_seed_;
  const SystemSnapshot& snapshot_;
  common::UniqueFd stop_event_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace ntpd::net
