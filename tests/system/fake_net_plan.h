// The script of the hostile fake ntpd-net (fake_net_main.cc), shared with
// ipc_hostile_test.cc so that the test derives the clock process's exact
// counters from the same numbers the fake uses. Constants only.
#pragma once

namespace ntpd::systest::fake_plan {

// Valid samples sent before the hostile phase (control: the link works).
inline constexpr int kControlSamples = 1;
// Messages the clock process must reject, one each (see invalid_messages()
// in fake_net_main.cc for what each one checks).
inline constexpr int kInvalidMessages = 29;
// Valid samples sent back-to-back right after the hostile phase.
inline constexpr int kFloodSamples = 100;
// Pause after the flood before the one final valid sample, so that the
// clock's sample bucket (1 token per second) has earned exactly one token.
inline constexpr int kPauseBeforeFinalMs = 1500;
inline constexpr int kFinalSamples = 1;
// Marker at the start of the hostile (but valid) log record.
inline constexpr const char* kHostileLogMarker = "FAKE-HOSTILE-LOG";

}  // namespace ntpd::systest::fake_plan
