// The configuration an ntp.conf describes, as plain values: what the parser
// (ntp_conf.h) produces and both processes consume. Data only: no parsing,
// no I/O, no defaults policy beyond the ntpd defaults written here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ntpd::common {

// Where a directive came from, for log lines ("ntp.conf:12").
struct SourceLocation {
  std::string file;
  int line = 0;
  std::string to_string() const;
  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

enum class AddressFamily { kAny, kIpv4, kIpv6 };

// A numeric IPv4 or IPv6 address in network byte order. IPv4 uses the first
// four bytes. family is never kAny.
struct ConfigAddress {
  AddressFamily family = AddressFamily::kIpv4;
  std::array<std::uint8_t, 16> bytes{};
  std::size_t size() const { return family == AddressFamily::kIpv6 ? 16 : 4; }
  std::string to_string() const;  // inet_ntop form
  friend bool operator==(const ConfigAddress&, const ConfigAddress&) = default;
};

// ---- associations: server, pool, peer, broadcast, manycastclient ----

enum class AssociationKind { kServer, kPool, kPeer, kBroadcast, kManycastClient };

inline constexpr int kMinPollLimitLog2s = 3;   // ntpd's NTP_MINPOLL
inline constexpr int kMaxPollLimitLog2s = 17;  // ntpd's NTP_MAXPOLL
inline constexpr int kDefaultMinPollLog2s = 6;
inline constexpr int kDefaultMaxPollLog2s = 10;
inline constexpr int kLocalClockType = 1;  // 127.127.1.u, the LOCAL driver

// fudge options as written; absent means "the driver's default".
struct FudgeOptions {
  std::optional<int> stratum;        // 0..15
  std::optional<std::string> refid;  // 1..4 characters
  std::optional<double> time1_s;
  std::optional<double> time2_s;
  std::array<std::optional<bool>, 4> flags;  // flag1..flag4
  friend bool operator==(const FudgeOptions&, const FudgeOptions&) = default;
};

// A reference clock 127.127.type.unit. Only type 1 (LOCAL) is supported.
struct RefclockConfig {
  int type = kLocalClockType;
  int unit = 0;
  FudgeOptions fudge;  // every fudge line for this address, later lines win
  friend bool operator==(const RefclockConfig&, const RefclockConfig&) = default;
};

struct Association {
  AssociationKind kind = AssociationKind::kServer;
  std::string host;                            // hostname or numeric address, as written
  AddressFamily family = AddressFamily::kAny;  // from "-4" / "-6"
  std::optional<ConfigAddress> address;        // set when host is numeric
  std::optional<RefclockConfig> refclock;      // set for 127.127.1.u
  bool iburst = false;
  bool burst = false;
  bool prefer = false;
  bool noselect = false;
  bool true_chimer = false;  // "true": always survives selection
  bool preempt = false;
  bool xleave = false;  // interleaved mode
  int minpoll_log2s = kDefaultMinPollLog2s;
  int maxpoll_log2s = kDefaultMaxPollLog2s;
  int version = 4;                      // 1..4
  std::optional<std::uint32_t> key_id;  // 1..65535
  std::optional<std::uint32_t> mode;    // driver mode (refclocks)
  std::optional<int> ttl;               // 0..255 (broadcast, manycast)
  SourceLocation location;
};

// ---- access control: restrict, discard, interface ----

enum class RestrictTarget {
  kDefault,   // "default": every address of `family` (kAny = both)
  kAddress,   // numeric address and mask
  kHostname,  // resolved at start; mask applies to every address it resolves to
  kSource,    // "source": the address of every configured association
};

struct RestrictFlags {
  bool ignore = false;
  bool kod = false;
  bool limited = false;
  bool lowpriotrap = false;
  bool mssntp = false;
  bool nomodify = false;
  bool nomrulist = false;
  bool noepeer = false;
  bool nopeer = false;
  bool noquery = false;
  bool noserve = false;
  bool notrap = false;
  bool notrust = false;
  bool ntpport = false;
  bool version = false;
  bool serverresponse_fuzz = false;
  friend bool operator==(const RestrictFlags&, const RestrictFlags&) = default;
};

// One entry of the access list. Lines for the same target (same family,
// address and mask) are merged as ntpd does: flags accumulate, and
// "unrestrict" clears the flags it names. A kAny "default" and a -4/-6
// "default" are separate entries and both apply to a packet of that family.
struct RestrictRule {
  RestrictTarget target = RestrictTarget::kDefault;
  AddressFamily family = AddressFamily::kAny;  // kAddress: the address's family
  ConfigAddress address;                       // kAddress: already masked
  ConfigAddress mask;                          // kAddress: all ones (host) unless given
  std::string hostname;                        // kHostname
  std::optional<ConfigAddress> hostname_mask;  // kHostname with "mask"
  RestrictFlags flags;
  std::optional<int> ippeerlimit;  // -1 (no limit) .. 65535
  SourceLocation location;         // the first line for this target

  bool needs_resolution() const { return target == RestrictTarget::kHostname; }
};

// "discard": rate limits for "restrict ... limited".
struct DiscardConfig {
  std::optional<int> average_log2s;  // 0..17
  std::optional<int> minimum_s;      // 0..255
  std::optional<int> monitor_s;      // >= 0
  friend bool operator==(const DiscardConfig&, const DiscardConfig&) = default;
};

enum class InterfaceAction { kListen, kIgnore, kDrop };
enum class InterfaceMatch { kAll, kIpv4, kIpv6, kWildcard, kName, kAddress };

// "interface" / "nic": which local addresses get sockets.
struct InterfaceRule {
  InterfaceAction action = InterfaceAction::kListen;
  InterfaceMatch match = InterfaceMatch::kAll;
  std::string name;       // kName (may hold fnmatch wildcards)
  ConfigAddress address;  // kAddress, masked to prefix_len
  int prefix_len = 0;     // kAddress
  SourceLocation location;
};

// ---- system settings ----

struct TinkerConfig {
  std::optional<double> step_s;
  std::optional<double> stepout_s;
  std::optional<double> panic_s;
  std::optional<double> dispersion_ppm;
  std::optional<double> allan_s;
  std::optional<double> freq_ppm;  // initial frequency; may be negative
  std::optional<double> huffpuff_s;
  friend bool operator==(const TinkerConfig&, const TinkerConfig&) = default;
};

struct TosConfig {
  std::optional<int> minclock;
  std::optional<int> maxclock;
  std::optional<int> minsane;
  std::optional<int> orphan;  // stratum 1..15
  std::optional<int> orphanwait_s;
  std::optional<double> mindist_s;
  std::optional<double> maxdist_s;
  std::optional<int> floor;    // stratum 0..15
  std::optional<int> ceiling;  // stratum 1..16
  std::optional<bool> cohort;
  std::optional<int> beacon_s;
  friend bool operator==(const TosConfig&, const TosConfig&) = default;
};

// enable / disable; absent means the daemon default.
struct SystemFlags {
  std::optional<bool> auth;
  std::optional<bool> bclient;
  std::optional<bool> calibrate;
  std::optional<bool> kernel;
  std::optional<bool> monitor;
  std::optional<bool> ntp;
  std::optional<bool> stats;
  std::optional<bool> pps;
  std::optional<bool> mode7;  // never implemented; enabling it only warns
  std::optional<bool> rtc;    // set the hardware clock while synchronized (default on)
  friend bool operator==(const SystemFlags&, const SystemFlags&) = default;
};

// mru: the monitor (client) list limits. Memory sizes in KiB as in ntpd.
struct MruConfig {
  std::optional<std::int64_t> maxdepth;
  std::optional<std::int64_t> maxmem_kib;
  std::optional<std::int64_t> mindepth;
  std::optional<std::int64_t> maxage_s;
  std::optional<std::int64_t> minage_s;
  std::optional<std::int64_t> initalloc;
  std::optional<std::int64_t> initmem_kib;
  std::optional<std::int64_t> incalloc;
  std::optional<std::int64_t> incmem_kib;
  friend bool operator==(const MruConfig&, const MruConfig&) = default;
};

enum class FilegenType { kNone, kPid, kDay, kWeek, kMonth, kYear, kAge };

// filegen NAME [file F] [type T] [link|nolink] [enable|disable]
struct FilegenConfig {
  std::string name;  // loopstats, peerstats, ...
  std::optional<std::string> file;
  std::optional<FilegenType> type;
  std::optional<bool> link;
  std::optional<bool> enabled;
  friend bool operator==(const FilegenConfig&, const FilegenConfig&) = default;
};

struct NtpConfig {
  std::vector<Association> associations;   // refclocks included (LOCAL only)
  std::vector<RestrictRule> restrictions;  // in file order; later rules are more specific
  std::optional<DiscardConfig> discard;
  std::vector<InterfaceRule> interfaces;
  std::optional<MruConfig> mru;

  std::optional<std::string> drift_file;
  std::optional<std::string> leap_file;
  std::optional<std::string> keys_file;
  std::optional<std::string> log_file;
  std::optional<std::string> stats_dir;
  std::optional<std::string> pid_file;

  std::vector<std::uint32_t> trusted_keys;  // sorted, unique, 1..65535
  std::optional<std::uint32_t> control_key;
  std::optional<std::uint32_t> request_key;  // mode 7 only; kept for --check-config

  TinkerConfig tinker;
  TosConfig tos;
  SystemFlags flags;
  bool broadcast_client = false;
  bool broadcast_client_novolley = false;
  // multicastclient [ADDRESS ...]: groups to join (ntpd default 224.0.1.1).
  std::vector<ConfigAddress> multicast_groups;
  std::optional<double> broadcast_delay_s;  // broadcastdelay, 0..1 s
  std::vector<std::string> statistics;      // enabled statistics files, in order, unique
  std::vector<FilegenConfig> filegens;      // one per name
  std::vector<std::string> log_config;      // logconfig tokens ("=syncall", "+clockall")
};

}  // namespace ntpd::common
