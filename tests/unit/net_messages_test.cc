// NetMessageHandler: a valid sample is counted and answered; anything
// invalid changes nothing but the rejection counter, and is logged once per
// kind per minute.
#include "ntpd-clock/net_messages.h"

#include <gtest/gtest.h>
#include <syslog.h>

#include "tests/unit/test_envelopes.h"

namespace ntpd::clock {
namespace {

constexpr std::int64_t kSecond = common::kNsPerSecond;

TEST(NetMessageHandler, AnswersAValidSampleWithClockState) {
  NetMessageHandler handler(std::nullopt);
  const HandleEffects effects = handler.handle(testing::encode(testing::valid_sample()), kSecond);
  EXPECT_TRUE(effects.send_clock_state);
  EXPECT_EQ(handler.samples_accepted(), 1u);
  const ipc::ClockState state = handler.current_state();
  EXPECT_EQ(state.samples_accepted(), 1u);
  EXPECT_EQ(state.messages_rejected(), 0u);
  EXPECT_EQ(state.poll_log2s(), 6);
  EXPECT_EQ(state.sync_state(), ipc::SYNC_STATE_UNSYNCHRONIZED);
}

TEST(NetMessageHandler, InvalidMessagesChangeNothingButTheRejectionCount) {
  NetMessageHandler handler(std::int64_t{12'500});
  handler.handle(testing::encode(testing::valid_sample()), kSecond);
  const ipc::ClockState before = handler.current_state();
  const auto last_before = handler.last_sample();

  ipc::Sample absurd = testing::valid_sample();
  absurd.set_offset_ns(std::numeric_limits<std::int64_t>::max());
  const std::vector<std::vector<std::uint8_t>> bad = {
      {0xde, 0xad, 0xbe, 0xef}, {0x08}, testing::encode(absurd), {}};
  int logged = 0;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const HandleEffects effects = handler.handle(bad[i], 2 * kSecond);
    EXPECT_FALSE(effects.send_clock_state);
    EXPECT_FALSE(effects.report);
    if (effects.log) ++logged;
  }
  handler.handle_oversized(2 * kSecond);
  EXPECT_EQ(handler.messages_rejected(), 5u);
  // Undecodable (3 of them) logs once; out of range and oversized once each.
  EXPECT_EQ(logged, 2);
  EXPECT_EQ(handler.samples_accepted(), before.samples_accepted());
  EXPECT_EQ(handler.frequency_ppb(), std::optional<std::int64_t>(12'500));
  ASSERT_TRUE(handler.last_sample());
  EXPECT_EQ(handler.last_sample()->offset_ns, last_before->offset_ns);
  EXPECT_EQ(handler.current_state().frequency_ppb(), before.frequency_ppb());
}

TEST(NetMessageHandler, PrefixesNetLogLines) {
  NetMessageHandler handler(std::nullopt);
  const HandleEffects effects =
      handler.handle(testing::encode_log(ipc::LOG_SEVERITY_NOTICE, "IO: ready"), kSecond);
  ASSERT_TRUE(effects.log);
  EXPECT_EQ(effects.log->text, "[net] IO: ready");
  EXPECT_EQ(effects.log->priority, LOG_NOTICE);
}

TEST(NetMessageHandler, ResetGivesAFreshNetProcessFreshBuckets) {
  NetMessageHandler handler(std::nullopt);
  const auto bytes = testing::encode(testing::valid_sample());
  for (int i = 0; i < 20; ++i) handler.handle(bytes, kSecond);
  EXPECT_EQ(handler.samples_accepted(), 8u);
  handler.reset_rate_limits();
  EXPECT_TRUE(handler.handle(bytes, kSecond).send_clock_state);
  EXPECT_EQ(handler.samples_accepted(), 9u);
}

}  // namespace
}  // namespace ntpd::clock
