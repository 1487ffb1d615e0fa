// ClockLink: ntpd-net's end of the socketpair to the clock process. Sends
// log records and samples; receives NetConfig and ClockState, validating
// every field before the rest of ntpd-net sees it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/ipc_channel.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

// The clock process's view, as ntpd-net uses it for replies and polling.
struct ClockView {
  bool synchronized = false;
  std::uint32_t leap = 3;
  std::int32_t poll_log2s = 6;
  bool stepped = false;
};

class ClockLink {
 public:
  struct Handlers {
    std::function<void(const ipc::NetConfig&)> on_config;
    std::function<void(const ClockView&)> on_clock_state;
    std::function<void()> on_eof;
  };

  ClockLink(common::UniqueFd fd, Handlers handlers);

  int fd() const { return channel_.fd(); }
  // Drains every queued message; call when the fd is readable.
  void on_readable();

  void send_log(int priority, std::string_view text);
  bool send_sample(const ipc::Sample& sample);

 private:
  void dispatch(const ipc::Envelope& envelope);

  common::IpcChannel channel_;
  Handlers handlers_;
  bool have_config_ = false;
};

// Checks a ClockState from the clock process; nullopt (and a reason) if any
// field is missing or out of range. The clock process is trusted, but a
// receiver never acts on a value it has not checked.
std::optional<ClockView> validate_clock_state(const ipc::ClockState& state, std::string* why);

// The SIGSYS report path: remembers the IPC fd for the handler.
void install_seccomp_reporter(int ipc_fd);

}  // namespace ntpd::net
