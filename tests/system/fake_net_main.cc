// ntpd-fake-net: a hostile stand-in for ntpd-net, started by the real ntpd
// through --net-program in ipc_hostile_test. It speaks on fd 3 (the IPC
// socketpair) exactly as a compromised ntpd-net could, prints one
// "FAKE-RESULT key=value..." line on stdout and stays alive until EOF on
// fd 3. Test code only: never installed, never sandboxed, no network.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/ntpd.pb.h"
#include "tests/system/fake_net_plan.h"

namespace ntpd::systest {
namespace {

namespace plan = fake_plan;
using Clock = std::chrono::steady_clock;

constexpr int kIpcFd = 3;
constexpr std::size_t kIpcCap = 64 * 1024;  // common/ipc_codec.h kMaxIpcMessageBytes

struct HostileMessage {
  const char* checks;  // what the clock process must do with it
  std::string bytes;
};

// ---------------------------------------------------------------- encoding

// Serializes as-is: no schema version is added and no size cap applied,
// unlike common::encode_envelope.
std::string raw(const ipc::Envelope& envelope) { return envelope.SerializeAsString(); }

std::string versioned(ipc::Envelope envelope) {
  envelope.set_schema_version(ipc::SCHEMA_VERSION_1);
  return raw(envelope);
}

ipc::Sample valid_sample(std::int64_t offset_ns = 1'500'000) {
  ipc::Sample s;
  s.set_offset_ns(offset_ns);
  s.set_delay_ns(2'000'000);
  s.set_dispersion_ns(100'000);
  s.set_jitter_ns(50'000);
  s.set_root_distance_ns(10'000'000);
  s.set_stratum(2);
  s.set_leap(0);
  s.set_refid(0x7f000001);
  s.set_poll_log2s(6);
  return s;
}

std::string sample_message(const ipc::Sample& sample) {
  ipc::Envelope envelope;
  *envelope.mutable_sample() = sample;
  return versioned(envelope);
}

void append_varint(std::string* out, std::uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// A Sample whose offset_ns (field 1, declared int64 = varint) arrives as a
// fixed64 carrying a double's bit pattern, as a sender that "knows" the
// offset is a double would write it. The other fields are valid.
std::string sample_with_fixed64_offset(std::uint64_t bits) {
  ipc::Sample rest = valid_sample();
  rest.clear_offset_ns();
  std::string inner;
  inner.push_back(static_cast<char>((ipc::Sample::kOffsetNsFieldNumber << 3) | 1));  // fixed64
  for (int i = 0; i < 8; ++i) inner.push_back(static_cast<char>(bits >> (8 * i)));
  inner += rest.SerializeAsString();
  ipc::Envelope header;
  std::string out = versioned(header);
  out.push_back(static_cast<char>((ipc::Envelope::kSampleFieldNumber << 3) | 2));  // length-delim.
  append_varint(&out, inner.size());
  return out + inner;
}

ipc::Sample with(ipc::Sample s, void (*change)(ipc::Sample&)) {
  change(s);
  return s;
}

// Every message here must be rejected (counted in messages_rejected) and
// must not change anything in the clock process.
std::vector<HostileMessage> invalid_messages() {
  std::vector<HostileMessage> m;
  // Framing: bytes that are not a protobuf envelope at all.
  m.push_back({"undecodable: varint that never ends", std::string(64, '\xff')});
  m.push_back({"undecodable: text (wire type 7)", "GET / HTTP/1.1\r\nHost: clock\r\n\r\n"});
  // (The SCM_RIGHTS message is sent separately, see send_with_descriptor.)
  {
    ipc::Envelope e;
    *e.mutable_sample() = valid_sample();
    m.push_back({"undecodable: valid sample without schema_version", raw(e)});
    e.set_schema_version(static_cast<ipc::SchemaVersion>(2));
    m.push_back({"undecodable: unsupported schema_version 2", raw(e)});
  }
  m.push_back({"undecodable: schema_version but no body", versioned(ipc::Envelope())});
  {
    const std::string whole = sample_message(valid_sample());
    m.push_back(
        {"undecodable: valid sample truncated by 3 bytes", whole.substr(0, whole.size() - 3)});
  }
  {
    ipc::Envelope e;
    e.mutable_log()->set_severity(ipc::LOG_SEVERITY_ERROR);
    e.mutable_log()->set_text(std::string(kIpcCap, 'x'));
    m.push_back({"oversized: datagram > 64 KiB (MSG_TRUNC path)", versioned(e)});
  }
  // Samples with every field present but one out of range (validate.cc).
  using S = ipc::Sample;
  const std::int64_t max_offset = std::int64_t{1} << 61;  // kMaxSampleOffsetNs
  m.push_back({"out of range: offset INT64_MAX", sample_message(with(valid_sample(), [](S& s) {
                 s.set_offset_ns(std::numeric_limits<std::int64_t>::max());
               }))});
  m.push_back({"out of range: offset INT64_MIN (no negation overflow)",
               sample_message(with(valid_sample(), [](S& s) {
                 s.set_offset_ns(std::numeric_limits<std::int64_t>::min());
               }))});
  m.push_back(
      {"out of range: offset one past the bound", sample_message(valid_sample(max_offset + 1))});
  m.push_back({"out of range: negative delay",
               sample_message(with(valid_sample(), [](S& s) { s.set_delay_ns(-1); }))});
  m.push_back(
      {"out of range: dispersion beyond MAXDISP (16 s)",
       sample_message(with(valid_sample(), [](S& s) { s.set_dispersion_ns(16'000'000'001); }))});
  m.push_back({"out of range: jitter INT64_MIN", sample_message(with(valid_sample(), [](S& s) {
                 s.set_jitter_ns(std::numeric_limits<std::int64_t>::min());
               }))});
  m.push_back({"out of range: negative root distance",
               sample_message(with(valid_sample(), [](S& s) { s.set_root_distance_ns(-5); }))});
  m.push_back({"out of range: stratum 16",
               sample_message(with(valid_sample(), [](S& s) { s.set_stratum(16); }))});
  m.push_back({"out of range: leap 3 (unsynchronized)",
               sample_message(with(valid_sample(), [](S& s) { s.set_leap(3); }))});
  m.push_back({"out of range: poll 99",
               sample_message(with(valid_sample(), [](S& s) { s.set_poll_log2s(99); }))});
  m.push_back({"out of range: poll 2 (below minpoll)",
               sample_message(with(valid_sample(), [](S& s) { s.set_poll_log2s(2); }))});
  // Missing fields must not be read as zero.
  {
    ipc::Sample only_offset;
    only_offset.set_offset_ns(1000);
    m.push_back({"missing field: sample with only offset", sample_message(only_offset)});
    m.push_back({"missing field: empty sample", sample_message(ipc::Sample())});
  }
  // NaN and infinity cannot be expressed in an int64 field; sent with the
  // wrong wire type they must land in unknown fields, leaving offset absent.
  m.push_back({"missing field: offset as fixed64 NaN bits",
               sample_with_fixed64_offset(0x7ff8000000000000ULL)});
  m.push_back({"missing field: offset as fixed64 +inf bits",
               sample_with_fixed64_offset(0x7ff0000000000000ULL)});
  // Messages of the wrong direction are never obeyed.
  {
    ipc::Envelope e;
    e.mutable_clock_state()->set_sync_state(ipc::SYNC_STATE_SYNCHRONIZED);
    e.mutable_clock_state()->set_stepped(true);
    e.mutable_clock_state()->set_samples_accepted(1'000'000);
    m.push_back({"unexpected type: ClockState from ntpd-net", versioned(e)});
    ipc::Envelope config;
    config.mutable_net_config()->set_log_level(7);
    m.push_back({"unexpected type: NetConfig from ntpd-net", versioned(config)});
  }
  // Log and seccomp reports are validated too.
  {
    ipc::Envelope e;
    e.mutable_log()->set_severity(static_cast<ipc::LogSeverity>(99));
    e.mutable_log()->set_text("severity out of range");
    m.push_back({"out of range: log severity 99", versioned(e)});
    ipc::Envelope no_text;
    no_text.mutable_log()->set_severity(ipc::LOG_SEVERITY_ERROR);
    m.push_back({"missing field: log record without text", versioned(no_text)});
    ipc::Envelope report;
    report.mutable_seccomp_violation()->set_syscall_nr(-1);
    report.mutable_seccomp_violation()->set_arch(0xc000003e);
    m.push_back({"out of range: seccomp report for syscall -1", versioned(report)});
    ipc::Envelope no_arch;
    no_arch.mutable_seccomp_violation()->set_syscall_nr(257);
    m.push_back({"missing field: seccomp report without arch", versioned(no_arch)});
  }
  return m;
}

// A valid log record that tries to forge log lines and flood the log:
// ANSI escapes, CR/LF followed by a fake "[clock]" line, BEL, NUL, DEL and
// 10 KB of text. The clock must log it on one sanitized, capped line.
std::string hostile_log_message() {
  std::string text = std::string(plan::kHostileLogMarker) + " \x1b[31mred\x1b[0m\r\n";
  text += "FAKE-INJECTED [clock] EXIT: forged line";
  text += std::string("\x07\x00\x7f\x01\t", 5);
  text += std::string(10 * 1024, 'A');
  ipc::Envelope e;
  e.mutable_log()->set_severity(ipc::LOG_SEVERITY_WARNING);
  e.mutable_log()->set_text(text);
  return versioned(e);
}

// ---------------------------------------------------------------- I/O

bool send_bytes(const std::string& bytes) {
  const ssize_t n = ::send(kIpcFd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return n == static_cast<ssize_t>(bytes.size());
}

// Garbage bytes with a pipe descriptor attached (SCM_RIGHTS): the clock
// process must neither decode the bytes nor end up holding the pipe.
// Returns the pipe's "pipe:[inode]" name for the test to look for.
std::optional<std::string> send_with_descriptor() {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  struct stat st {};
  ::fstat(fds[0], &st);
  const std::string name = "pipe:[" + std::to_string(st.st_ino) + "]";
  char payload[8];
  for (char& c : payload) c = '\xff';
  iovec iov{payload, sizeof payload};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  __builtin_memcpy(CMSG_DATA(cmsg), &fds[0], sizeof(int));
  const bool sent = ::sendmsg(kIpcFd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof payload);
  ::close(fds[0]);
  ::close(fds[1]);
  if (!sent) return std::nullopt;
  return name;
}

// One envelope from the clock process within `timeout`; nullopt on timeout,
// EOF or garbage.
std::optional<ipc::Envelope> receive(std::chrono::milliseconds timeout) {
  pollfd pfd{kIpcFd, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  std::vector<char> buffer(kIpcCap + 1);
  const ssize_t n = ::recv(kIpcFd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n <= 0) return std::nullopt;
  ipc::Envelope envelope;
  if (!envelope.ParseFromArray(buffer.data(), static_cast<int>(n))) return std::nullopt;
  return envelope;
}

std::optional<ipc::ClockState> receive_clock_state(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto envelope = receive(left);
    if (!envelope) return std::nullopt;
    if (envelope->has_clock_state()) return envelope->clock_state();
  }
  return std::nullopt;
}

// Every ClockState already queued; the last one, if any.
std::optional<ipc::ClockState> drain_clock_states() {
  std::optional<ipc::ClockState> last;
  for (int i = 0; i < 1000; ++i) {
    auto state = receive_clock_state(std::chrono::milliseconds(200));
    if (!state) break;
    last = state;
  }
  return last;
}

[[noreturn]] void fail(const char* what) {
  std::printf("FAKE-ERROR %s\n", what);
  std::fflush(stdout);
  _exit(1);
}

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

int run() {
  using std::chrono::milliseconds;
  // 1. What the clock process sends first: NetConfig, then a ClockState.
  auto config = receive(milliseconds(5000));
  if (!config || !config->has_net_config()) fail("no NetConfig first");
  if (!receive_clock_state(milliseconds(5000))) fail("no initial ClockState");

  // 2. Control: one valid sample is accepted and answered.
  const auto control_sent = Clock::now();
  if (!send_bytes(sample_message(valid_sample()))) fail("cannot send control sample");
  auto control = receive_clock_state(milliseconds(5000));
  if (!control) fail("no ClockState after the control sample");

  // 3. The hostile phase.
  const std::vector<HostileMessage> invalid = invalid_messages();
  if (invalid.size() + 1 != static_cast<std::size_t>(plan::kInvalidMessages))
    fail("fake_net_plan.h is out of date");
  int invalid_sent = 0;
  for (const HostileMessage& message : invalid) {
    if (!send_bytes(message.bytes)) {
      std::printf("FAKE-ERROR cannot send: %s\n", message.checks);
      std::fflush(stdout);
      _exit(1);
    }
    ++invalid_sent;
  }
  const auto passed = send_with_descriptor();
  if (!passed) fail("cannot send SCM_RIGHTS message");
  ++invalid_sent;
  if (!send_bytes(hostile_log_message())) fail("cannot send hostile log record");

  // 4. The flood: the clock's sample bucket must let only its burst through.
  for (int i = 0; i < plan::kFloodSamples; ++i) {
    if (!send_bytes(sample_message(valid_sample(1'000'000 + i)))) fail("cannot send flood");
  }
  const long control_to_flood_end_ms = elapsed_ms(control_sent);
  const auto flood_end = Clock::now();
  std::this_thread::sleep_for(milliseconds(plan::kPauseBeforeFinalMs) / 2);
  auto after_flood = drain_clock_states();
  if (!after_flood) after_flood = control;
  std::this_thread::sleep_until(flood_end + milliseconds(plan::kPauseBeforeFinalMs));

  // 5. One more valid sample after the pause: a token was earned.
  if (!send_bytes(sample_message(valid_sample(2'000'000)))) fail("cannot send final sample");
  auto final_state = receive_clock_state(milliseconds(3000));
  const bool final_reply = final_state.has_value();
  if (!final_state) final_state = after_flood;

  std::printf(
      "FAKE-RESULT accepted=%llu rejected=%llu control_accepted=%llu control_rejected=%llu "
      "after_flood_accepted=%llu after_flood_rejected=%llu final_reply=%d invalid_sent=%d "
      "control_to_flood_end_ms=%ld passed_fd=%s\n",
      static_cast<unsigned long long>(final_state->samples_accepted()),
      static_cast<unsigned long long>(final_state->messages_rejected()),
      static_cast<unsigned long long>(control->samples_accepted()),
      static_cast<unsigned long long>(control->messages_rejected()),
      static_cast<unsigned long long>(after_flood->samples_accepted()),
      static_cast<unsigned long long>(after_flood->messages_rejected()), final_reply ? 1 : 0,
      invalid_sent, control_to_flood_end_ms, passed->c_str());
  std::fflush(stdout);

  // 6. Stay alive (the test checks nothing restarted us) until EOF, bounded.
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < give_up) {
    pollfd pfd{kIpcFd, POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) continue;
    char byte;
    if (::recv(kIpcFd, &byte, 1, MSG_DONTWAIT) == 0) return 0;  // EOF
    if ((pfd.revents & (POLLHUP | POLLERR)) != 0) return 0;
  }
  return 0;
}

}  // namespace
}  // namespace ntpd::systest

int main() { return ntpd::systest::run(); }
