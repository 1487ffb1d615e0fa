// Serving threads on the wire (issue 4): ntpd with --server-threads 2 in
// its own namespace, client requests from 32 loopback source addresses and
// several ports each. Every request must get exactly one valid reply, both
// the main thread and serving thread 1 must have answered (the daemon logs
// each thread's first replies), and every thread of ntpd-net must run
// under the seccomp filter. Under sustained load both threads must switch
// to paced reads (wakeup_pacer.h, logged once per thread) and still answer
// every request.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "tests/system/daemon_fixture.h"
#include "tests/testlib/namespace_launch.h"

namespace ntpd::systest {
namespace {

using common::UniqueFd;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeader = 48;
constexpr int kSources = 32;        // 127.0.0.2 .. 127.0.0.33
constexpr int kPortsPerSource = 4;  // sockets (source ports) per address
constexpr int kRequestsPerSocket = 2;

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::vector<std::uint8_t> client_request(std::uint64_t cookie) {
  std::vector<std::uint8_t> packet(kHeader, 0);
  packet[0] = (4 << 3) | 3;  // VN 4, mode 3
  packet[2] = 6;
  for (int i = 7; i >= 0; --i, cookie >>= 8) packet[40 + i] = static_cast<std::uint8_t>(cookie);
  return packet;
}

// A socket in the daemon's namespace bound to source:0, connected to 127.0.0.1:123.
UniqueFd open_client(pid_t netns_pid, const std::string& source) {
  UniqueFd fd;
  wait_until(milliseconds(5000), [&] {
    UniqueFd candidate;
    if (!testlib::with_network_namespace_of(
            netns_pid,
            [&] {
              candidate = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
            }) ||
        !candidate) {
      return false;
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(123);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::bind(candidate.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(candidate.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      return false;
    }
    fd = std::move(candidate);
    return true;
  });
  return fd;
}

// What makes a server reply valid for the request with transmit `cookie`
// (RFC 5905 section 8): 48 bytes, VN 4, mode 4, origin = cookie, receive
// and transmit timestamps set and in order.
std::string check_reply(const std::uint8_t* data, std::size_t length, std::uint64_t cookie) {
  if (length != kHeader) return "length " + std::to_string(length);
  if (((data[0] >> 3) & 7) != 4 || (data[0] & 7) != 4) return "version/mode";
  if (load_be64(data + 24) != cookie) return "origin";
  const std::uint64_t receive = load_be64(data + 32), transmit = load_be64(data + 40);
  if (receive == 0 || transmit == 0 || transmit < receive) return "timestamps";
  return "";
}

// Thread ids of `pid` (from /proc/PID/task).
std::vector<std::string> thread_ids(pid_t pid) {
  std::vector<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

TEST(ServerThreadsTest, RequestsFromManySourcesAreAllAnsweredByMoreThanOneThread) {
  NTPD_SYSTEST_REQUIRE_ROOT();
  become_subreaper();
  TempDir dir;
  const std::string jail = dir.file("jail");
  ASSERT_EQ(::mkdir(jail.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(jail.c_str(), 0755), 0);
  const std::string conf = dir.file("ntp.conf");
  ASSERT_TRUE(write_file(conf, "server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n"));
  std::string error;
  const pid_t pid =
      testlib::launch_in_namespace(
          {bin_path("ntpd"), "-n", "-c", conf, "--no-clock-control", "-u", "nobody:nogroup", "-i",
           jail, "-l", dir.file("ntpd.log"), "-p", dir.file("ntpd.pid"), "--server-threads", "2"},
          dir.file("output.txt"), &error)
          .pid;
  ASSERT_GT(pid, 0) << error;
  struct Reaper {
    pid_t pid;
    ~Reaper() { kill_process_tree(pid); }
  } reaper{pid};
  const auto log = [&] { return read_file(dir.file("ntpd.log")).value_or(""); };
  ASSERT_TRUE(wait_until(milliseconds(10000), [&] {
    return log().find("serving threads") != std::string::npos;
  })) << log();
  EXPECT_NE(log().find("1 serving threads"), std::string::npos) << log();

  std::vector<UniqueFd> clients;
  for (int s = 0; s < kSources; ++s) {
    for (int p = 0; p < kPortsPerSource; ++p) {
      clients.push_back(open_client(pid, "127.0.0." + std::to_string(2 + s)));
      ASSERT_TRUE(clients.back().valid()) << "source " << s;
    }
  }
  std::uint64_t next_cookie = (std::uint64_t{std::random_device{}()} << 32) | 1;
  std::map<std::uint64_t, int> answers;  // cookie -> replies seen
  for (int round = 0; round < kRequestsPerSocket; ++round) {
    for (auto& fd : clients) {
      const std::uint64_t cookie = next_cookie++;
      const auto packet = client_request(cookie);
      ASSERT_EQ(::send(fd.get(), packet.data(), packet.size(), 0),
                static_cast<ssize_t>(packet.size()));
      answers[cookie] = 0;
    }
  }
  // Reads every queued reply; each must answer a request of the current
  // phase, once, validly.
  std::size_t answered = 0;
  std::vector<pollfd> polls;
  for (auto& fd : clients) polls.push_back({fd.get(), POLLIN, 0});
  const auto collect = [&] {
    for (auto& p : polls) {
      std::uint8_t buffer[1024];
      for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(p.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) break;
        ASSERT_GE(n, 48);
        const std::uint64_t cookie = load_be64(buffer + 24);
        auto it = answers.find(cookie);
        ASSERT_NE(it, answers.end()) << "reply to an unknown request";
        EXPECT_EQ(check_reply(buffer, static_cast<std::size_t>(n), cookie), "");
        if (it->second++ == 0) ++answered;
      }
    }
  };
  // Collects for up to 5 s (generous under load), then checks the phase.
  const auto expect_all_answered_once = [&] {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (answered < answers.size() && Clock::now() < deadline) {
      if (::poll(polls.data(), polls.size(), 100) > 0) collect();
    }
    EXPECT_EQ(answered, answers.size());
    for (const auto& [cookie, count] : answers) EXPECT_LE(count, 1) << "duplicate reply";
  };
  expect_all_answered_once();

  // Both the main thread and serving thread 1 answered some of them.
  EXPECT_TRUE(wait_until(milliseconds(5000), [&] {
    return log().find("main thread answered its first requests") != std::string::npos &&
           log().find("serving thread 1 answered its first requests") != std::string::npos;
  })) << log();
  EXPECT_EQ(log().find("non-client packets"), std::string::npos) << log();

  // Sustained load: a request from each of 16 sockets (8 source addresses,
  // so both threads get some) every 100 us for 300 rounds, about 50000/s:
  // wakeups come closer than the pacer's minimum window.
  answers.clear();
  answered = 0;
  for (int round = 0; round < 300; ++round) {
    for (int s = 0; s < 16; ++s) {
      auto& fd = clients[static_cast<std::size_t>(s) * kPortsPerSource / 2];
      const std::uint64_t cookie = next_cookie++;
      const auto packet = client_request(cookie);
      answers[cookie] = 0;
      ASSERT_EQ(::send(fd.get(), packet.data(), packet.size(), 0),
                static_cast<ssize_t>(packet.size()));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (round % 8 == 0) collect();
  }
  expect_all_answered_once();
  EXPECT_TRUE(wait_until(milliseconds(5000), [&] {
    return log().find("main thread under load: reading once per window") != std::string::npos &&
           log().find("serving thread 1 under load: reading once per window") != std::string::npos;
  })) << log();

  // ntpd-net runs two threads, each under seccomp (mode 2, filter).
  const std::vector<pid_t> children = child_pids(pid);
  ASSERT_EQ(children.size(), 1u);
  const auto threads = thread_ids(children[0]);
  EXPECT_EQ(threads.size(), 2u);
  for (const auto& tid : threads) {
    const auto status =
        read_file("/proc/" + std::to_string(children[0]) + "/task/" + tid + "/status");
    ASSERT_TRUE(status.has_value());
    EXPECT_NE(status->find("Seccomp:\t2"), std::string::npos) << "thread " << tid;
  }
}

}  // namespace
}  // namespace ntpd::systest
