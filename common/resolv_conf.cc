// resolv.conf(5) and hosts(5) parsing as glibc's res_init and nss_files do
// it (glibc 2.36, Debian 12). Pure: inet_aton/inet_pton/inet_ntop and
// std::from_chars only; no file, no lookup, no logging, no exceptions
// beyond std::bad_alloc.
#include "common/resolv_conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

namespace ntpd::common {
namespace {

constexpr std::string_view kBlanks = " \t\r\v\f";

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(kBlanks, pos);
    if (pos == std::string_view::npos) break;
    const std::size_t end = std::min(text.find_first_of(kBlanks, pos), text.size());
    words.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

// Calls `line_fn(number, line)` for each line of `text` (1-based numbers).
template <typename LineFn>
void for_each_line(std::string_view text, LineFn line_fn) {
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    line_fn(++number, text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
}

std::string where(std::string_view source_name, int line) {
  std::string out(source_name);
  if (line > 0) out += ":" + std::to_string(line);
  return out + ": ";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A domain or host name we are willing to carry: printable ASCII without
// blanks, at most 253 characters once a single trailing dot is removed.
std::optional<std::string_view> clean_name(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name == "." || name.size() > kMaxDomainNameChars) return std::nullopt;
  for (const char c : name) {
    if (c <= ' ' || c > '~') return std::nullopt;
  }
  return name;
}

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::string ntop(int family, const void* bytes) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes, buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

std::optional<Nameserver> parse_nameserver(std::string_view token) {
  Nameserver server;
  if (token.find(':') == std::string_view::npos) {
    in_addr v4{};
    if (inet_aton(std::string(token).c_str(), &v4) == 0) return std::nullopt;
    server.address = ntop(AF_INET, &v4);
    return server;
  }
  const std::size_t percent = token.find('%');
  in6_addr v6{};
  if (inet_pton(AF_INET6, std::string(token.substr(0, percent)).c_str(), &v6) != 1) {
    return std::nullopt;
  }
  server.ipv6 = true;
  server.address = ntop(AF_INET6, &v6);
  if (percent != std::string_view::npos) {
    server.scope = std::string(token.substr(percent + 1));
    if (server.scope.empty()) return std::nullopt;
    if (const auto id = parse_u32(server.scope)) server.scope_id = *id;
  }
  return server;
}

// One "name:value" option with glibc's clamp to [min, max].
void numeric_option(std::string_view word, std::string_view name, int min, int max, int& out,
                    std::vector<std::string>& warnings, const std::string& prefix) {
  const auto value = parse_u32(word.substr(name.size()));
  if (!value) {
    warnings.push_back(prefix + "option \"" + std::string(word) + "\" needs a number; ignored");
    return;
  }
  const auto clamped = static_cast<int>(std::clamp<std::uint32_t>(
      *value, static_cast<std::uint32_t>(min), static_cast<std::uint32_t>(max)));
  if (static_cast<std::uint32_t>(clamped) != *value) {
    warnings.push_back(prefix + "option \"" + std::string(word) + "\" out of range; using " +
                       std::to_string(clamped));
  }
  out = clamped;
}

void apply_options(ResolvConf& conf, std::span<const std::string_view> words,
                   const std::string& prefix) {
  // Options glibc knows that change nothing for us (TCP, EDNS, reloads).
  static constexpr std::string_view kIgnored[] = {
      "debug",          "edns0",          "single-request", "single-request-reopen",
      "no-tld-query",   "use-vc",         "no-reload",      "trust-ad",
      "inet6",          "no-check-names", "insecure1",      "insecure2",
      "ip6-bytestring", "ip6-dotint",     "no-ip6-dotint"};
  for (const std::string_view word : words) {
    if (word.starts_with("ndots:")) {
      numeric_option(word, "ndots:", 0, kMaxNdots, conf.ndots, conf.warnings, prefix);
    } else if (word.starts_with("timeout:")) {
      numeric_option(word, "timeout:", 1, kMaxDnsTimeoutS, conf.timeout_s, conf.warnings, prefix);
    } else if (word.starts_with("attempts:")) {
      numeric_option(word, "attempts:", 1, kMaxDnsAttempts, conf.attempts, conf.warnings, prefix);
    } else if (word == "rotate") {
      conf.rotate = true;
    } else if (word == "no-aaaa") {
      conf.no_aaaa = true;
    } else if (std::find(std::begin(kIgnored), std::end(kIgnored), word) == std::end(kIgnored)) {
      conf.warnings.push_back(prefix + "unknown option \"" + std::string(word) + "\" ignored");
    }
  }
}

void set_search(ResolvConf& conf, std::span<const std::string_view> domains,
                const std::string& prefix) {
  conf.search.clear();
  std::size_t chars = 0;
  for (const std::string_view word : domains) {
    const auto domain = clean_name(word);
    if (!domain) {
      conf.warnings.push_back(prefix + "search domain \"" + std::string(word) + "\" ignored");
      continue;
    }
    if (conf.search.size() == kMaxSearchDomains || chars + domain->size() + 1 > kMaxSearchChars) {
      conf.warnings.push_back(prefix + "more than " + std::to_string(kMaxSearchDomains) +
                              " search domains or " + std::to_string(kMaxSearchChars) +
                              " characters; the rest is ignored");
      return;
    }
    chars += domain->size() + 1;
    conf.search.emplace_back(*domain);
  }
}

void parse_resolv_line(ResolvConf& conf, std::string_view line, const std::string& prefix) {
  if (line.empty() || line.front() == '#' || line.front() == ';') return;
  const std::vector<std::string_view> words = split_words(line);
  if (words.empty()) return;
  const std::string_view keyword = words.front();
  const std::span<const std::string_view> args = std::span(words).subspan(1);
  if (kBlanks.find(line.front()) != std::string_view::npos) {
    conf.warnings.push_back(prefix + "line starts with a blank; glibc ignores it");
    return;
  }
  if (keyword == "nameserver") {
    if (args.empty()) {
      conf.warnings.push_back(prefix + "nameserver without an address ignored");
    } else if (conf.nameservers.size() == kMaxNameservers) {
      conf.warnings.push_back(prefix + "more than " + std::to_string(kMaxNameservers) +
                              " nameservers; " + std::string(args[0]) + " ignored");
    } else if (auto server = parse_nameserver(args[0])) {
      conf.nameservers.push_back(std::move(*server));
    } else {
      conf.warnings.push_back(prefix + "bad nameserver address \"" + std::string(args[0]) +
                              "\" ignored");
    }
  } else if ((keyword == "search" || keyword == "domain") && args.empty()) {
    conf.warnings.push_back(prefix + std::string(keyword) + " without a value ignored");
  } else if (keyword == "search") {
    set_search(conf, args, prefix);
  } else if (keyword == "domain") {
    set_search(conf, args.subspan(0, 1), prefix);
  } else if (keyword == "options") {
    apply_options(conf, args, prefix);
  } else if (keyword != "sortlist") {
    conf.warnings.push_back(prefix + "unknown keyword \"" + std::string(keyword) + "\" ignored");
  }
}

std::optional<std::string> parse_host_address(std::string_view token) {
  unsigned char bytes[sizeof(in6_addr)] = {};
  const std::string text(token);
  if (token.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return std::nullopt;
    return ntop(AF_INET6, bytes);
  }
  if (inet_pton(AF_INET, text.c_str(), bytes) != 1) return std::nullopt;
  return ntop(AF_INET, bytes);
}

}  // namespace

std::string Nameserver::to_string() const {
  if (scope.empty()) return address;
  return address + "%" + (scope_id != 0 ? std::to_string(scope_id) : scope);
}

ResolvConf parse_resolv_conf(std::string_view text, std::string_view source_name) {
  ResolvConf conf;
  for_each_line(text, [&](int number, std::string_view line) {
    parse_resolv_line(conf, line, where(source_name, number));
  });
  if (conf.nameservers.empty()) {
    Nameserver loopback;
    loopback.address = "127.0.0.1";
    conf.nameservers.push_back(std::move(loopback));
    conf.nameservers_defaulted = true;
  }
  return conf;
}

void apply_resolv_options(ResolvConf& conf, std::string_view options,
                          std::string_view source_name) {
  const std::vector<std::string_view> words = split_words(options);
  apply_options(conf, words, where(source_name, 0));
}

void resolve_scope_names(ResolvConf& conf,
                         const std::function<std::uint32_t(const std::string&)>& if_index) {
  std::erase_if(conf.nameservers, [&](Nameserver& server) {
    if (server.scope.empty() || server.scope_id != 0) return false;
    server.scope_id = if_index ? if_index(server.scope) : 0;
    if (server.scope_id != 0) return false;
    conf.warnings.push_back("nameserver " + server.address + "%" + server.scope +
                            ": unknown interface; ignored");
    return true;
  });
}

const HostEntry* HostsTable::find(std::string_view name) const {
  const auto cleaned = clean_name(name);
  if (!cleaned) return nullptr;
  const std::string key = lower(*cleaned);
  for (const HostEntry& entry : entries) {
    if (entry.name == key) return &entry;
  }
  return nullptr;
}

HostsTable parse_hosts(std::string_view text, std::string_view source_name) {
  HostsTable table;
  std::unordered_map<std::string, std::size_t> index;
  bool names_full = false;
  for_each_line(text, [&](int number, std::string_view line) {
    line = line.substr(0, line.find('#'));
    const std::vector<std::string_view> words = split_words(line);
    if (words.empty()) return;
    const std::string prefix = where(source_name, number);
    const auto address = parse_host_address(words[0]);
    if (!address) {
      table.warnings.push_back(prefix + "bad address \"" + std::string(words[0]) +
                               "\"; line ignored");
      return;
    }
    if (words.size() == 1) table.warnings.push_back(prefix + "address without a name ignored");
    for (const std::string_view word : std::span(words).subspan(1)) {
      const auto name = clean_name(word);
      if (!name) {
        table.warnings.push_back(prefix + "bad host name ignored");
        continue;
      }
      std::string key = lower(*name);
      auto it = index.find(key);
      if (it == index.end()) {
        if (table.entries.size() == kMaxHostsNames) {
          if (!names_full) table.warnings.push_back(prefix + "too many names; the rest ignored");
          names_full = true;
          continue;
        }
        it = index.emplace(key, table.entries.size()).first;
        table.entries.push_back(HostEntry{.name = std::move(key), .addresses = {}});
      }
      std::vector<std::string>& addresses = table.entries[it->second].addresses;
      if (std::find(addresses.begin(), addresses.end(), *address) != addresses.end()) continue;
      if (addresses.size() == kMaxHostAddresses) {
        table.warnings.push_back(prefix + "more than " + std::to_string(kMaxHostAddresses) +
                                 " addresses for " + it->first + "; " + *address + " ignored");
        continue;
      }
      addresses.push_back(*address);
    }
  });
  return table;
}

std::vector<HostEntry> select_hosts(const HostsTable& table, std::span<const std::string> names) {
  std::vector<HostEntry> out;
  for (const std::string& name : names) {
    const HostEntry* entry = table.find(name);
    if (entry == nullptr) continue;
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const HostEntry& e) { return e.name == entry->name; });
    if (!seen) out.push_back(*entry);
  }
  return out;
}

}  // namespace ntpd::common
