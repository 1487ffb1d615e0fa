// SeqlockSnapshot<T>: one writer publishes a small trivially copyable value
// (the server's SystemVars) and any number of reader threads copy it
// without locks and without ever seeing a half-written value. The writer
// is the thread that constructed the snapshot (ntpd-net's main thread, the
// single owner of system state); publish() from any other thread is
// refused. Every shared word is a std::atomic, so the pattern is free of
// data races in the C++ memory model (and under TSan), not just on x86.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>

namespace ntpd::net {

template <typename T>
class SeqlockSnapshot {
  static_assert(std::is_trivially_copyable_v<T>, "published values are copied bytewise");

 public:
  explicit SeqlockSnapshot(const T& initial = T{}) : writer_(std::this_thread::get_id()) {
    publish(initial);
  }
  SeqlockSnapshot(const SeqlockSnapshot&) = delete;
  SeqlockSnapshot& operator=(const SeqlockSnapshot&) = delete;

  // Writer thread only: makes `value` what readers see from now on.
  // Returns false, changing nothing, when called from another thread.
  bool publish(const T& value) {
    if (std::this_thread::get_id() != writer_) return false;
    std::array<std::uint64_t, kWords> words{};
    std::memcpy(words.data(), &value, sizeof(T));
    const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);  // odd: a write is in progress
    // Release per word (no standalone fence, which TSan cannot model): a
    // reader that sees any new word also sees the odd count stored before.
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(words[i], std::memory_order_release);
    seq_.store(seq + 2, std::memory_order_release);
    return true;
  }

  // Any thread: a consistent copy of the latest published value. Retries
  // while a write overlaps the copy (the writer publishes rarely, so a
  // reader almost never loops).
  T read() const {
    std::array<std::uint64_t, kWords> words{};
    for (;;) {
      const std::uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      for (std::size_t i = 0; i < kWords; ++i) words[i] = words_[i].load(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) break;
    }
    T value;
    std::memcpy(static_cast<void*>(&value), words.data(), sizeof(T));
    return value;
  }

  // How many values have been published (the initial one included).
  std::uint64_t version() const { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  static constexpr std::size_t kWords = (sizeof(T) + 7) / 8;
  const std::thread::id writer_;
  std::atomic<std::uint64_t> seq_{0};
  std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace ntpd::net
