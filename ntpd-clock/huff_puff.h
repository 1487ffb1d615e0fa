// The huff-n'-puff filter (ntpd's `tinker huffpuff`): on a path whose delay
// is usually near its minimum but sometimes far above it on one leg only
// (a congested uplink), shrink each offset toward zero by half the excess of
// its delay over the minimum seen in the window. Pure: delays and time in.
#pragma once

#include <cstdint>
#include <vector>

namespace ntpd::clock {

class HuffPuff {
 public:
  // ntpd keeps the minimum per 900 s bucket over `window_ns` (e.g. 7200 s).
  static constexpr std::int64_t kBucketNs = 900'000'000'000;

  explicit HuffPuff(std::int64_t window_ns);
  // Returns the corrected offset (same sign convention as the input:
  // reference - local). `delay_ns` is the sample's round-trip delay.
  std::int64_t correct(std::int64_t offset_ns, std::int64_t delay_ns, std::int64_t now_ns);
  std::int64_t min_delay_ns() const { return min_delay_ns_; }

 private:
  void rotate(std::int64_t now_ns);

  std::vector<std::int64_t> buckets_;
  std::size_t current_ = 0;
  std::int64_t min_delay_ns_;
  std::int64_t bucket_start_ns_ = 0;
  bool started_ = false;
};

}  // namespace ntpd::clock
