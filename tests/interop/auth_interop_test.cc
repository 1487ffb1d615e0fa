// Interop, symmetric-key authentication (issue 6; RFC 5905 section 7.3 MACs,
// RFC 8573 AES-CMAC), all in one private namespace on loopback:
//  (a) ntpsec's ntpdig with -k/-a gets a reply with a valid MAC from our
//      server for MD5, SHA1 and AES-128 keys, and no valid reply with a key
//      our server does not share;
//  (b) our client with `server 127.0.0.1 key N` selects ntpsec's ntpd (with
//      the same keys and trustedkey) as system peer, |offset| < 1 ms;
//  (c) our client never selects a server whose replies carry a crypto-NAK,
//      no MAC, a MAC with another (even trusted) key or a bad MAC, and its
//      log says why. ntpsec supplies the crypto-NAK; a small responder in
//      this file (hand-built bytes, OpenSSL MD5) the others, with a
//      correctly signed run as control that the same responder is followed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "tests/interop/interop_fixture.h"
#include "tests/testlib/namespace_launch.h"

namespace ntpd::interop {
namespace {

using std::chrono::steady_clock;

constexpr std::int64_t kMaxOffsetNs = 1'000'000;
constexpr char kMd5Secret[] = "interop-md5-secret";  // ASCII: at most 20 characters
constexpr char kOtherMd5Secret[] = "interop-other-key";

// Key 1..3: one per type, in the spellings both ntpsec and we accept. Key 4
// is trusted by our client but never the key of its server line.
std::string keys_text() {
  return std::string("# auth interop keys\n") + "1 MD5 " + kMd5Secret +
         "\n"
         "2 SHA1 3f8a1c44d09be27a55c61e0f9d2b7a4c8e13f5d6\n"
         "3 AES-128 8c2e4f6a1b3d5e7f90a2c4e6f8b1d3e5\n"
         "4 MD5 " +
         kOtherMd5Secret + "\n";
}

bool write_keys(const std::string& path, const std::string& text) {
  return systest::write_file(path, text) && ::chmod(path.c_str(), 0600) == 0;
}

class AuthInteropTest : public InteropTest {
 protected:
  std::string keys_path() {
    const std::string path = ns_.dir().file("ntp.keys");
    if (!systest::file_exists(path)) {
      EXPECT_TRUE(write_keys(path, keys_text()));
    }
    return path;
  }

  // ntpsec serving in orphan mode on 127.0.0.1 (see client_interop_test.cc)
  // with `keys` and `trustedkey 1 2 3`; waits until it answers unsigned
  // requests synchronized at stratum 8.
  void start_keyed_ntpsec(const std::string& keys_file) {
    ASSERT_NO_FATAL_FAILURE(start_ntpsec(
        std::string(kNtpsecOrphanConfig) + "keys " + keys_file + "\ntrustedkey 1 2 3\n", &ntpsec_));
    ASSERT_NO_FATAL_FAILURE(expect_serving("127.0.0.1", 8, milliseconds(10000),
                                           {ntpsec_.output_path, ntpsec_.log_path}));
  }

  // Our client on 127.0.0.2 following 127.0.0.1 with `key key_id`.
  OurDaemon start_our_client(std::uint32_t key_id, const std::string& trusted = "1 2 3 4") {
    std::string error;
    const OurDaemon ours = start_our_ntpd(ns_, "ours", "127.0.0.2",
                                          "keys " + keys_path() +
                                              "\n"
                                              "trustedkey " +
                                              trusted +
                                              "\n"
                                              "server 127.0.0.1 key " +
                                              std::to_string(key_id) +
                                              " iburst minpoll 4\n"
                                              "restrict default nomodify notrap nopeer noquery\n"
                                              "restrict 127.0.0.1\n",
                                          &error);
    EXPECT_GT(ours.pid, 0) << error;
    return ours;
  }

  // Our client takes 127.0.0.1 (answering at server_stratum) as system peer
  // within 30 s, and every disciplined sample is within 1 ms.
  // dropped_some: TEST5 drops before (the server's first replies) are expected.
  void expect_follows(const OurDaemon& ours, int server_stratum, const std::string& what,
                      bool dropped_some = false) {
    const auto start = steady_clock::now();
    bool synced = false;
    const auto reply = poll_until(
        ns_.pid(), "127.0.0.2", milliseconds(30000),
        [&](const testlib::NtpReply& r) { return r.leap == 0 && r.stratum == server_stratum + 1; },
        &synced);
    const std::string log = systest::read_file(ours.log_path).value_or("");
    ASSERT_TRUE(synced) << "our client did not follow " << what << " within 30 s; last reply: "
                        << (reply ? testlib::describe(*reply) : "none") << "\nlog:\n"
                        << log << systest::read_file(ours.output_path).value_or("");
    std::printf("our client follows %s after %.1f s: %s\n", what.c_str(),
                std::chrono::duration<double>(steady_clock::now() - start).count(),
                testlib::describe(*reply).c_str());
    EXPECT_EQ(reply->refid, 0x7f000001u) << "refid " << ipv4_refid_text(reply->refid);
    std::vector<SampleLine> samples;
    systest::wait_until(milliseconds(2000), [&] {
      samples = parse_samples(systest::read_file(ours.log_path).value_or(""));
      return !samples.empty();
    });
    ASSERT_FALSE(samples.empty()) << "no SAMPLE line in our log:\n" << log;
    for (const SampleLine& s : samples) {
      EXPECT_LT(std::llabs(s.offset_ns), kMaxOffsetNs) << "offset " << s.offset_ns << " ns";
      EXPECT_EQ(s.stratum, static_cast<unsigned>(server_stratum));
    }
    if (!dropped_some) {
      EXPECT_EQ(log.find("TEST5"), std::string::npos) << log;
    }
    EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
  }

  // For `wait`, our client answers unsynchronized (never with the server as
  // its system peer) and disciplines nothing, and its log names the server
  // and `reason` for the dropped replies.
  void expect_refuses(const OurDaemon& ours, const std::string& reason, milliseconds wait) {
    const std::string needle = "PEER: 127.0.0.1: reply dropped: TEST5 authentication: " + reason;
    const auto until = steady_clock::now() + wait;
    int answers = 0;
    while (steady_clock::now() < until) {
      const auto reply = testlib::query_ntp("127.0.0.2", 123, 200, ns_.pid());
      if (reply) {
        ++answers;
        ASSERT_EQ(reply->leap, 3) << "our client synchronized: " << testlib::describe(*reply)
                                  << "\n"
                                  << systest::read_file(ours.log_path).value_or("");
      }
      std::this_thread::sleep_for(milliseconds(500));
    }
    const std::string log = systest::read_file(ours.log_path).value_or("");
    EXPECT_GT(answers, 0) << "our client never answered:\n" << log;
    EXPECT_TRUE(parse_samples(log).empty()) << log;
    EXPECT_NE(log.find(needle), std::string::npos) << "no '" << needle << "' in our log:\n" << log;
    EXPECT_TRUE(ns_.alive(ours.pid)) << "our ntpd exited";
    // Throttled: the first drop is reported, not every iburst packet.
    EXPECT_LE(systest::count_occurrences(log, "reply dropped: TEST5"), 2u) << log;
  }

  PeerDaemon ntpsec_;
};

// ---- (a) ntpdig against our server ----

class NtpdigAuthTest : public AuthInteropTest {
 protected:
  void start_our_server() {
    ASSERT_NO_FATAL_FAILURE(
        start_our_local_clock_server("server", "127.0.0.1",
                                     "keys " + keys_path() +
                                         "\n"
                                         "trustedkey 1 2 3\n"
                                         "restrict default nomodify notrap nopeer noquery\n"
                                         "restrict 127.0.0.1\n",
                                     &ours_));
  }

  // ntpdig -d -j -k KEYFILE -a KEYID 127.0.0.1: its wait status and output.
  int ntpdig(const std::string& keyfile, std::uint32_t key_id, std::string* text) {
    const std::string output = ns_.dir().file("ntpdig-" + std::to_string(++runs_) + ".out");
    std::string error;
    const auto status =
        ns_.run({"/usr/bin/python3", peers_.ntpdig(), "-d", "-j", "-t", "2", "-k", keyfile, "-a",
                 std::to_string(key_id), "127.0.0.1"},
                output, milliseconds(15000), &error, {"PYTHONPATH=" + peers_.python_path()});
    *text = systest::read_file(output).value_or("");
    EXPECT_TRUE(status.has_value()) << error << "\n" << *text;
    return status.value_or(-1);
  }

  OurDaemon ours_;
  int runs_ = 0;
};

TEST_F(NtpdigAuthTest, SignedRepliesVerifyForEveryKeyType) {
  ASSERT_NO_FATAL_FAILURE(start_our_server());
  for (std::uint32_t key = 1; key <= 3; ++key) {
    SCOPED_TRACE("key " + std::to_string(key));
    std::string text;
    const int status = ntpdig(keys_path(), key, &text);
    EXPECT_EQ(status, 0) << systest::describe_wait_status(status) << "\n" << text;
    EXPECT_NE(text.find("authenticating with"), std::string::npos) << text;
    EXPECT_NE(text.find("MAC verification on reply from 127.0.0.1 succeeded"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("MAC verification on reply from 127.0.0.1 failed"), std::string::npos)
        << text;
    std::string json;
    for (const std::string& line : systest::split_lines(text)) {
      if (line.find("\"stratum\"") != std::string::npos) json = line;
    }
    ASSERT_FALSE(json.empty()) << text;
    EXPECT_EQ(json_number(json, "stratum"), 11) << json;
  }
}

// A key with the right id but another secret, and a key id our server does
// not have: our server answers with a crypto-NAK, which ntpdig cannot
// verify, so it reports no server. Debian 12's ntpdig then trips over its
// own bug (read_append sets `trusted` on the raw bytes: AttributeError at
// "packet.trusted = False") before printing "MAC verification ... failed";
// either shows that verification failed, and neither is a valid reply.
TEST_F(NtpdigAuthTest, WrongKeysGetNoValidReply) {
  ASSERT_NO_FATAL_FAILURE(start_our_server());
  const std::string wrong = ns_.dir().file("wrong.keys");
  ASSERT_TRUE(write_keys(wrong,
                         "1 MD5 not-the-secret\n5 SHA1 "
                         "00112233445566778899aabbccddeeff00112233\n"));
  for (std::uint32_t key : {1u, 5u}) {
    SCOPED_TRACE("key " + std::to_string(key));
    std::string text;
    const int status = ntpdig(wrong, key, &text);
    EXPECT_NE(status, 0) << text;
    EXPECT_NE(text.find("authenticating with"), std::string::npos) << text;
    const bool failed_verification =
        text.find("MAC verification on reply from 127.0.0.1 failed") != std::string::npos ||
        text.find("packet.trusted = False") != std::string::npos;
    EXPECT_TRUE(failed_verification) << text;
    EXPECT_EQ(text.find("succeeded"), std::string::npos) << text;
    EXPECT_EQ(text.find("\"stratum\""), std::string::npos) << text;
  }
  EXPECT_TRUE(ns_.alive(ours_.pid));
}

// ---- (b) our client, ntpsec's server, one test per key type ----

class ClientAuthTest : public AuthInteropTest,
                       public ::testing::WithParamInterface<std::uint32_t> {};

TEST_P(ClientAuthTest, OurClientFollowsNtpsecWithKey) {
  ASSERT_NO_FATAL_FAILURE(start_keyed_ntpsec(keys_path()));
  const OurDaemon ours = start_our_client(GetParam());
  ASSERT_GT(ours.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_follows(ours, 8, "ntpsec with key " + std::to_string(GetParam())));
  const std::string types[] = {"", "MD5", "SHA1", "AES128CMAC"};
  EXPECT_NE(systest::read_file(ours.log_path)
                .value_or("")
                .find("PEER: server 127.0.0.1 iburst key " + std::to_string(GetParam()) + " " +
                      types[GetParam()]),
            std::string::npos);
  EXPECT_TRUE(ns_.alive(ntpsec_.pid)) << systest::read_file(ntpsec_.log_path).value_or("");
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, ClientAuthTest, ::testing::Values(1u, 2u, 3u),
                         [](const auto& param_info) {
                           return std::string(param_info.param == 1   ? "Md5"
                                              : param_info.param == 2 ? "Sha1"
                                                                      : "Aes128Cmac");
                         });

// ---- (c) replies that must be refused ----

// Our own server (a real daemon that sends crypto-NAKs, as ntpd does; ntpsec
// simply stays silent) has key 1 with another secret: it cannot verify our
// client's requests and answers each with a crypto-NAK.
TEST_F(AuthInteropTest, CryptoNakFromOurServerIsRefused) {
  const std::string other = ns_.dir().file("server.keys");
  ASSERT_TRUE(write_keys(other, "1 MD5 not-our-secret\n"));
  // Synchronized, so that only the MAC can keep our client away.
  OurDaemon server;
  ASSERT_NO_FATAL_FAILURE(
      start_our_local_clock_server("server", "127.0.0.1",
                                   "keys " + other +
                                       "\n"
                                       "trustedkey 1\n"
                                       "restrict default nomodify notrap nopeer noquery\n",
                                   &server));
  const OurDaemon ours = start_our_client(1);
  ASSERT_GT(ours.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_refuses(ours, "crypto-NAK", milliseconds(20000)));
  EXPECT_TRUE(ns_.alive(server.pid));
}

// A minimal NTP server on 127.0.0.1:123 in the namespace, for replies that
// a standard server never sends: a synchronized stratum 2 answer to every
// mode 3 request, MD5-signed as `signing` says (RFC 5905 section 7.3:
// MD5(key || packet)).
class Responder {
 public:
  enum class Signing { kKey1, kUnsigned, kOtherKey, kBadMac, kCryptoNak };

  ~Responder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // The first `crypto_naks_first` replies carry a crypto-NAK instead.
  bool start(pid_t netns_pid, Signing signing, std::string* error, int crypto_naks_first = 0) {
    signing_ = signing;
    crypto_naks_left_ = crypto_naks_first;
    testlib::with_network_namespace_of(netns_pid, [&] {
      fd_ = common::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    });
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(123);
    at.sin_addr.s_addr = htonl(0x7f000001);
    if (!fd_ || ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
      *error = std::string("cannot bind 127.0.0.1:123: ") + std::strerror(errno);
      return false;
    }
    thread_ = std::thread([this] { serve(); });
    return true;
  }

  int requests() const { return requests_; }

 private:
  static std::uint64_t ntp_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ((static_cast<std::uint64_t>(ts.tv_sec) + 2208988800ULL) << 32) |
           ((static_cast<std::uint64_t>(ts.tv_nsec) << 32) / 1000000000ULL);
  }
  static void put64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  }

  // Bounded: polls in 100 ms steps until the destructor sets stop_.
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      std::uint8_t request[512];
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const ssize_t n = ::recvfrom(fd_.get(), request, sizeof request, 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
      ++requests_;
      if (n < 48 || (request[0] & 7) != 3) continue;
      const std::uint64_t received = ntp_now();
      std::uint8_t reply[48 + 20] = {};
      reply[0] = static_cast<std::uint8_t>((request[0] & 0x38) | 4);  // LI 0, its version, mode 4
      reply[1] = 2;
      reply[2] = request[2];
      reply[3] = static_cast<std::uint8_t>(-20);
      reply[6] = 0x01;                             // root delay 1/256 s
      reply[10] = 0x01;                            // root dispersion 1/256 s
      std::memcpy(reply + 12, "GPS", 3);           // refid
      put64(reply + 16, received - (1ULL << 32));  // reference: 1 s ago
      std::memcpy(reply + 24, request + 40, 8);    // origin: the client's transmit
      put64(reply + 32, received);
      put64(reply + 40, ntp_now());
      std::size_t length = 48;
      Signing signing = signing_;
      if (crypto_naks_left_ > 0) {
        --crypto_naks_left_;
        signing = Signing::kCryptoNak;
      }
      if (signing == Signing::kCryptoNak) {
        length = 52;  // key id 0, no digest
      } else if (signing != Signing::kUnsigned) {
        const std::string secret = signing == Signing::kKey1     ? kMd5Secret
                                   : signing == Signing::kBadMac ? "a wrong secret"
                                                                 : kOtherMd5Secret;
        const std::uint8_t key_id = signing == Signing::kOtherKey ? 4 : 1;
        reply[51] = key_id;
        std::string data = secret + std::string(reinterpret_cast<const char*>(reply), 48);
        unsigned int digest_length = 0;
        if (EVP_Digest(data.data(), data.size(), reply + 52, &digest_length, EVP_md5(), nullptr) !=
                1 ||
            digest_length != 16) {
          continue;
        }
        length = 68;
      }
      ::sendto(fd_.get(), reply, length, 0, reinterpret_cast<const sockaddr*>(&from), from_length);
    }
  }

  Signing signing_ = Signing::kUnsigned;
  int crypto_naks_left_ = 0;
  common::UniqueFd fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
};

// Control: the responder signing with key 1 is followed, so the refusals
// below are the MAC's doing and nothing else.
TEST_F(AuthInteropTest, ResponderSigningWithTheKeyIsFollowed) {
  Responder responder;
  std::string error;
  ASSERT_TRUE(responder.start(ns_.pid(), Responder::Signing::kKey1, &error)) << error;
  const OurDaemon ours = start_our_client(1);
  ASSERT_GT(ours.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_follows(ours, 2, "the responder signing with key 1"));
}

// RFC 5905 section 7.3: a crypto-NAK is unauthenticated, so it must not
// demobilize the association (or end its burst): after two crypto-NAKs the
// responder signs properly again and is followed.
TEST_F(AuthInteropTest, CryptoNakDoesNotDemobilize) {
  Responder responder;
  std::string error;
  ASSERT_TRUE(responder.start(ns_.pid(), Responder::Signing::kKey1, &error, 2)) << error;
  const OurDaemon ours = start_our_client(1);
  ASSERT_GT(ours.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_follows(ours, 2, "the responder after two crypto-NAKs", true));
  EXPECT_NE(systest::read_file(ours.log_path)
                .value_or("")
                .find("PEER: 127.0.0.1: reply dropped: TEST5 authentication: crypto-NAK"),
            std::string::npos);
}

// `key N` that is not in the keys file, or not trusted: the clock process
// names the line, ntpd-net says once that it will not poll, and no request
// (signed or not) ever reaches the server.
struct UnusableKeyCase {
  std::uint32_t key;
  const char* trusted;
  const char* why;
  const char* name;
};

void PrintTo(const UnusableKeyCase& c, std::ostream* out) { *out << c.name; }

class UnusableKeyTest : public AuthInteropTest,
                        public ::testing::WithParamInterface<UnusableKeyCase> {};

TEST_P(UnusableKeyTest, ServerIsNeverPolled) {
  const UnusableKeyCase& c = GetParam();
  Responder responder;
  std::string error;
  ASSERT_TRUE(responder.start(ns_.pid(), Responder::Signing::kKey1, &error)) << error;
  const OurDaemon ours = start_our_client(c.key, c.trusted);
  ASSERT_GT(ours.pid, 0);
  const std::string key = std::to_string(c.key);
  const std::string clock_line =
      "ours.conf:3: error: server 127.0.0.1 key " + key + ": key " + key + " " + c.why;
  const std::string net_line = "PEER: 127.0.0.1: key " + key + " " + c.why;
  const bool logged = systest::wait_until(milliseconds(10000), [&] {
    const std::string log = systest::read_file(ours.log_path).value_or("");
    return log.find(clock_line) != std::string::npos && log.find(net_line) != std::string::npos;
  });
  // Long enough for iburst to have sent its first requests.
  std::this_thread::sleep_for(milliseconds(6000));
  const std::string log = systest::read_file(ours.log_path).value_or("");
  EXPECT_TRUE(logged) << "expected '" << clock_line << "' and '" << net_line << "' in:\n" << log;
  EXPECT_EQ(systest::count_occurrences(log, net_line), 1u) << log;
  EXPECT_EQ(responder.requests(), 0);
  EXPECT_TRUE(ns_.alive(ours.pid));
}

INSTANTIATE_TEST_SUITE_P(
    Keys, UnusableKeyTest,
    ::testing::Values(UnusableKeyCase{9, "1 2 3 4", "is not in the keys file", "Missing"},
                      UnusableKeyCase{4, "1 2 3", "is not trusted", "Untrusted"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

struct RefusalCase {
  Responder::Signing signing;
  const char* reason;  // as our log words it
  const char* name;
};

void PrintTo(const RefusalCase& c, std::ostream* out) { *out << c.name; }

class RefusedReplyTest : public AuthInteropTest,
                         public ::testing::WithParamInterface<RefusalCase> {};

TEST_P(RefusedReplyTest, OurClientNeverSelectsTheServer) {
  Responder responder;
  std::string error;
  ASSERT_TRUE(responder.start(ns_.pid(), GetParam().signing, &error)) << error;
  const OurDaemon ours = start_our_client(1);
  ASSERT_GT(ours.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_refuses(ours, GetParam().reason, milliseconds(20000)));
}

INSTANTIATE_TEST_SUITE_P(
    Replies, RefusedReplyTest,
    ::testing::Values(RefusalCase{Responder::Signing::kUnsigned, "unsigned", "Unsigned"},
                      RefusalCase{Responder::Signing::kCryptoNak, "crypto-NAK", "CryptoNak"},
                      RefusalCase{Responder::Signing::kOtherKey, "wrong key id (key 4)",
                                  "SignedWithAnotherTrustedKey"},
                      RefusalCase{Responder::Signing::kBadMac, "bad MAC (key 1)", "BadMac"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace ntpd::interop
