// SeqlockSnapshot: one writer (the constructing thread) publishes, reader
// threads copy concurrently and must never see a torn value; any other
// thread's publish is refused. Run under TSan/ASan as well as plain.
#include "ntpd-net/seqlock_snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ntpd-net/server.h"

namespace ntpd::net {
namespace {

// Every field derives from one counter: a torn copy breaks the relation.
struct Sample {
  std::uint64_t a = 0;
  std::uint64_t b = ~std::uint64_t{0};
  std::uint64_t c = 0;
  std::uint32_t d = 0;
};

Sample make(std::uint64_t k) {
  return {k, ~k, k * 3 + 1, static_cast<std::uint32_t>(k ^ 0x5a5a5a5a)};
}

bool consistent(const Sample& s) {
  return s.b == ~s.a && s.c == s.a * 3 + 1 && s.d == static_cast<std::uint32_t>(s.a ^ 0x5a5a5a5a);
}

TEST(SeqlockSnapshotTest, ReadersNeverSeeTornOrOlderValuesWhileOneWriterPublishes) {
  SeqlockSnapshot<Sample> snapshot(make(0));
  constexpr std::uint64_t kPublishes = 200000;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last = 0;
      // Bounded: the writer finishes, then one more pass.
      for (std::uint64_t i = 0; i < 50'000'000 && !done.load(); ++i) {
        const Sample s = snapshot.read();
        if (!consistent(s) || s.a < last) failures.fetch_add(1);
        last = s.a;
      }
    });
  }
  for (std::uint64_t k = 1; k <= kPublishes; ++k) ASSERT_TRUE(snapshot.publish(make(k)));
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(snapshot.read().a, kPublishes);
  EXPECT_EQ(snapshot.version(), kPublishes + 1);
}

TEST(SeqlockSnapshotTest, OnlyTheOwningThreadMayPublish) {
  SeqlockSnapshot<SystemVars> snapshot;
  SystemVars mine;
  mine.stratum = 3;
  ASSERT_TRUE(snapshot.publish(mine));
  bool refused = false;
  std::thread other([&] {
    SystemVars theirs;
    theirs.stratum = 9;
    refused = !snapshot.publish(theirs);
  });
  other.join();
  EXPECT_TRUE(refused);
  EXPECT_EQ(snapshot.read().stratum, 3);
  EXPECT_EQ(snapshot.version(), 2u);
}

}  // namespace
}  // namespace ntpd::net
