// ntp-load: an open-loop NTP client load generator for the server benchmark
// (scripts/bench-server.sh). Sends mode 3 requests at a fixed rate for a
// bounded time from many sockets (source ports, optionally several
// loopback source addresses), matches replies to requests by the transmit
// timestamp the server echoes as origin (RFC 5905 section 8), and prints
// sent/received/loss and latency percentiles as one JSON object.
// Hard caps: rate, duration, sockets and total requests (kMax* below).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr long kMaxRate = 2'000'000;     // requests per second
constexpr long kMaxDurationMs = 60'000;  // sending time
constexpr long kMaxDrainMs = 10'000;     // waiting for late replies
constexpr long kMaxSockets = 1024;
constexpr long kMaxSources = 250;  // 127.0.0.2 .. 127.0.0.251
constexpr std::uint64_t kMaxRequests = 20'000'000;
constexpr int kBatch = 32;
constexpr long kSpinAboveRate = 5'000;
constexpr std::size_t kHeader = 48;

struct Options {
  std::string server = "127.0.0.1";
  int port = 123;
  long rate = 1000;
  long duration_ms = 2000;
  long drain_ms = 1000;
  long sockets = 256;
  long sources = 0;  // 0: let the kernel pick the source address
};

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

bool parse_long(std::string_view text, long low, long high, long* out) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return false;
  }
  *out = value;
  return true;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "ntp-load: %s\n"
               "usage: ntp-load [--server ADDR] [--port N] [--rate PER_S (<= %ld)]\n"
               "                [--duration-ms MS (<= %ld)] [--drain-ms MS (<= %ld)]\n"
               "                [--sockets N (<= %ld)] [--sources N (<= %ld)]\n",
               why, kMaxRate, kMaxDurationMs, kMaxDrainMs, kMaxSockets, kMaxSources);
  return 2;
}

bool parse_args(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      *error = "missing value for " + std::string(flag);
      return false;
    }
    const std::string_view value = argv[i + 1];
    long port = 0;
    bool ok = true;
    if (flag == "--server") {
      o->server = std::string(value);
    } else if (flag == "--port") {
      ok = parse_long(value, 1, 65535, &port);
      o->port = static_cast<int>(port);
    } else if (flag == "--rate") {
      ok = parse_long(value, 1, kMaxRate, &o->rate);
    } else if (flag == "--duration-ms") {
      ok = parse_long(value, 1, kMaxDurationMs, &o->duration_ms);
    } else if (flag == "--drain-ms") {
      ok = parse_long(value, 0, kMaxDrainMs, &o->drain_ms);
    } else if (flag == "--sockets") {
      ok = parse_long(value, 1, kMaxSockets, &o->sockets);
    } else if (flag == "--sources") {
      ok = parse_long(value, 0, kMaxSources, &o->sources);
    } else {
      *error = "unknown argument " + std::string(flag);
      return false;
    }
    if (!ok) {
      *error = "bad or out-of-range value for " + std::string(flag) + ": " + std::string(value);
      return false;
    }
  }
  return true;
}

// The cookie in the transmit timestamp: a random run tag in the high 24
// bits and the request's sequence number in the low 40.
constexpr int kSeqBits = 40;
constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;

void put_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint64_t get_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

struct Results {
  std::uint64_t sent = 0, received = 0, invalid = 0, duplicates = 0, send_errors = 0;
  std::uint64_t max_send_lag_ns = 0;
  std::vector<std::uint32_t> latencies_us;
};

class Generator {
 public:
  Generator(const Options& o, std::uint64_t total) : o_(o), total_(total) {
    send_time_us_.assign(total, 0);
    seen_.assign(total, false);
    tag_ = (std::uint64_t{std::random_device{}()} & 0xffffff) << kSeqBits;
    results_.latencies_us.reserve(total);
  }

  bool open(std::string* error) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      *error = std::string("epoll_create1: ") + std::strerror(errno);
      return false;
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.server.c_str(), &server.sin_addr) != 1) {
      *error = "--server must be a numeric IPv4 address";
      return false;
    }
    for (long i = 0; i < o_.sockets; ++i) {
      const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        *error = std::string("socket: ") + std::strerror(errno);
        return false;
      }
      fds_.push_back(fd);
      if (o_.sources > 0) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(0x7f000002U + static_cast<std::uint32_t>(i % o_.sources));
        if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
          *error = std::string("bind source: ") + std::strerror(errno);
          return false;
        }
      }
      if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        *error = std::string("connect: ") + std::strerror(errno);
        return false;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        *error = std::string("epoll_ctl: ") + std::strerror(errno);
        return false;
      }
    }
    return true;
  }

  ~Generator() {
    for (int fd : fds_) close(fd);
    if (epoll_ >= 0) close(epoll_);
  }

  Results run() {
    start_ns_ = now_ns();
    const std::uint64_t send_end =
        start_ns_ + static_cast<std::uint64_t>(o_.duration_ms) * 1'000'000;
    const std::uint64_t hard_end = send_end + static_cast<std::uint64_t>(o_.drain_ms) * 1'000'000;
    std::size_t next_socket = 0;
    for (;;) {
      const std::uint64_t now = now_ns();
      if (now >= hard_end || (results_.sent == total_ && results_.received == total_)) break;
      // Open loop: everything due by now, in batches per socket.
      const std::uint64_t elapsed = now - start_ns_;
      std::uint64_t due =
          static_cast<std::uint64_t>(static_cast<long double>(elapsed) * o_.rate / 1e9L);
      due = std::min(due + 1, total_);
      while (results_.sent < due) {
        const int n = static_cast<int>(std::min<std::uint64_t>(kBatch, due - results_.sent));
        send_batch(fds_[next_socket], n, now);
        next_socket = (next_socket + 1) % fds_.size();
      }
      // Spin at benchmark rates: napping would send in bursts, which can
      // overflow a server's socket buffer by themselves and which spare a
      // server that wakes per request most of its wakeups. Nap only at the
      // low rates of smoke checks.
      receive(results_.sent < total_ && o_.rate > kSpinAboveRate ? 0 : 1);
    }
    return std::move(results_);
  }

 private:
  void send_batch(int fd, int n, std::uint64_t now) {
    mmsghdr msgs[kBatch]{};
    iovec iovs[kBatch];
    std::uint8_t packets[kBatch][kHeader]{};
    const std::uint64_t first = results_.sent;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t seq = first + static_cast<std::uint64_t>(i);
      packets[i][0] = (4 << 3) | 3;  // VN 4, mode 3
      packets[i][2] = 6;
      put_be64(packets[i] + 40, tag_ | seq);
      iovs[i] = {packets[i], kHeader};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      // When it was due: lateness of the generator itself is reported.
      const std::uint64_t due_ns =
          start_ns_ + static_cast<std::uint64_t>(static_cast<long double>(seq) * 1e9L / o_.rate);
      if (now > due_ns) results_.max_send_lag_ns = std::max(results_.max_send_lag_ns, now - due_ns);
      send_time_us_[seq] = static_cast<std::uint32_t>((now - start_ns_) / 1000);
    }
    const int done = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    // Unsent requests still count as sent and lost: the rate is the offer.
    if (done < n) results_.send_errors += static_cast<std::uint64_t>(n - std::max(done, 0));
    results_.sent += static_cast<std::uint64_t>(n);
  }

  void receive(int timeout_ms) {
    epoll_event events[64];
    const int ready = epoll_wait(epoll_, events, 64, timeout_ms);
    for (int e = 0; e < ready; ++e) {
      const int fd = fds_[events[e].data.u32];
      mmsghdr msgs[kBatch]{};
      iovec iovs[kBatch];
      static std::uint8_t buffers[kBatch][256];
      for (int i = 0; i < kBatch; ++i) {
        iovs[i] = {buffers[i], sizeof buffers[i]};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
      const std::uint64_t now_us = (now_ns() - start_ns_) / 1000;
      for (int i = 0; i < n; ++i) account(buffers[i], msgs[i].msg_len, now_us);
    }
  }

  void account(const std::uint8_t* data, std::size_t length, std::uint64_t now_us) {
    if (length < kHeader || (data[0] & 7) != 4) {
      ++results_.invalid;
      return;
    }
    const std::uint64_t origin = get_be64(data + 24);
    const std::uint64_t seq = origin & kSeqMask;
    if ((origin & ~kSeqMask) != tag_ || seq >= results_.sent) {
      ++results_.invalid;
      return;
    }
    if (seen_[seq]) {
      ++results_.duplicates;
      return;
    }
    seen_[seq] = true;
    ++results_.received;
    results_.latencies_us.push_back(static_cast<std::uint32_t>(now_us - send_time_us_[seq]));
  }

  const Options& o_;
  const std::uint64_t total_;
  std::vector<int> fds_;
  int epoll_ = -1;
  std::uint64_t tag_ = 0;
  std::uint64_t start_ns_ = 0;
  std::vector<std::uint32_t> send_time_us_;
  std::vector<bool> seen_;
  Results results_;
};

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string error;
  if (!parse_args(argc, argv, &o, &error)) return usage(error.c_str());
  const std::uint64_t total =
      static_cast<std::uint64_t>(o.rate) * static_cast<std::uint64_t>(o.duration_ms) / 1000;
  if (total == 0 || total > kMaxRequests)
    return usage("rate x duration must give 1..20000000 requests");
  Generator generator(o, total);
  if (!generator.open(&error)) {
    std::fprintf(stderr, "ntp-load: %s\n", error.c_str());
    return 1;
  }
  Results r = generator.run();
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  const double loss =
      r.sent == 0 ? 0.0 : 1.0 - static_cast<double>(r.received) / static_cast<double>(r.sent);
  std::printf(
      "{\"rate\": %ld, \"duration_ms\": %ld, \"sockets\": %ld, \"sources\": %ld, \"sent\": %llu, "
      "\"received\": %llu, \"loss\": %.6f, \"invalid\": %llu, \"duplicates\": %llu, "
      "\"send_errors\": %llu, \"max_send_lag_us\": %llu, \"latency_us\": {\"p50\": %u, "
      "\"p90\": %u, \"p99\": %u, \"max\": %u}}\n",
      o.rate, o.duration_ms, o.sockets, o.sources, static_cast<unsigned long long>(r.sent),
      static_cast<unsigned long long>(r.received), loss, static_cast<unsigned long long>(r.invalid),
      static_cast<unsigned long long>(r.duplicates), static_cast<unsigned long long>(r.send_errors),
      static_cast<unsigned long long>(r.max_send_lag_ns / 1000), percentile(r.latencies_us, 0.50),
      percentile(r.latencies_us, 0.90), percentile(r.latencies_us, 0.99),
      r.latencies_us.empty() ? 0U : r.latencies_us.back());
  return 0;
}
