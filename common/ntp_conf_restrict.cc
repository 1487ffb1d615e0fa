// ntp.conf access control: restrict / unrestrict, discard, interface / nic.
// Every error here makes the parse fatal (the caller fails closed), so these
// handlers reject anything they do not fully understand. Pure: numeric
// addresses via inet_pton; host names are kept for ntpd-net to resolve.
#include <algorithm>
#include <limits>

#include "common/ntp_conf_internal.h"

namespace ntpd::common::conf_detail {
namespace {

std::string_view family_name(AddressFamily family) {
  return family == AddressFamily::kIpv6 ? "IPv6" : "IPv4";
}

int full_prefix(AddressFamily family) { return family == AddressFamily::kIpv6 ? 128 : 32; }

// "10.0.0.0/8" or "2001:db8::/32" into address and mask.
bool parse_prefix(LineCursor& line, const ConfToken& token, ConfigAddress& address,
                  ConfigAddress& mask) {
  const auto slash = token.text.find('/');
  const auto parsed = parse_numeric_address(std::string_view(token.text).substr(0, slash));
  if (!parsed) {
    return line.error(token, "expected an address/prefix like 192.0.2.0/24 or 2001:db8::/32, got " +
                                 quote_for_message(token.text));
  }
  const auto length = parse_int(std::string_view(token.text).substr(slash + 1));
  if (!length || *length < 0 || *length > full_prefix(parsed->family)) {
    return line.error(token, "prefix length of " + quote_for_message(token.text) + " must be 0.." +
                                 std::to_string(full_prefix(parsed->family)));
  }
  address = *parsed;
  mask = prefix_mask(parsed->family, static_cast<int>(*length));
  return true;
}

// The target after restrict [-4|-6]: default, source, address[/len], host.
bool parse_restrict_target(LineCursor& line, RestrictRule& rule, bool& has_prefix) {
  const std::string what(line.directive().text);
  AddressFamily wanted = AddressFamily::kAny;
  if (!line.at_end() && (line.peek().text == "-4" || line.peek().text == "-6")) {
    wanted = line.take().text == "-4" ? AddressFamily::kIpv4 : AddressFamily::kIpv6;
  }
  const std::string expected = what + " expects default, source, an address or a host name";
  if (line.at_end()) return line.error_missing(expected);
  const ConfToken& token = line.take();
  rule.family = wanted;
  if (token.text == "default") {
    rule.target = RestrictTarget::kDefault;
    return true;
  }
  if (token.text == "source") {
    if (wanted != AddressFamily::kAny)
      return line.error(token, "-4/-6 cannot be used with 'source'");
    rule.target = RestrictTarget::kSource;
    return true;
  }
  rule.target = RestrictTarget::kAddress;
  if (token.text.find('/') != std::string::npos) {
    if (!parse_prefix(line, token, rule.address, rule.mask)) return false;
    has_prefix = true;
  } else if (auto address = parse_numeric_address(token.text)) {
    rule.address = *address;
    rule.mask = prefix_mask(address->family, full_prefix(address->family));
  } else if (token.text.find(':') != std::string::npos) {
    return line.error(token, quote_for_message(token.text) + " is not a valid IPv6 address");
  } else if (token.text.find_first_not_of("0123456789.") == std::string::npos) {
    return line.error(token, quote_for_message(token.text) + " is not a valid IPv4 address");
  } else if (is_valid_hostname(token.text)) {
    rule.target = RestrictTarget::kHostname;
    rule.hostname = token.text;
    return true;
  } else {
    return line.error(token, expected + ", got " + quote_for_message(token.text));
  }
  if (wanted != AddressFamily::kAny && wanted != rule.address.family) {
    return line.error(token, quote_for_message(token.text) + " is not an " +
                                 std::string(family_name(wanted)) +
                                 " address as the -4/-6 before it requires");
  }
  rule.family = rule.address.family;
  return true;
}

// mask M right after the target.
bool parse_restrict_mask(LineCursor& line, RestrictRule& rule, bool has_prefix) {
  const ConfToken& keyword = line.take();
  if (rule.target == RestrictTarget::kDefault || rule.target == RestrictTarget::kSource) {
    return line.error(keyword, rule.target == RestrictTarget::kDefault
                                   ? "mask cannot be used with 'default'"
                                   : "mask cannot be used with 'source'");
  }
  if (has_prefix) return line.error(keyword, "mask cannot follow an address/prefix");
  if (rule.target == RestrictTarget::kHostname) {
    if (line.at_end()) return line.error_missing("mask expects a numeric mask");
    const ConfToken& value = line.take();
    auto mask = parse_numeric_address(value.text);
    if (!mask || (rule.family != AddressFamily::kAny && mask->family != rule.family)) {
      return line.error(value, "mask expects a numeric mask, got " + quote_for_message(value.text));
    }
    rule.hostname_mask = *mask;
    return true;
  }
  const std::string expected = rule.family == AddressFamily::kIpv6
                                   ? "mask expects an IPv6 mask like ffff:ffff::"
                                   : "mask expects an IPv4 mask like 255.255.255.0";
  if (line.at_end()) return line.error_missing(expected);
  const ConfToken& value = line.take();
  const auto mask = parse_mask(value.text, rule.family);
  if (!mask) return line.error(value, expected + ", got " + quote_for_message(value.text));
  rule.mask = *mask;
  return true;
}

// The flags after the target; sets *unrestrict for the "unrestrict" word.
bool parse_restrict_flags(LineCursor& line, RestrictRule& rule, bool& ippeerlimit_named,
                          bool& unrestrict) {
  while (!line.at_end()) {
    const ConfToken& flag = line.take();
    const auto known = std::find_if(std::begin(kRestrictFlags), std::end(kRestrictFlags),
                                    [&](const RestrictFlagName& f) { return f.name == flag.text; });
    if (known != std::end(kRestrictFlags)) {
      rule.flags.*(known->member) = true;
    } else if (flag.text == "serverresponse") {
      if (line.at_end() || line.peek().text != "fuzz") {
        return line.at_end() ? line.error_missing("serverresponse expects 'fuzz'")
                             : line.error(line.peek(), "serverresponse expects 'fuzz', got " +
                                                           quote_for_message(line.peek().text));
      }
      line.take();
      rule.flags.serverresponse_fuzz = true;
    } else if (flag.text == "ippeerlimit") {
      const auto limit = line.take_int("ippeerlimit", -1, 65535);
      if (!limit) return false;
      rule.ippeerlimit = static_cast<int>(*limit);
      ippeerlimit_named = true;
    } else if (flag.text == "unrestrict") {
      unrestrict = true;
    } else {
      return line.error(flag, "unknown restrict flag " + quote_for_message(flag.text) +
                                  "; expected ignore, kod, limited, lowpriotrap, mssntp, "
                                  "nomodify, nomrulist, noepeer, nopeer, noquery, noserve, "
                                  "notrap, notrust, ntpport, version, serverresponse fuzz or "
                                  "ippeerlimit N");
    }
  }
  return true;
}

// Lines with equal keys configure the same access-list entry. As in ntpd
// (RESM_NTPONLY is a match flag, not a restriction), an ntpport line and a
// plain line for the same address and mask are two entries.
std::string target_key(const RestrictRule& rule) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(rule.target)));
  key += static_cast<char>('0' + static_cast<int>(rule.family));
  switch (rule.target) {
    case RestrictTarget::kDefault:
    case RestrictTarget::kSource:
      break;
    case RestrictTarget::kAddress:
      key += rule.address.to_string() + "/" + rule.mask.to_string();
      break;
    case RestrictTarget::kHostname:
      key += rule.hostname + "/" + (rule.hostname_mask ? rule.hostname_mask->to_string() : "");
      break;
  }
  if (rule.flags.ntpport) key += "/ntpport";
  return key;
}

void clear_flags(RestrictFlags& flags, const RestrictFlags& named) {
  for (const auto& flag : kRestrictFlags) {
    if (named.*(flag.member)) flags.*(flag.member) = false;
  }
  if (named.serverresponse_fuzz) flags.serverresponse_fuzz = false;
}

void or_flags(RestrictFlags& flags, const RestrictFlags& added) {
  for (const auto& flag : kRestrictFlags) {
    if (added.*(flag.member)) flags.*(flag.member) = true;
  }
  if (added.serverresponse_fuzz) flags.serverresponse_fuzz = true;
}

}  // namespace

bool parse_restrict(LineCursor& line, ParseState& state, bool unrestrict) {
  RestrictRule rule;
  rule.location = line.location();
  bool has_prefix = false;
  if (!parse_restrict_target(line, rule, has_prefix)) return false;
  const ConfToken& target = line.previous();
  if (!line.at_end() && line.peek().text == "mask" &&
      !parse_restrict_mask(line, rule, has_prefix)) {
    return false;
  }
  bool ippeerlimit_named = false;
  if (!parse_restrict_flags(line, rule, ippeerlimit_named, unrestrict)) return false;

  if (rule.target == RestrictTarget::kAddress) {
    const ConfigAddress masked = apply_mask(rule.address, rule.mask);
    if (!(masked == rule.address)) {
      line.warning(target, "address " + quote_for_message(target.text) +
                               " has bits outside its mask; using " + masked.to_string());
      rule.address = masked;
    }
  }
  auto& rules = state.config.restrictions;
  const std::string key = target_key(rule);
  const auto found = state.restrict_index.find(key);
  RestrictRule* existing = found == state.restrict_index.end() ? nullptr : &rules[found->second];
  if (unrestrict) {
    if (existing == nullptr) {
      line.warning(target, "unrestrict " + quote_for_message(target.text) +
                               ": no earlier restrict line for this target; ignored");
      return true;
    }
    // ntpport chose the entry; it is not a flag to clear from it.
    const bool ntpport = existing->flags.ntpport;
    clear_flags(existing->flags, rule.flags);
    existing->flags.ntpport = ntpport;
    if (ippeerlimit_named) existing->ippeerlimit.reset();
    return true;
  }
  if (existing != nullptr) {
    or_flags(existing->flags, rule.flags);
    if (rule.ippeerlimit) existing->ippeerlimit = rule.ippeerlimit;
    return true;
  }
  state.restrict_index.emplace(key, rules.size());
  rules.push_back(std::move(rule));
  return true;
}

bool parse_discard(LineCursor& line, ParseState& state) {
  DiscardConfig discard = state.config.discard.value_or(DiscardConfig{});
  if (line.at_end()) return line.error_missing("discard expects average, minimum or monitor");
  while (!line.at_end()) {
    const ConfToken& option = line.take();
    std::optional<int>* target = option.text == "average"   ? &discard.average_log2s
                                 : option.text == "minimum" ? &discard.minimum_s
                                 : option.text == "monitor" ? &discard.monitor_s
                                                            : nullptr;
    if (target == nullptr) {
      return line.error(option, "unknown discard option " + quote_for_message(option.text) +
                                    "; expected average, minimum or monitor");
    }
    const std::int64_t hi = option.text == "average"   ? kMaxPollLimitLog2s
                            : option.text == "minimum" ? 255
                                                       : std::numeric_limits<std::int32_t>::max();
    const auto value = line.take_int(option.text, 0, hi);
    if (!value) return false;
    *target = static_cast<int>(*value);
  }
  state.config.discard = discard;
  return true;
}

// interface|nic listen|ignore|drop all|ipv4|ipv6|wildcard|NAME|ADDRESS[/LEN]
bool parse_interface(LineCursor& line, ParseState& state) {
  InterfaceRule rule;
  rule.location = line.location();
  const std::string what(line.directive().text);
  if (line.at_end()) return line.error_missing(what + " expects listen, ignore or drop");
  const ConfToken& action = line.take();
  if (action.text == "listen") {
    rule.action = InterfaceAction::kListen;
  } else if (action.text == "ignore") {
    rule.action = InterfaceAction::kIgnore;
  } else if (action.text == "drop") {
    rule.action = InterfaceAction::kDrop;
  } else {
    return line.error(
        action, what + " expects listen, ignore or drop, got " + quote_for_message(action.text));
  }
  const std::string expected =
      what + " " + action.text + " expects all, ipv4, ipv6, wildcard, a name or an address";
  if (line.at_end()) return line.error_missing(expected);
  const ConfToken& match = line.take();
  const std::string& text = match.text;
  if (text == "all" || text == "ipv4" || text == "ipv6" || text == "wildcard") {
    rule.match = text == "all"    ? InterfaceMatch::kAll
                 : text == "ipv4" ? InterfaceMatch::kIpv4
                 : text == "ipv6" ? InterfaceMatch::kIpv6
                                  : InterfaceMatch::kWildcard;
  } else if (text.find('/') != std::string::npos || parse_numeric_address(text)) {
    ConfigAddress mask;
    if (text.find('/') != std::string::npos) {
      if (!parse_prefix(line, match, rule.address, mask)) return false;
      rule.prefix_len = static_cast<int>(*parse_int(text.substr(text.find('/') + 1)));
    } else {
      rule.address = *parse_numeric_address(text);
      rule.prefix_len = full_prefix(rule.address.family);
      mask = prefix_mask(rule.address.family, rule.prefix_len);
    }
    rule.match = InterfaceMatch::kAddress;
    rule.address = apply_mask(rule.address, mask);
  } else if (!text.empty() && text.size() < 16 &&
             text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._-:@*?") == std::string::npos) {
    rule.match = InterfaceMatch::kName;
    rule.name = text;
  } else {
    return line.error(match, expected + ", got " + quote_for_message(text));
  }
  if (!line.expect_end()) return false;
  state.config.interfaces.push_back(std::move(rule));
  return true;
}

}  // namespace ntpd::common::conf_detail
