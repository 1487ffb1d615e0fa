// Resolver: host names to addresses inside ntpd-net's jail. Wraps libevent's
// evdns configured only from values the clock process sent (it never reads
// /etc/resolv.conf or /etc/hosts; the jail has neither), answers a static
// hosts table and numeric literals first, and bounds the lookups in flight.
// No policy: which names to resolve, and when to re-resolve, is the caller's.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ntp_conf_types.h"  // AddressFamily, ConfigAddress
#include "common/resolv_conf.h"     // HostEntry and the glibc defaults

struct event;
struct event_base;
struct evdns_base;

namespace ntpd::net {

using Family = common::AddressFamily;  // kAny (A and AAAA), kIpv4, kIpv6

inline constexpr std::size_t kDefaultMaxLookups = 16;
inline constexpr std::size_t kMaxLookupsLimit = 256;
inline constexpr std::size_t kMaxQueuedLookups = 256;  // beyond max_lookups; more get kBusy
inline constexpr std::int32_t kMinDnsTimeoutMs = 10;
inline constexpr std::int32_t kMaxDnsTimeoutMs = common::kMaxDnsTimeoutS * 1000;
inline constexpr std::size_t kMaxAddressesPerFamily = 32;  // evdns keeps at most 32 per reply

// Everything the resolver is told; mirrors the IPC fields one to one.
struct ResolverConfig {
  // Numeric only, at most common::kMaxNameservers used: "192.0.2.53",
  // "2001:db8::53", "fe80::1%2" (numeric scope id), "127.0.0.1:5353",
  // "[::1]:5353". Anything else is skipped with a log line.
  std::vector<std::string> nameservers;
  std::vector<std::string> search;    // domains tried for names with fewer than ndots dots
  int ndots = common::kDefaultNdots;  // 0..15
  std::int32_t timeout_ms = common::kDefaultDnsTimeoutS * 1000;  // per attempt
  int attempts = common::kDefaultDnsAttempts;  // transmissions of one query before it fails
  bool no_aaaa = false;                        // glibc "options no-aaaa"
  std::vector<common::HostEntry> hosts;        // answered without any query
  // Lookups with queries out at once; up to kMaxQueuedLookups more wait
  // their turn, and beyond that resolve() answers kBusy.
  std::size_t max_lookups = kDefaultMaxLookups;
};

enum class ResolveStatus {
  kOk,             // at least one address
  kNoData,         // the name exists, but has no address of the asked family
  kNotFound,       // NXDOMAIN
  kTimeout,        // no answer after attempts x timeout
  kServerFailure,  // SERVFAIL, REFUSED, malformed or truncated replies
  kInvalidName,    // not a host name (empty, too long, bad characters)
  kNoNameservers,  // not in the hosts table and no nameserver configured
  kBusy,           // max_lookups in flight and kMaxQueuedLookups waiting
};
std::string_view to_string(ResolveStatus status);
// Worth retrying soon (a network or load problem), as opposed to an answer.
bool is_temporary(ResolveStatus status);

struct ResolveResult {
  std::string host;  // as passed to resolve()
  ResolveStatus status = ResolveStatus::kServerFailure;
  // kOk only: every A address (in answer order), then every AAAA, no
  // duplicates. ntpd's pool takes several; a server line takes the first.
  std::vector<common::ConfigAddress> addresses;
  std::uint32_t ttl_s = 0;  // smallest TTL of the answers; 0 for hosts and literals
  bool from_hosts = false;  // answered by the hosts table (no query sent)
};

// A nameserver string of ResolverConfig as a socket address; nullopt if it
// is not a numeric address (a scope must be a number: no interface lookups
// in the jail). The port defaults to 53.
struct NameserverAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};
std::optional<NameserverAddress> parse_nameserver_address(std::string_view text);

class Resolver {
 public:
  using Callback = std::function<void(ResolveResult)>;

  // Creates the resolver on `base` (which must outlive it) and opens one UDP
  // socket per nameserver (reopened, so on a new port, for each later burst
  // of lookups). Never reads a file. nullptr and *error on failure.
  static std::unique_ptr<Resolver> create(event_base* base, const ResolverConfig& config,
                                          std::string* error);
  // Drops every lookup in flight: their callbacks never run. Cleanup of
  // libevent's own bookkeeping completes on the next turn of the loop.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Looks `host` up and calls `done` exactly once, from the event loop:
  // never from inside resolve(), never after the Resolver is destroyed.
  // `done` may destroy the Resolver or start new lookups. A trailing dot
  // makes the name absolute (no search domains).
  void resolve(const std::string& host, Family family, Callback done);

  // Lookups sent to nameservers, and lookups queued behind them.
  std::size_t lookups_in_flight() const { return started_; }
  std::size_t lookups_queued() const { return lookups_.size() - started_; }
  std::size_t nameserver_count() const { return nameserver_count_; }

 private:
  struct Anchor;
  struct Query;
  struct Lookup {
    std::string host;  // as asked
    std::string name;  // as queried: validated, trailing dot removed
    bool absolute = false;
    bool want_v4 = false;
    bool want_v6 = false;
    bool started = false;
    Callback done;
    int pending = 0;  // queries whose evdns callback has not run yet
    std::vector<common::ConfigAddress> v4;
    std::vector<common::ConfigAddress> v6;
    std::optional<std::uint32_t> ttl_s;
    std::vector<int> errors;  // evdns result codes of the queries that failed
  };
  using LookupMap = std::map<std::uint64_t, Lookup>;
  struct EvdnsDeleter {
    void operator()(evdns_base* dns) const;
  };
  struct EventDeleter {
    void operator()(event* ev) const;
  };

  Resolver(event_base* base, std::size_t max_lookups, bool no_aaaa);
  bool configure(const ResolverConfig& config, std::string* error);
  std::unique_ptr<evdns_base, EvdnsDeleter> new_dns_base(std::string* error);
  // With nothing in flight, replaces the evdns_base that has served queries
  // by a fresh one: new UDP sockets, so a new random source port for each
  // burst of lookups (RFC 5452 section 9.2; evdns keeps one per nameserver).
  void renew_dns_if_idle();
  // The answer when no query is needed (literal, invalid name, hosts table,
  // no nameserver, kBusy); otherwise nullopt with the name to query.
  std::optional<ResolveResult> answer_locally(const std::string& host, Family family,
                                              std::string* name, bool* absolute) const;
  bool start(LookupMap::iterator it);  // false if no query could be sent
  void start_waiting();
  std::pair<Callback, ResolveResult> retire(LookupMap::iterator it);
  void finish_later(ResolveResult result, Callback done);
  void on_answer(std::uint64_t lookup_id, int result, char type, int count, int ttl,
                 const void* addresses);
  void run_ready();

  // C callbacks; they catch everything, so nothing unwinds into libevent.
  static void on_dns_reply(int result, char type, int count, int ttl, void* addresses, void* arg);
  static void on_ready_event(int fd, short what, void* arg);

  event_base* base_;
  std::size_t max_lookups_;
  bool no_aaaa_;
  std::shared_ptr<Anchor> anchor_;  // cleared by the destructor; queries hold copies
  std::unique_ptr<evdns_base, EvdnsDeleter> dns_;
  std::unique_ptr<event, EventDeleter> ready_event_;
  std::map<std::string, std::vector<common::ConfigAddress>> hosts_;     // lower-case names
  std::vector<std::pair<NameserverAddress, std::string>> nameservers_;  // with the text, for logs
  std::vector<std::string> search_;
  int ndots_ = common::kDefaultNdots;
  std::vector<std::pair<std::string, std::string>> options_;  // evdns option, value
  std::size_t nameserver_count_ = 0;                          // accepted by the current evdns_base
  bool dns_used_ = false;  // the current evdns_base has sent queries
  std::uint64_t next_id_ = 1;
  LookupMap lookups_;                  // started and waiting
  std::size_t started_ = 0;            // lookups with queries out
  std::deque<std::uint64_t> waiting_;  // ids beyond max_lookups, in arrival order
  std::deque<std::pair<Callback, ResolveResult>> ready_;  // answers waiting for the loop
};

}  // namespace ntpd::net
