// STAND-IN for ntpd-net's clock filter, selection and combining, which are
// not written yet (replace with the real ntpd-net core when it lands): per
// server the best-of-8 (minimum delay) clock filter of RFC 5905 section 10
// that only passes a sample newer than the last one it passed; falsetickers
// excluded by an intersection test on [offset - distance, offset + distance]
// (a simplified RFC 5905 section 11.2.1); the system offset is the median of
// the truechimers' filter offsets, sent when the median's sample is newer
// than the last one sent. Produces the DisciplineSample ntpd-net would send.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "ntpd-clock/discipline_policy.h"

namespace ntpd::sim {

struct FilterSample {
  double offset_s = 0;
  double delay_s = 0;
  double time_s = 0;  // true time of the measurement (its epoch)
};

class ClockFilterStandIn {
 public:
  static constexpr std::size_t kStages = 8;
  // Shifts in `sample`; returns the minimum-delay sample if it is newer
  // than the last one returned (RFC 5905 A.5.2 clock_filter).
  std::optional<FilterSample> add(const FilterSample& sample);
  void reset();
  const std::optional<FilterSample>& best() const { return best_; }
  double jitter_s() const { return jitter_s_; }

 private:
  std::array<std::optional<FilterSample>, kStages> stages_;
  std::size_t next_ = 0;
  std::optional<FilterSample> best_;
  double last_used_time_s_ = -1;
  double jitter_s_ = 0;
};

class SelectionStandIn {
 public:
  // `send_age`: tell the discipline how old the offset is (the IPC Sample
  // cannot say so yet; false reproduces what the clock process gets today).
  SelectionStandIn(std::size_t servers, bool send_age)
      : filters_(servers), fresh_(servers, false), send_age_(send_age) {}
  void add(std::size_t server, const FilterSample& sample);
  // After a poll round: the system sample, if any truechimer has a new
  // filter output and a majority agrees.
  std::optional<clock::DisciplineSample> combine(double now_s, int poll_log2s);
  void reset();  // every association restarts (after a step)
  std::size_t last_truechimers() const { return last_truechimers_; }

 private:
  std::vector<ClockFilterStandIn> filters_;
  std::vector<bool> fresh_;
  std::size_t last_truechimers_ = 0;
  double last_epoch_s_ = -1;
  bool send_age_;
};

}  // namespace ntpd::sim
