// KindLogGate: "log each rejection once per kind per minute" (issue 5), for
// any enum of rejection kinds. The first of a kind is logged; later ones in
// the window are counted, and the count is reported with the next logged one.
#pragma once

#include <array>
#include <cstdint>

namespace ntpd::clock {

template <typename Kind, int kKinds>
class KindLogGate {
 public:
  static constexpr std::int64_t kWindowNs = 60'000'000'000;

  // True when this one should be logged now; *suppressed (if not null) is
  // how many of this kind were dropped silently since the last logged one.
  bool should_log(Kind kind, std::int64_t now_ns, std::uint64_t* suppressed) {
    PerKind& k = kinds_[static_cast<std::size_t>(kind)];
    if (k.logged && now_ns - k.last_ns < kWindowNs) {
      ++k.suppressed;
      return false;
    }
    if (suppressed != nullptr) *suppressed = k.suppressed;
    k.suppressed = 0;
    k.logged = true;
    k.last_ns = now_ns;
    return true;
  }

 private:
  struct PerKind {
    bool logged = false;
    std::int64_t last_ns = 0;
    std::uint64_t suppressed = 0;
  };
  std::array<PerKind, kKinds> kinds_{};
};

}  // namespace ntpd::clock
