// ntp-test-dns: a tiny authoritative DNS responder for system tests, on a
// namespace's loopback. Fixed answers from the command line:
//   ntp-test-dns --listen 127.0.0.53 [--port 53] [--seconds 120]
//                --name pool.test=127.0.0.3,127.0.0.4 [--name ...]
// A and AAAA questions for a listed name get its addresses of that family
// (NOERROR with no answer if it has none); other names get NXDOMAIN. It
// answers single-question UDP queries only, and exits after --seconds or
// 10,000 queries, so a test can never leave it running.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kMaxQueries = 10'000;
constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;

struct Answers {
  std::vector<std::array<std::uint8_t, 4>> v4;
  std::vector<std::array<std::uint8_t, 16>> v6;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool add_name(const std::string& spec, std::map<std::string, Answers>* names) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos) return false;
  Answers& answers = (*names)[lower(spec.substr(0, eq))];
  std::size_t start = eq + 1;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string text = spec.substr(start, end - start);
    std::array<std::uint8_t, 4> v4{};
    std::array<std::uint8_t, 16> v6{};
    if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
      answers.v4.push_back(v4);
    } else if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
      answers.v6.push_back(v6);
    } else {
      return false;
    }
    start = end + 1;
  }
  return true;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// The reply to `query`, or empty to stay silent (not a single-question query).
std::vector<std::uint8_t> answer(const std::uint8_t* q, std::size_t n,
                                 const std::map<std::string, Answers>& names) {
  if (n < 12 || (q[2] & 0x80) != 0 || (q[2] & 0x78) != 0 || q[4] != 0 || q[5] != 1) return {};
  std::string name;
  std::size_t at = 12;
  while (at < n && q[at] != 0) {
    const std::size_t len = q[at];
    if (len > 63 || at + 1 + len >= n) return {};
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(q + at + 1), len);
    at += 1 + len;
  }
  if (at + 5 > n) return {};
  const std::size_t question_end = at + 5;
  const std::uint16_t type = static_cast<std::uint16_t>(q[at + 1] << 8 | q[at + 2]);
  const auto it = names.find(lower(name));
  std::vector<std::uint8_t> out(q, q + 2);                              // id
  out.push_back(static_cast<std::uint8_t>(0x84 | (q[2] & 0x01)));       // QR, AA, RD echoed
  out.push_back(static_cast<std::uint8_t>(it == names.end() ? 3 : 0));  // NXDOMAIN or NOERROR
  std::size_t count = 0;
  if (it != names.end()) {
    count = type == kTypeA ? it->second.v4.size() : type == kTypeAaaa ? it->second.v6.size() : 0;
  }
  put16(out, 1);
  put16(out, static_cast<std::uint16_t>(count));
  put16(out, 0);
  put16(out, 0);
  out.insert(out.end(), q + 12, q + question_end);  // the question as asked (0x20 case kept)
  for (std::size_t i = 0; i < count; ++i) {
    put16(out, 0xc00c);  // pointer to the question's name
    put16(out, type);
    put16(out, 1);  // IN
    put16(out, 0);
    put16(out, 60);  // TTL
    if (type == kTypeA) {
      put16(out, 4);
      out.insert(out.end(), it->second.v4[i].begin(), it->second.v4[i].end());
    } else {
      put16(out, 16);
      out.insert(out.end(), it->second.v6[i].begin(), it->second.v6[i].end());
    }
  }
  std::printf("ntp-test-dns: %s type %u: %s, %zu answers\n", lower(name).c_str(), type,
              it == names.end() ? "NXDOMAIN" : "NOERROR", count);
  std::fflush(stdout);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.53";
  int port = 53;
  int seconds = 120;
  std::map<std::string, Answers> names;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--port") {
      port = std::atoi(value.c_str());
    } else if (flag == "--seconds") {
      seconds = std::clamp(std::atoi(value.c_str()), 1, 600);
    } else if (flag != "--name" || !add_name(value, &names)) {
      std::fprintf(stderr, "ntp-test-dns: bad argument %s %s\n", flag.c_str(), value.c_str());
      return 2;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || inet_pton(AF_INET, listen.c_str(), &addr.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("ntp-test-dns: socket/bind");
    return 1;
  }
  std::printf("ntp-test-dns: listening on %s port %d\n", listen.c_str(), port);
  std::fflush(stdout);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (int served = 0; served < kMaxQueries;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::uint8_t buffer[512];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) continue;
    const auto reply = answer(buffer, static_cast<std::size_t>(n), names);
    if (reply.empty()) continue;
    ++served;
    sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
  close(fd);
  return 0;
}
