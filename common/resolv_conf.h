// resolv.conf(5) and hosts(5) text, read the way glibc reads them, turned
// into the values ntpd-net's resolver needs (it cannot open either file in
// its jail; the clock process parses them at start and sends the result).
// Pure: text in, values out. Never opens a file, resolves a name or logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ntpd::common {

inline constexpr std::size_t kMaxNameservers = 3;    // glibc MAXNS; later lines ignored
inline constexpr std::size_t kMaxSearchDomains = 6;  // classic MAXDNSRCH
inline constexpr std::size_t kMaxSearchChars = 256;  // classic search buffer
inline constexpr std::size_t kMaxDomainNameChars = 253;
inline constexpr int kDefaultDnsTimeoutS = 5;  // RES_TIMEOUT
inline constexpr int kMaxDnsTimeoutS = 30;     // RES_MAXRETRANS
inline constexpr int kDefaultDnsAttempts = 2;  // RES_DFLRETRY
inline constexpr int kMaxDnsAttempts = 5;      // RES_MAXRETRY
inline constexpr int kDefaultNdots = 1;
inline constexpr int kMaxNdots = 15;                  // RES_MAXNDOTS
inline constexpr std::size_t kMaxHostsNames = 65536;  // distinct names kept from hosts
inline constexpr std::size_t kMaxHostAddresses = 16;  // addresses kept per name

// One "nameserver" line. IPv4 is canonical dotted quad (inet_aton forms such
// as "127.1" are accepted, as glibc does); IPv6 may carry "%scope".
struct Nameserver {
  std::string address;  // canonical numeric text, without the scope
  bool ipv6 = false;
  std::string scope;           // text after '%' as written ("eth0", "2"); empty if none
  std::uint32_t scope_id = 0;  // numeric scope; 0 until known (see resolve_scope_names)

  // "192.0.2.53", "2001:db8::53", "fe80::1%2": the form ntpd-net accepts
  // (numeric scope only; an unresolved scope name is kept as written).
  std::string to_string() const;
  friend bool operator==(const Nameserver&, const Nameserver&) = default;
};

struct ResolvConf {
  // At most kMaxNameservers, in file order. When the text names none, glibc's
  // default (127.0.0.1) and nameservers_defaulted is set.
  std::vector<Nameserver> nameservers;
  bool nameservers_defaulted = false;
  std::vector<std::string> search;      // the last "search" or "domain" line; no trailing dot
  int ndots = kDefaultNdots;            // 0..kMaxNdots
  int timeout_s = kDefaultDnsTimeoutS;  // per attempt, 1..kMaxDnsTimeoutS
  int attempts = kDefaultDnsAttempts;   // 1..kMaxDnsAttempts
  bool rotate = false;                  // informational: libevent's evdns always round-robins
  bool no_aaaa = false;                 // glibc 2.36 "no-aaaa": never ask for AAAA records
  std::vector<std::string> warnings;    // "resolv.conf:7: ..." for lines glibc would ignore
};

// Parses resolv.conf text. Never fails: what glibc ignores is ignored (with a
// warning); empty text gives glibc's defaults. Keywords must start the line,
// as in glibc; '#' and ';' start comment lines. source_name prefixes warnings.
ResolvConf parse_resolv_conf(std::string_view text, std::string_view source_name = "resolv.conf");

// Applies an "options" argument list (e.g. the RES_OPTIONS environment
// variable, which glibc applies after the file) to `conf`.
void apply_resolv_options(ResolvConf& conf, std::string_view options,
                          std::string_view source_name = "RES_OPTIONS");

// Fills scope_id for nameservers whose scope is an interface name, using
// `if_index` (the clock process passes if_nametoindex; 0 means unknown).
// Nameservers whose scope cannot be resolved are dropped, as glibc does;
// each drop adds a warning. Numeric scopes are already filled by the parser.
void resolve_scope_names(ResolvConf& conf,
                         const std::function<std::uint32_t(const std::string&)>& if_index);

// One name of the hosts file with every address given for it, in file order.
struct HostEntry {
  std::string name;                    // lower case, no trailing dot
  std::vector<std::string> addresses;  // canonical numeric text, no duplicates, no scope
  friend bool operator==(const HostEntry&, const HostEntry&) = default;
};

struct HostsTable {
  std::vector<HostEntry> entries;  // one per distinct name, in order of first appearance
  std::vector<std::string> warnings;

  // Case-insensitive; a trailing dot on `name` is ignored. nullptr if absent.
  const HostEntry* find(std::string_view name) const;
};

// Parses hosts text: "address canonical_name [aliases...]", '#' comments.
// Every line naming a host contributes its address (what glibc's
// getaddrinfo returns from the files backend). Bounded by kMaxHostsNames and
// kMaxHostAddresses; the excess is dropped with a warning.
HostsTable parse_hosts(std::string_view text, std::string_view source_name = "hosts");

// The entries for `names` only (case-insensitive, each at most once): what
// the clock process sends ntpd-net, since the whole file may not fit in an
// IPC message. Names absent from the table are skipped.
std::vector<HostEntry> select_hosts(const HostsTable& table, std::span<const std::string> names);

}  // namespace ntpd::common
