// The clock process's handling of ntpd-net's messages (see net_messages.h).
#include "ntpd-clock/net_messages.h"

#include <syslog.h>

#include <variant>

namespace ntpd::clock {

NetMessageHandler::NetMessageHandler(std::optional<std::int64_t> initial_frequency_ppb)
    : frequency_ppb_(initial_frequency_ppb) {}

HandleEffects NetMessageHandler::handle(std::span<const std::uint8_t> bytes, std::int64_t now_ns) {
  return apply(validator_.check(bytes, now_ns), now_ns);
}

HandleEffects NetMessageHandler::handle_oversized(std::int64_t now_ns) {
  return apply(MessageValidator::oversized(), now_ns);
}

HandleEffects NetMessageHandler::apply(const Verdict& verdict, std::int64_t now_ns) {
  HandleEffects effects;
  if (const auto* sample = std::get_if<ValidSample>(&verdict)) {
    ++samples_accepted_;
    last_sample_ = *sample;
    effects.sample = *sample;
    effects.send_clock_state = true;
  } else if (const auto* log = std::get_if<ValidLog>(&verdict)) {
    effects.log = ValidLog{log->priority, "[net] " + log->text};
  } else if (const auto* report = std::get_if<SeccompReport>(&verdict)) {
    effects.report = *report;
  } else {
    const auto& rejected = std::get<Rejected>(verdict);
    ++messages_rejected_;
    std::uint64_t suppressed = 0;
    if (rejection_log_.should_log(rejected.kind, now_ns, &suppressed)) {
      std::string text = "IPC: rejected message from ntpd-net (" +
                         std::string(to_string(rejected.kind)) + "): " + rejected.detail;
      if (suppressed > 0) {
        text += "; " + std::to_string(suppressed) + " more of this kind in the last minute";
      }
      effects.log = ValidLog{LOG_WARNING, std::move(text)};
    }
  }
  return effects;
}

ipc::ClockState NetMessageHandler::current_state() const {
  ipc::ClockState state;
  // The discipline is not wired in yet: the clock is never claimed to be
  // synchronized, and nothing is applied to it.
  state.set_sync_state(ipc::SYNC_STATE_UNSYNCHRONIZED);
  state.set_poll_log2s(last_sample_ ? last_sample_->poll_log2s : 6);
  state.set_frequency_ppb(frequency_ppb_.value_or(0));
  state.set_offset_ns(0);
  state.set_jitter_ns(0);
  state.set_wander_ppb(0);
  state.set_leap(3);
  state.set_stepped(false);
  state.set_samples_accepted(samples_accepted_);
  state.set_messages_rejected(messages_rejected_);
  return state;
}

}  // namespace ntpd::clock
