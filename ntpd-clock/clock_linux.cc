// clock_adjtime(2) for the discipline's actions. Units: the kernel's
// frequency is in PPM scaled by 2^16; ADJ_NANO makes offsets nanoseconds.
#include "ntpd-clock/clock_linux.h"

#include <sys/timex.h>
#include <syslog.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/time_types.h"

namespace ntpd::clock {
namespace {

// PPB to the kernel's scaled PPM (2^-16 PPM units).
long to_kernel_frequency(std::int64_t ppb) { return static_cast<long>(ppb * 65536 / 1000); }

bool adjust(timex& tx, const char* what) {
  if (clock_adjtime(CLOCK_REALTIME, &tx) < 0) {
    common::logf(LOG_ERR, "CLOCK: %s failed: %s", what, std::strerror(errno));
    return false;
  }
  return true;
}

std::int64_t clamp_ppb(std::int64_t ppb) {
  return std::clamp(ppb, -kMaxFrequencyPpb, kMaxFrequencyPpb);
}

}  // namespace

bool KernelClock::step(std::int64_t offset_ns) {
  timex tx{};
  tx.modes = ADJ_SETOFFSET | ADJ_NANO;
  std::int64_t seconds = offset_ns / common::kNsPerSecond;
  std::int64_t nanos = offset_ns % common::kNsPerSecond;
  if (nanos < 0) {  // the kernel wants 0 <= tv_usec(ns) < 1e9
    nanos += common::kNsPerSecond;
    seconds -= 1;
  }
  tx.time.tv_sec = seconds;
  tx.time.tv_usec = nanos;
  return adjust(tx, "step (ADJ_SETOFFSET)");
}

bool KernelClock::adjtime(std::int64_t offset_ns) {
  // ADJ_OFFSET_SINGLESHOT slews at the kernel's fixed 500 PPM.
  timex tx{};
  tx.modes = ADJ_OFFSET_SINGLESHOT;
  tx.offset =
      static_cast<long>(std::clamp<std::int64_t>(offset_ns / 1000, -2'000'000'000, 2'000'000'000));
  return adjust(tx, "slew (ADJ_OFFSET_SINGLESHOT)");
}

bool KernelClock::set_frequency(const FrequencyUpdate& update) {
  timex tx{};
  tx.modes = ADJ_FREQUENCY;
  tx.freq = to_kernel_frequency(clamp_ppb(update.frequency_ppb + update.slew_ppb));
  return adjust(tx, "frequency (ADJ_FREQUENCY)");
}

bool KernelClock::kernel_pll(const KernelPllUpdate& update) {
  timex tx{};
  tx.modes = ADJ_OFFSET | ADJ_TIMECONST | ADJ_STATUS | ADJ_NANO;
  tx.status = STA_PLL | STA_NANO;
  // MAXPHASE: the kernel clamps to +-0.5 s; so do we, before it.
  tx.offset =
      static_cast<long>(std::clamp<std::int64_t>(update.offset_ns, -500'000'000, 500'000'000));
  tx.constant = std::clamp(update.time_constant, 0, 10);
  return adjust(tx, "kernel PLL (ADJ_OFFSET)");
}

bool KernelClock::set_status(const KernelStatus& status) {
  timex read{};
  if (clock_adjtime(CLOCK_REALTIME, &read) < 0) return false;
  timex tx{};
  tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
  tx.status = status.synchronized ? (read.status & ~STA_UNSYNC) : (read.status | STA_UNSYNC);
  tx.maxerror =
      static_cast<long>(std::clamp<std::int64_t>(status.maxerror_ns / 1000, 0, 16'000'000));
  tx.esterror =
      static_cast<long>(std::clamp<std::int64_t>(status.esterror_ns / 1000, 0, 16'000'000));
  return adjust(tx, "status (ADJ_STATUS)");
}

bool KernelClock::arm_leap(LeapArm leap) {
  timex read{};
  if (clock_adjtime(CLOCK_REALTIME, &read) < 0) return false;
  timex tx{};
  tx.modes = ADJ_STATUS;
  tx.status = read.status & ~(STA_INS | STA_DEL);
  if (leap == LeapArm::kInsert) tx.status |= STA_INS;
  if (leap == LeapArm::kDelete) tx.status |= STA_DEL;
  return adjust(tx, "leap (STA_INS/STA_DEL)");
}

std::optional<std::int64_t> KernelClock::read_frequency_ppb() {
  timex tx{};
  if (adjtimex(&tx) < 0) return std::nullopt;
  return static_cast<std::int64_t>(tx.freq) * 1000 / 65536;
}

bool NoClockControl::step(std::int64_t offset_ns) {
  ++steps_;
  common::logf(LOG_NOTICE, "CLOCK: would step by %+.6f s (--no-clock-control)",
               static_cast<double>(offset_ns) / 1e9);
  return true;
}

bool NoClockControl::adjtime(std::int64_t offset_ns) {
  common::logf(LOG_INFO, "CLOCK: would slew by %+.6f s (--no-clock-control)",
               static_cast<double>(offset_ns) / 1e9);
  return true;
}

bool NoClockControl::set_frequency(const FrequencyUpdate& update) {
  frequency_ppb_ = clamp_ppb(update.frequency_ppb + update.slew_ppb);
  return true;
}

}  // namespace ntpd::clock
