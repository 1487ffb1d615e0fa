// ntp.conf directives that create associations: server, pool, peer,
// broadcast, manycastclient, plus fudge for reference clocks (LOCAL only).
// Pure: host names stay text (ntpd-net resolves them); nothing is started.
#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "common/ntp_conf_internal.h"

namespace ntpd::common::conf_detail {
// The directive that creates an association of this kind.
std::string_view kind_name(AssociationKind kind) {
  switch (kind) {
    case AssociationKind::kServer:
      return "server";
    case AssociationKind::kPool:
      return "pool";
    case AssociationKind::kPeer:
      return "peer";
    case AssociationKind::kBroadcast:
      return "broadcast";
    case AssociationKind::kManycastClient:
      return "manycastclient";
  }
  return "server";
}

namespace {

bool is_refclock_address(const ConfigAddress& address) {
  return address.family == AddressFamily::kIpv4 && address.bytes[0] == 127 &&
         address.bytes[1] == 127;
}

// Two lines name the same association when kind and address (or, for names,
// family and the name in any case) agree.
std::string target_key(const Association& a) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(a.kind)));
  if (a.address) return key + "@" + a.address->to_string();
  key += static_cast<char>('0' + static_cast<int>(a.family));
  for (const char c : a.host) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::uint32_t refclock_index(int type, int unit) {
  return static_cast<std::uint32_t>(type * 256 + unit);
}

// The host after an optional -4/-6: a numeric address or a host name.
bool parse_host(LineCursor& line, AssociationKind kind, Association& out) {
  const std::string what(kind_name(kind));
  if (!line.at_end() && (line.peek().text == "-4" || line.peek().text == "-6")) {
    out.family = line.take().text == "-4" ? AddressFamily::kIpv4 : AddressFamily::kIpv6;
  }
  if (line.at_end()) return line.error_missing(what + " expects an address or host name");
  const ConfToken& host = line.take();
  out.host = host.text;
  out.address = parse_numeric_address(host.text);
  if (out.address) {
    if (out.family != AddressFamily::kAny && out.family != out.address->family) {
      return line.error(host, quote_for_message(host.text) + " is not an " +
                                  (out.family == AddressFamily::kIpv4 ? "IPv4" : "IPv6") +
                                  " address as the -4/-6 before it requires");
    }
    return true;
  }
  if (host.text.find(':') != std::string::npos) {
    return line.error(host, quote_for_message(host.text) + " is not a valid IPv6 address");
  }
  if (host.text.find_first_not_of("0123456789.") == std::string::npos) {
    return line.error(host, quote_for_message(host.text) + " is not a valid IPv4 address");
  }
  if (kind == AssociationKind::kBroadcast || kind == AssociationKind::kManycastClient) {
    return line.error(host,
                      what + " expects a numeric address, got " + quote_for_message(host.text));
  }
  if (!is_valid_hostname(host.text)) {
    return line.error(
        host, what + " expects an address or host name, got " + quote_for_message(host.text));
  }
  return true;
}

struct PollSeen {
  const ConfToken* minpoll = nullptr;
  const ConfToken* maxpoll = nullptr;
};

// One option and its value, if it takes one.
bool parse_option(LineCursor& line, AssociationKind kind, Association& out, PollSeen& seen) {
  const ConfToken& option = line.take();
  const std::string& name = option.text;
  bool* flag = name == "iburst"     ? &out.iburst
               : name == "burst"    ? &out.burst
               : name == "prefer"   ? &out.prefer
               : name == "noselect" ? &out.noselect
               : name == "true"     ? &out.true_chimer
               : name == "preempt"  ? &out.preempt
               : name == "xleave"   ? &out.xleave
                                    : nullptr;
  if (flag != nullptr) {
    *flag = true;
    return true;
  }
  if (name == "minpoll" || name == "maxpoll") {
    const auto value = line.take_int(name, kMinPollLimitLog2s, kMaxPollLimitLog2s);
    if (!value) return false;
    (name == "minpoll" ? out.minpoll_log2s : out.maxpoll_log2s) = static_cast<int>(*value);
    (name == "minpoll" ? seen.minpoll : seen.maxpoll) = &option;
    return true;
  }
  if (name == "version") {
    const auto value = line.take_int(name, 1, 4);
    if (value) out.version = static_cast<int>(*value);
    return value.has_value();
  }
  if (name == "key") {
    const auto value = line.take_int(name, 1, 65535);
    if (value) out.key_id = static_cast<std::uint32_t>(*value);
    return value.has_value();
  }
  if (name == "mode") {
    const auto value = line.take_int(name, 0, 255);
    if (value) out.mode = static_cast<std::uint32_t>(*value);
    return value.has_value();
  }
  if (name == "ttl") {
    const auto value = line.take_int(name, 0, 255);
    if (value) out.ttl = static_cast<int>(*value);
    return value.has_value();
  }
  if (name == "autokey" || name == "nts") {
    line.warning(option, quote_for_message(name) + " is not supported; option ignored");
    return true;
  }
  return line.error(option, "unknown " + std::string(kind_name(kind)) + " option " +
                                quote_for_message(name) +
                                "; expected iburst, burst, prefer, noselect, true, preempt, "
                                "xleave, minpoll, maxpoll, version, key, mode or ttl");
}

// ntpd raises the default maxpoll to an explicit minpoll (and lowers the
// default minpoll to an explicit maxpoll); two explicit values that
// contradict each other are an error.
bool reconcile_poll(LineCursor& line, const PollSeen& seen, Association& out) {
  if (out.maxpoll_log2s >= out.minpoll_log2s) return true;
  if (seen.minpoll != nullptr && seen.maxpoll != nullptr) {
    return line.error(*seen.maxpoll, "maxpoll " + std::to_string(out.maxpoll_log2s) +
                                         " is less than minpoll " +
                                         std::to_string(out.minpoll_log2s));
  }
  if (seen.minpoll != nullptr) {
    out.maxpoll_log2s = out.minpoll_log2s;
  } else {
    out.minpoll_log2s = out.maxpoll_log2s;
  }
  return true;
}

void merge(FudgeOptions& into, const FudgeOptions& from) {
  if (from.stratum) into.stratum = from.stratum;
  if (from.refid) into.refid = from.refid;
  if (from.time1_s) into.time1_s = from.time1_s;
  if (from.time2_s) into.time2_s = from.time2_s;
  for (std::size_t i = 0; i < into.flags.size(); ++i) {
    if (from.flags[i]) into.flags[i] = from.flags[i];
  }
}

bool is_valid_refid(std::string_view text) {
  if (text.empty() || text.size() > 4) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '"' && c != '#'; });
}

bool parse_fudge_option(LineCursor& line, FudgeOptions& out) {
  const ConfToken& option = line.take();
  const std::string& name = option.text;
  if (name == "stratum") {
    const auto value = line.take_int(name, 0, 15);
    if (value) out.stratum = static_cast<int>(*value);
    return value.has_value();
  }
  if (name == "refid") {
    if (line.at_end()) return line.error_missing("refid expects 1 to 4 characters");
    const ConfToken& refid = line.take();
    if (!is_valid_refid(refid.text)) {
      return line.error(
          refid, "refid expects 1 to 4 printable characters, got " + quote_for_message(refid.text));
    }
    out.refid = refid.text;
    return true;
  }
  if (name == "time1" || name == "time2") {
    const auto value = line.take_double(name, -86400.0, 86400.0);
    if (value) (name == "time1" ? out.time1_s : out.time2_s) = *value;
    return value.has_value();
  }
  if (name.size() == 5 && name.starts_with("flag") && name[4] >= '1' && name[4] <= '4') {
    const auto value = line.take_bool01(name);
    if (value) out.flags[static_cast<std::size_t>(name[4] - '1')] = *value;
    return value.has_value();
  }
  return line.error(option, "unknown fudge option " + quote_for_message(name) +
                                "; expected stratum, refid, time1, time2 or flag1..flag4");
}

std::string refclock_name(int type, int unit) {
  return "127.127." + std::to_string(type) + "." + std::to_string(unit);
}

}  // namespace

bool parse_association(LineCursor& line, ParseState& state, AssociationKind kind) {
  Association association;
  association.kind = kind;
  association.location = line.location();
  if (!parse_host(line, kind, association)) return false;
  const ConfToken& host = line.previous();
  PollSeen seen;
  while (!line.at_end()) {
    if (!parse_option(line, kind, association, seen)) return false;
  }
  if (!reconcile_poll(line, seen, association)) return false;

  if (association.address && is_refclock_address(*association.address)) {
    if (kind != AssociationKind::kServer) {
      return line.error(host, "reference clock " + quote_for_message(host.text) +
                                  " must be configured with 'server', not '" +
                                  std::string(kind_name(kind)) + "'");
    }
    const int type = association.address->bytes[2];
    const int unit = association.address->bytes[3];
    if (type != kLocalClockType) {
      line.warning(host, "reference clock driver type " + std::to_string(type) + " (" +
                             refclock_name(type, unit) +
                             ") is not supported; only the LOCAL clock (127.127.1.u) is; "
                             "line ignored");
      set_bit(state.unsupported_refclock_bits, refclock_index(type, unit));
      return true;
    }
    association.refclock = RefclockConfig{type, unit, {}};
  }

  auto& associations = state.config.associations;
  const auto [it, added] =
      state.association_index.emplace(target_key(association), associations.size());
  if (!added) {
    line.warning(host, "duplicate " + std::string(kind_name(kind)) + " " +
                           quote_for_message(host.text) + " (first at " +
                           associations[it->second].location.to_string() + "); line ignored");
    return true;
  }
  associations.push_back(std::move(association));
  return true;
}

bool parse_fudge(LineCursor& line, ParseState& state) {
  const std::string expected = "fudge expects a reference clock address 127.127.t.u";
  if (line.at_end()) return line.error_missing(expected);
  const ConfToken& clock = line.take();
  const auto address = parse_numeric_address(clock.text);
  if (!address || !is_refclock_address(*address)) {
    return line.error(clock, expected + ", got " + quote_for_message(clock.text));
  }
  PendingFudge fudge;
  fudge.type = address->bytes[2];
  fudge.unit = address->bytes[3];
  fudge.location = line.location();
  fudge.column = clock.column;
  while (!line.at_end()) {
    if (!parse_fudge_option(line, fudge.options)) return false;
  }
  state.fudges.push_back(std::move(fudge));
  return true;
}

void finish_refclocks(ParseState& state) {
  std::unordered_map<std::uint32_t, RefclockConfig*> clocks;
  for (Association& a : state.config.associations) {
    if (a.refclock) clocks[refclock_index(a.refclock->type, a.refclock->unit)] = &*a.refclock;
  }
  for (const PendingFudge& fudge : state.fudges) {
    const std::uint32_t index = refclock_index(fudge.type, fudge.unit);
    if (const auto clock = clocks.find(index); clock != clocks.end()) {
      merge(clock->second->fudge, fudge.options);
      continue;
    }
    if (test_bit(state.unsupported_refclock_bits, index)) continue;  // warned at its server line
    const std::string name = refclock_name(fudge.type, fudge.unit);
    state.report({ConfigDiagnostic::Severity::kWarning, fudge.location.file, fudge.location.line,
                  fudge.column,
                  "fudge " + name + ": no 'server " + name + "' is configured; ignored"});
  }
}

}  // namespace ntpd::common::conf_detail
