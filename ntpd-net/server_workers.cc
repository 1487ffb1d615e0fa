// Serving threads (see server_workers.h). A thread blocks in poll() on its
// sockets and the shared stop eventfd, reads the system variables once per
// wakeup, and drains each readable socket with the batch I/O of udp_io.
// Under load it paces itself instead (wakeup_pacer.h): it sleeps to the
// end of a window and looks without blocking. Threads never log (the IPC
// link belongs to the main thread); they count.
#include "ntpd-net/server_workers.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "ntpd-net/datagram_batch.h"
#include "ntpd-net/server_path.h"
#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"
#include "ntpd-net/wakeup_pacer.h"

namespace ntpd::net {
namespace {

constexpr std::uint8_t kModeClient = 3;  // RFC 5905 section 7.3

// Sleeps until `deadline_ns` on the monotonic clock (EINTR: go on early).
void sleep_until(std::int64_t deadline_ns) {
  const timespec until = timespec_from_ns(deadline_ns);
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
}

}  // namespace

struct ServerWorkers::Worker {
  unsigned number = 0;
  std::vector<std::unique_ptr<UdpEndpoint>> endpoints;
  std::vector<std::string> addresses;  // of each endpoint
  std::vector<pollfd> polls;           // sized before the thread starts
  std::unique_ptr<ServerPath> path;
  std::unique_ptr<DatagramBatch> batch;
  std::atomic<std::uint64_t> replies{0};
  std::atomic<std::uint64_t> misrouted{0};
  std::atomic<std::uint64_t> kernel_stamps{0};
  std::atomic<std::uint64_t> paced_windows{0};
  std::thread thread;
};

ServerWorkers::ServerWorkers(const AccessConfig& access, std::uint64_t hash_seed,
                             const SystemSnapshot& snapshot)
    : access_(access), hash_seed_(hash_seed), snapshot_(snapshot) {}

ServerWorkers::~ServerWorkers() { stop(); }

void ServerWorkers::add_socket(unsigned thread, common::UniqueFd fd, const std::string& address,
                               std::string label, int family) {
  Worker* worker = nullptr;
  for (auto& w : workers_) {
    if (w->number == thread) worker = w.get();
  }
  if (worker == nullptr) {
    workers_.push_back(std::make_unique<Worker>());
    worker = workers_.back().get();
    worker->number = thread;
  }
  // Optional: without, interleaved replies carry user-space transmit times.
  enable_tx_timestamp_reports(fd.get());
  worker->endpoints.push_back(
      std::make_unique<UdpEndpoint>(std::move(fd), std::move(label), family));
  worker->addresses.push_back(address);
}

bool ServerWorkers::start(std::string* error) {
  if (workers_.empty()) return true;
  stop_event_ = common::UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_event_) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  for (auto& worker : workers_) {
    // Each thread gets its own MRU list, seeded differently.
    worker->path = std::make_unique<ServerPath>(access_, hash_seed_ + worker->number);
    worker->batch = std::make_unique<DatagramBatch>();
    worker->polls.assign(worker->endpoints.size() + 1, pollfd{});
    worker->polls[0] = {stop_event_.get(), POLLIN, 0};
    for (std::size_t i = 0; i < worker->endpoints.size(); ++i) {
      worker->polls[i + 1] = {worker->endpoints[i]->fd(), POLLIN, 0};
    }
  }
  // Asynchronous signals stay with the main thread's event loop: the
  // threads start with them blocked. Synchronous ones stay open, or the
  // kernel would kill the process without the SIGSYS report (a blocked
  // forced signal falls back to its default action).
  sigset_t all, previous;
  sigfillset(&all);
  for (int sync : {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP})
    sigdelset(&all, sync);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  bool ok = true;
  for (auto& worker : workers_) {
    try {
      worker->thread = std::thread([this, w = worker.get()] { run(*w); });
    } catch (const std::system_error& e) {
      *error = std::string("cannot start a serving thread: ") + e.what();
      ok = false;
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!ok) stop();
  return ok;
}

void ServerWorkers::stop() {
  if (stop_event_) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_event_.get(), &one, sizeof one);
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

std::vector<std::pair<std::string, std::unique_ptr<UdpEndpoint>>> ServerWorkers::take_sockets() {
  stop();
  std::vector<std::pair<std::string, std::unique_ptr<UdpEndpoint>>> out;
  for (auto& worker : workers_) {
    for (std::size_t i = 0; i < worker->endpoints.size(); ++i) {
      out.emplace_back(worker->addresses[i], std::move(worker->endpoints[i]));
    }
  }
  workers_.clear();
  return out;
}

unsigned ServerWorkers::thread_number(std::size_t index) const { return workers_[index]->number; }

std::uint64_t ServerWorkers::replies(std::size_t index) const {
  return workers_[index]->replies.load(std::memory_order_relaxed);
}

std::uint64_t ServerWorkers::misrouted(std::size_t index) const {
  return workers_[index]->misrouted.load(std::memory_order_relaxed);
}

std::uint64_t ServerWorkers::kernel_transmit_times(std::size_t index) const {
  return workers_[index]->kernel_stamps.load(std::memory_order_relaxed);
}

std::uint64_t ServerWorkers::paced_windows(std::size_t index) const {
  return workers_[index]->paced_windows.load(std::memory_order_relaxed);
}

void ServerWorkers::run(Worker& worker) {
  ServerPath& path = *worker.path;
  SystemVars sys;
  const Responder respond = [&](std::span<const std::uint8_t> request, const sockaddr_storage& from,
                                common::UnixNs received, std::span<std::uint8_t> reply,
                                ReplyNote* note) -> std::size_t {
    // Associations (symmetric modes) and control live on the main thread;
    // the steering program sends those there, so anything else is dropped.
    if (request.empty() || (request[0] & 0x07) != kModeClient) {
      worker.misrouted.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    return path.handle(request, from, received, sys, reply, note);
  };
  const ReplyFinalizer finalize = [&path](std::span<std::uint8_t> reply, std::size_t length,
                                          const ReplyNote& note) {
    return path.finalize(reply, length, note, realtime_now());
  };
  // Interleaved mode (RFC 9769): the kernel's transmit timestamps refine
  // the remembered replies, as on the main thread.
  const TxTimestampSink refine = [&](std::span<const std::uint8_t> datagram, common::UnixNs sent) {
    if (path.note_kernel_transmit(datagram, sent)) {
      worker.kernel_stamps.fetch_add(1, std::memory_order_relaxed);
    }
  };
  WakeupPacer pacer;
  std::optional<std::int64_t> paced_until;
  for (;;) {
    // Under load the thread reads once per pacing window instead of
    // blocking: it sleeps to the window's end and then only looks.
    if (paced_until) {
      sleep_until(*paced_until);
      worker.paced_windows.fetch_add(1, std::memory_order_relaxed);
    }
    const int ready = ::poll(worker.polls.data(), worker.polls.size(), paced_until ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (worker.polls[0].revents != 0) return;  // stop
    sys = snapshot_.read();
    std::uint64_t sent = 0;
    std::size_t read = 0;
    for (std::size_t i = 0; i < worker.endpoints.size(); ++i) {
      const short revents = worker.polls[i + 1].revents;
      if ((revents & POLLIN) != 0)
        read += worker.endpoints[i]->drain(*worker.batch, respond, finalize);
      // POLLERR: the error queue holds transmit timestamps (interleaved replies).
      if ((revents & POLLERR) != 0) drain_tx_timestamps(worker.endpoints[i]->fd(), refine);
      sent += worker.endpoints[i]->sent();
    }
    worker.replies.store(sent, std::memory_order_relaxed);
    paced_until = pacer.after_wakeup(monotonic_ns(), read);
  }
}

}  // namespace ntpd::net
