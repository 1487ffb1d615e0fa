// ntpd-net's side of the IPC link, and its SIGSYS reporter.
#include "ntpd-net/clock_link.h"

#include <poll.h>
#include <sys/socket.h>
#include <syslog.h>

#include <cerrno>

#include "common/ipc_codec.h"
#include "common/log.h"
#include "common/seccomp_filter.h"

namespace ntpd::net {

ClockLink::ClockLink(common::UniqueFd fd, Handlers handlers)
    : channel_(std::move(fd)), handlers_(std::move(handlers)) {}

void ClockLink::on_readable() {
  std::vector<std::uint8_t> buffer;
  for (;;) {
    switch (channel_.receive(buffer)) {
      case common::IpcChannel::ReceiveStatus::kMessage: {
        common::DecodeError error{};
        auto envelope = common::decode_envelope(buffer, &error);
        if (!envelope) {
          common::logf(LOG_ERR, "IPC: dropped message from clock process: %s",
                       std::string(common::to_string(error)).c_str());
          continue;
        }
        dispatch(*envelope);
        continue;
      }
      case common::IpcChannel::ReceiveStatus::kTruncated:
        common::logf(LOG_ERR, "IPC: dropped oversized message from clock process");
        continue;
      case common::IpcChannel::ReceiveStatus::kWouldBlock:
        return;
      case common::IpcChannel::ReceiveStatus::kEof:
      case common::IpcChannel::ReceiveStatus::kError:
        handlers_.on_eof();
        return;
    }
  }
}

void ClockLink::dispatch(const ipc::Envelope& envelope) {
  switch (envelope.body_case()) {
    case ipc::Envelope::kNetConfig:
      if (have_config_) {
        common::logf(LOG_WARNING, "IPC: ignored a second NetConfig");
        return;
      }
      have_config_ = true;
      handlers_.on_config(envelope.net_config());
      return;
    case ipc::Envelope::kClockState: {
      std::string why;
      auto view = validate_clock_state(envelope.clock_state(), &why);
      if (!view) {
        common::logf(LOG_ERR, "IPC: rejected ClockState: %s", why.c_str());
        return;
      }
      handlers_.on_clock_state(*view);
      return;
    }
    default:
      common::logf(LOG_ERR, "IPC: unexpected message type %d from clock process",
                   static_cast<int>(envelope.body_case()));
  }
}

std::optional<ClockView> validate_clock_state(const ipc::ClockState& state, std::string* why) {
  auto reject = [why](const char* reason) {
    *why = reason;
    return std::nullopt;
  };
  if (!state.has_sync_state() || !state.has_poll_log2s() || !state.has_leap()) {
    return reject("missing field");
  }
  if (state.sync_state() == ipc::SYNC_STATE_UNSPECIFIED ||
      !ipc::SyncState_IsValid(state.sync_state())) {
    return reject("bad sync_state");
  }
  if (state.poll_log2s() < 3 || state.poll_log2s() > 17) return reject("poll out of range");
  if (state.leap() > 3) return reject("leap out of range");
  ClockView view;
  view.synchronized = state.sync_state() == ipc::SYNC_STATE_SYNCHRONIZED;
  view.leap = state.leap();
  view.poll_log2s = state.poll_log2s();
  view.stepped = state.stepped();
  return view;
}

void ClockLink::send_log(int priority, std::string_view text) {
  ipc::Envelope envelope;
  auto* record = envelope.mutable_log();
  ipc::LogSeverity severity = ipc::LOG_SEVERITY_DEBUG;
  if (priority <= LOG_ERR) {
    severity = ipc::LOG_SEVERITY_ERROR;
  } else if (priority == LOG_WARNING) {
    severity = ipc::LOG_SEVERITY_WARNING;
  } else if (priority == LOG_NOTICE) {
    severity = ipc::LOG_SEVERITY_NOTICE;
  } else if (priority == LOG_INFO) {
    severity = ipc::LOG_SEVERITY_INFO;
  }
  record->set_severity(severity);
  record->set_text(std::string(text));
  channel_.send(envelope, nullptr);
}

bool ClockLink::send_sample(const ipc::Sample& sample) {
  ipc::Envelope envelope;
  *envelope.mutable_sample() = sample;
  std::string error;
  if (!channel_.send(envelope, &error)) {
    common::logf(LOG_ERR, "IPC: cannot send sample: %s", error.c_str());
    return false;
  }
  return true;
}

namespace {

int g_report_fd = -1;

void report_sigsys(int, siginfo_t* info, void*) {
  std::uint8_t buffer[32];
  const std::size_t n =
      common::encode_seccomp_violation_raw(info->si_syscall, info->si_arch, buffer);
  if (n > 0 && g_report_fd >= 0) {
    // The channel may be full of this process's own log records (e.g. at
    // start-up): wait up to ~1 s for room rather than lose the one report
    // that names the syscall. send and poll are async-signal-safe.
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (::send(g_report_fd, buffer, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0 || errno != EAGAIN) {
        break;
      }
      pollfd writable{g_report_fd, POLLOUT, 0};
      ::poll(&writable, 1, 100);
    }
  }
  common::die_of_sigsys();
}

}  // namespace

void install_seccomp_reporter(int ipc_fd) {
  g_report_fd = ipc_fd;
  common::install_sigsys_handler(report_sigsys);
}

}  // namespace ntpd::net
