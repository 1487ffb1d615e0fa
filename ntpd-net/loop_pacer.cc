// LoopPacer (see loop_pacer.h): a one-shot CLOCK_MONOTONIC timerfd set to
// each window's end, read by the libevent loop while pacing.
#include "ntpd-net/loop_pacer.h"

#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {

LoopPacer::LoopPacer(event_base* base, Hooks hooks) : hooks_(std::move(hooks)) {
  timer_ = common::UniqueFd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (timer_) {
    timer_event_.reset(
        event_new(base, timer_.get(), EV_READ | EV_PERSIST, &LoopPacer::on_timer, this));
  }
  if (!timer_event_) {
    common::logf(LOG_WARNING, "IO: no pacing timer (%s): the main thread wakes for every request",
                 std::strerror(errno));
    timer_.reset();
  }
}

LoopPacer::~LoopPacer() = default;

void LoopPacer::after_socket_event(std::size_t datagrams) {
  if (!timer_event_ || disabled_ || pacing_) return;
  const auto deadline = pacer_.after_wakeup(monotonic_ns(), datagrams);
  if (!deadline || !arm(*deadline)) return;
  if (event_add(timer_event_.get(), nullptr) != 0) {
    common::logf(LOG_WARNING, "IO: cannot watch the pacing timer: pacing off");
    disabled_ = true;
    return;
  }
  pacing_ = true;
  hooks_.watch_sockets(false);
}

bool LoopPacer::arm(std::int64_t deadline_ns) {
  const itimerspec once{timespec{}, timespec_from_ns(deadline_ns)};
  if (timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &once, nullptr) == 0) return true;
  // Not worth a retry (or a log line) per request: wake per request from now on.
  common::logf(LOG_WARNING, "IO: cannot arm the pacing timer (%s): pacing off",
               std::strerror(errno));
  disabled_ = true;
  return false;
}

void LoopPacer::stop() {
  const itimerspec disarm{};
  timerfd_settime(timer_.get(), 0, &disarm, nullptr);
  event_del(timer_event_.get());
  pacing_ = false;
  hooks_.watch_sockets(true);
}

void LoopPacer::on_timer(evutil_socket_t fd, short, void* self) {
  auto& pacer = *static_cast<LoopPacer*>(self);
  std::uint64_t expirations = 0;
  if (::read(fd, &expirations, sizeof expirations) != sizeof expirations) return;
  if (!pacer.pacing_) return;
  ++pacer.paced_windows_;
  const std::size_t read = pacer.hooks_.serve_ready();
  const auto deadline = pacer.pacer_.after_wakeup(monotonic_ns(), read);
  if (!deadline || !pacer.arm(*deadline)) pacer.stop();
}

}  // namespace ntpd::net
