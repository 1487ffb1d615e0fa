// LoopPacer: WakeupPacer (wakeup_pacer.h) for the sockets the main thread
// serves from its libevent loop. Normally each socket is a read event. When
// the pacer sees requests arriving faster than one per window, the read
// events are switched off and a timerfd reads every serving socket once
// per window instead, until a window brings nothing; then the read events
// come back. The serving threads pace themselves with a sleep
// (server_workers.cc); the main thread cannot sleep, it has the clock link,
// timers and peers to look after.
#pragma once

#include <event2/event.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/unique_fd.h"
#include "ntpd-net/wakeup_pacer.h"

namespace ntpd::net {

class LoopPacer {
 public:
  struct Hooks {
    // Switches the serving sockets' read events on (true) or off.
    std::function<void(bool watch)> watch_sockets;
    // Serves whatever every serving socket holds, without blocking;
    // returns how many datagrams were read.
    std::function<std::size_t()> serve_ready;
  };

  // Without a timerfd (creation failed) the loop simply never paces.
  LoopPacer(event_base* base, Hooks hooks);
  ~LoopPacer();
  LoopPacer(const LoopPacer&) = delete;
  LoopPacer& operator=(const LoopPacer&) = delete;

  // After a socket's read event served `datagrams` (0: an error-queue or
  // spurious wakeup).
  void after_socket_event(std::size_t datagrams);

  bool pacing() const { return pacing_; }
  // Windows served by the timer since start (for tests and the log).
  std::uint64_t paced_windows() const { return paced_windows_; }

 private:
  struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
  };
  static void on_timer(evutil_socket_t, short, void* self);
  bool arm(std::int64_t deadline_ns);
  void stop();

  Hooks hooks_;
  WakeupPacer pacer_;
  common::UniqueFd timer_;
  std::unique_ptr<event, EventFree> timer_event_;
  bool pacing_ = false;
  bool disabled_ = false;  // the timer failed once: never pace again
  std::uint64_t paced_windows_ = 0;
};

}  // namespace ntpd::net
