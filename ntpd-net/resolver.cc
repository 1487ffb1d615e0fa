// Resolver on libevent 2.1's evdns. The evdns_base is created with no flags
// (so it never parses /etc/resolv.conf or /etc/hosts) and configured from
// ResolverConfig only. Every evdns callback carries a heap Query that the
// callback itself frees, and that finds the Resolver through an Anchor the
// destructor clears: nothing reaches a dead Resolver, and nothing leaks.
#include "ntpd-net/resolver.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <syslog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "common/log.h"

namespace ntpd::net {

struct Resolver::Anchor {
  Resolver* self = nullptr;
};

struct Resolver::Query {
  std::shared_ptr<Anchor> anchor;
  std::uint64_t lookup_id = 0;
};

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A host name as DNS carries it: labels of 1..63 letters, digits, '-' or
// '_', at most 253 characters. A trailing dot is removed and sets *absolute.
std::optional<std::string> host_name(std::string_view text, bool* absolute) {
  *absolute = text.size() > 1 && text.back() == '.';
  if (*absolute) text.remove_suffix(1);
  if (text.empty() || text.size() > common::kMaxDomainNameChars) return std::nullopt;
  std::size_t label = 0;
  for (const char c : text) {
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return std::nullopt;
  }
  if (label == 0) return std::nullopt;
  return std::string(text);
}

std::optional<common::ConfigAddress> numeric_address(const std::string& text) {
  common::ConfigAddress address;
  if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) return address;
  address.family = common::AddressFamily::kIpv6;
  if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) return address;
  return std::nullopt;
}

bool family_matches(Family wanted, const common::ConfigAddress& address) {
  return wanted == Family::kAny || wanted == address.family;
}

void add_unique(std::vector<common::ConfigAddress>& list, const common::ConfigAddress& address) {
  if (list.size() < kMaxAddressesPerFamily &&
      std::find(list.begin(), list.end(), address) == list.end()) {
    list.push_back(address);
  }
}

ResolveStatus status_of(int dns_error) {
  switch (dns_error) {
    case DNS_ERR_NOTEXIST:
      return ResolveStatus::kNotFound;
    case DNS_ERR_NODATA:
    case DNS_ERR_NONE:  // an answer without addresses of the asked type
      return ResolveStatus::kNoData;
    case DNS_ERR_TIMEOUT:
      return ResolveStatus::kTimeout;
    default:
      return ResolveStatus::kServerFailure;
  }
}

// NXDOMAIN speaks for the name, whatever the type; otherwise an incomplete
// picture (a timeout or failure) is reported before "no data".
ResolveStatus merged_failure(const std::vector<int>& errors) {
  ResolveStatus merged = ResolveStatus::kNoData;
  for (const int error : errors) {
    const ResolveStatus status = status_of(error);
    if (status == ResolveStatus::kNotFound) return status;
    if (status == ResolveStatus::kTimeout || merged == ResolveStatus::kNoData) merged = status;
  }
  return merged;
}

void log_from_evdns(int is_warning, const char* message) {
  try {
    common::logf(is_warning != 0 ? LOG_WARNING : LOG_INFO, "DNS: evdns: %s", message);
  } catch (...) {  // nothing may unwind into libevent
  }
}

void deliver(const Resolver::Callback& done, ResolveResult result) {
  try {
    if (done) done(std::move(result));
  } catch (...) {
    common::logf(LOG_ERR, "DNS: a lookup callback threw; ignored");
  }
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  std::uint16_t port = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, port);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || port == 0) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::string_view to_string(ResolveStatus status) {
  switch (status) {
    case ResolveStatus::kOk:
      return "ok";
    case ResolveStatus::kNoData:
      return "no address of that family";
    case ResolveStatus::kNotFound:
      return "name not found (NXDOMAIN)";
    case ResolveStatus::kTimeout:
      return "timed out";
    case ResolveStatus::kServerFailure:
      return "server failure";
    case ResolveStatus::kInvalidName:
      return "invalid host name";
    case ResolveStatus::kNoNameservers:
      return "no nameserver configured";
    case ResolveStatus::kBusy:
      return "too many lookups in flight";
  }
  return "?";
}

bool is_temporary(ResolveStatus status) {
  return status == ResolveStatus::kTimeout || status == ResolveStatus::kServerFailure ||
         status == ResolveStatus::kBusy;
}

std::optional<NameserverAddress> parse_nameserver_address(std::string_view text) {
  std::string_view host = text;
  std::uint16_t port = 53;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return std::nullopt;
      const auto parsed = parse_port(rest.substr(1));
      if (!parsed) return std::nullopt;
      port = *parsed;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const std::size_t colon = text.find(':');
    host = text.substr(0, colon);
    const auto parsed = parse_port(text.substr(colon + 1));
    if (!parsed) return std::nullopt;
    port = *parsed;
  }
  NameserverAddress out;
  const std::size_t percent = host.find('%');
  const std::string address(host.substr(0, percent));
  if (host.find(':') == std::string_view::npos) {
    if (percent != std::string_view::npos) return std::nullopt;
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &v4.sin_addr) != 1) return std::nullopt;
    std::memcpy(&out.storage, &v4, sizeof v4);
    out.length = sizeof v4;
    return out;
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  if (inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1) return std::nullopt;
  if (percent != std::string_view::npos) {
    const std::string_view scope = host.substr(percent + 1);
    std::uint32_t id = 0;
    const auto result = std::from_chars(scope.data(), scope.data() + scope.size(), id);
    if (scope.empty() || result.ec != std::errc() || result.ptr != scope.data() + scope.size()) {
      return std::nullopt;
    }
    v6.sin6_scope_id = id;
  }
  std::memcpy(&out.storage, &v6, sizeof v6);
  out.length = sizeof v6;
  return out;
}

void Resolver::EvdnsDeleter::operator()(evdns_base* dns) const {
  // Clearing the nameservers first cancels their liveness probes cleanly;
  // evdns_base_free alone would leave a probe's callback pointing at a
  // freed nameserver (libevent 2.1). Queries still in flight then fail with
  // DNS_ERR_SHUTDOWN on the next turn of the loop and find no Resolver.
  evdns_base_clear_nameservers_and_suspend(dns);
  evdns_base_free(dns, 1);
}

void Resolver::EventDeleter::operator()(event* ev) const { event_free(ev); }

Resolver::Resolver(event_base* base, std::size_t max_lookups, bool no_aaaa)
    : base_(base),
      max_lookups_(std::clamp<std::size_t>(max_lookups, 1, kMaxLookupsLimit)),
      no_aaaa_(no_aaaa),
      anchor_(std::make_shared<Anchor>()) {
  anchor_->self = this;
}

Resolver::~Resolver() {
  anchor_->self = nullptr;
  ready_event_.reset();
  dns_.reset();
}

std::unique_ptr<Resolver> Resolver::create(event_base* base, const ResolverConfig& config,
                                           std::string* error) {
  std::unique_ptr<Resolver> resolver(new Resolver(base, config.max_lookups, config.no_aaaa));
  if (!resolver->configure(config, error)) return nullptr;
  return resolver;
}

bool Resolver::configure(const ResolverConfig& config, std::string* error) {
  evdns_set_log_fn(&log_from_evdns);  // process-wide; evdns warnings go to our log
  ready_event_.reset(event_new(base_, -1, 0, &Resolver::on_ready_event, this));
  if (!ready_event_) {
    if (error != nullptr) *error = "DNS: cannot create the answer event";
    return false;
  }
  const std::int32_t timeout_ms = std::clamp(config.timeout_ms, kMinDnsTimeoutMs, kMaxDnsTimeoutMs);
  char timeout_text[32];
  std::snprintf(timeout_text, sizeof timeout_text, "%d.%03d", timeout_ms / 1000, timeout_ms % 1000);
  // Room for two queries per lookup and the nameserver probes, so evdns
  // never parks a query in its own queue (where no timeout runs).
  options_ = {
      {"timeout:", timeout_text},
      {"attempts:", std::to_string(std::clamp(config.attempts, 1, common::kMaxDnsAttempts))},
      {"randomize-case:", "1"},
      {"max-inflight:", std::to_string(2 * max_lookups_ + 2 * common::kMaxNameservers)}};

  for (const std::string& text : config.nameservers) {
    if (nameservers_.size() == common::kMaxNameservers) {
      common::logf(LOG_WARNING, "DNS: more than %zu nameservers; %s ignored",
                   common::kMaxNameservers, text.c_str());
    } else if (const auto address = parse_nameserver_address(text)) {
      nameservers_.push_back({*address, text});
    } else {
      common::logf(LOG_WARNING, "DNS: bad nameserver address \"%s\" ignored", text.c_str());
    }
  }
  for (const std::string& domain : config.search) {
    bool absolute = false;
    if (const auto name = host_name(domain, &absolute)) {
      search_.push_back(*name);
    } else {
      common::logf(LOG_WARNING, "DNS: bad search domain \"%s\" ignored", domain.c_str());
    }
  }
  ndots_ = std::clamp(config.ndots, 0, common::kMaxNdots);

  for (const common::HostEntry& entry : config.hosts) {
    bool absolute = false;
    const auto name = host_name(entry.name, &absolute);
    if (!name) {
      common::logf(LOG_WARNING, "DNS: bad hosts name \"%s\" ignored", entry.name.c_str());
      continue;
    }
    std::vector<common::ConfigAddress>& list = hosts_[lower(*name)];
    for (const std::string& text : entry.addresses) {
      if (const auto address = numeric_address(text)) {
        add_unique(list, *address);
      } else {
        common::logf(LOG_WARNING, "DNS: bad hosts address \"%s\" ignored", text.c_str());
      }
    }
  }
  dns_ = new_dns_base(error);
  return dns_ != nullptr;
}

std::unique_ptr<evdns_base, Resolver::EvdnsDeleter> Resolver::new_dns_base(std::string* error) {
  auto fail = [error](const std::string& what) {
    if (error != nullptr) *error = what;
    return nullptr;
  };
  // Flags 0: no resolv.conf, no hosts file, no default nameserver. (An
  // unknown flag would make libevent 2.1 fall back to reading resolv.conf.)
  std::unique_ptr<evdns_base, EvdnsDeleter> dns(evdns_base_new(base_, 0));
  if (!dns) return fail("DNS: evdns_base_new failed");
  for (const auto& [name, value] : options_) {
    if (evdns_base_set_option(dns.get(), name.c_str(), value.c_str()) != 0) {
      return fail("DNS: evdns rejected option " + name + value);
    }
  }
  std::size_t added = 0;
  for (const auto& [address, text] : nameservers_) {
    const int rc = evdns_base_nameserver_sockaddr_add(
        dns.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length, 0);
    if (rc == 0) {
      ++added;
    } else if (rc != 3) {  // 3: a duplicate of one already added
      common::logf(LOG_WARNING, "DNS: cannot use nameserver %s (evdns error %d)", text.c_str(), rc);
    }
  }
  if (added == 0 && !nameservers_.empty()) return fail("DNS: no nameserver could be added");
  for (const std::string& domain : search_) evdns_base_search_add(dns.get(), domain.c_str());
  if (!search_.empty()) evdns_base_search_ndots_set(dns.get(), ndots_);
  nameserver_count_ = added;
  dns_used_ = false;
  return dns;
}

void Resolver::renew_dns_if_idle() {
  if (started_ > 0 || !dns_used_) return;
  std::string error;
  if (auto fresh = new_dns_base(&error)) {
    dns_ = std::move(fresh);
  } else {  // keep the old one: an old source port beats no resolver
    common::logf(LOG_WARNING, "%s; keeping the previous resolver sockets", error.c_str());
  }
}

std::optional<ResolveResult> Resolver::answer_locally(const std::string& host, Family family,
                                                      std::string* name, bool* absolute) const {
  ResolveResult result;
  result.host = host;
  if (const auto literal = numeric_address(host)) {
    result.status = family_matches(family, *literal) ? ResolveStatus::kOk : ResolveStatus::kNoData;
    if (result.status == ResolveStatus::kOk) result.addresses.push_back(*literal);
    return result;
  }
  const auto valid = host_name(host, absolute);
  if (!valid) {
    result.status = ResolveStatus::kInvalidName;
    return result;
  }
  *name = *valid;
  if (const auto it = hosts_.find(lower(*name)); it != hosts_.end()) {
    for (const auto& address : it->second) {
      if (family_matches(family, address)) result.addresses.push_back(address);
    }
    // Like glibc's "hosts: files dns": a name listed without the asked
    // family falls through to DNS.
    if (!result.addresses.empty()) {
      std::stable_partition(result.addresses.begin(), result.addresses.end(),
                            [](const auto& a) { return a.family == Family::kIpv4; });
      result.status = ResolveStatus::kOk;
      result.from_hosts = true;
      return result;
    }
  }
  if (nameserver_count_ == 0) {
    result.status = ResolveStatus::kNoNameservers;
  } else if (family == Family::kIpv6 && no_aaaa_) {
    result.status = ResolveStatus::kNoData;
  } else if (lookups_.size() >= max_lookups_ + kMaxQueuedLookups) {
    result.status = ResolveStatus::kBusy;
  } else {
    return std::nullopt;
  }
  return result;
}

void Resolver::resolve(const std::string& host, Family family, Callback done) {
  std::string name;
  bool absolute = false;
  if (auto local = answer_locally(host, family, &name, &absolute)) {
    finish_later(std::move(*local), std::move(done));
    return;
  }
  renew_dns_if_idle();
  const auto it = lookups_.try_emplace(next_id_++).first;
  Lookup& lookup = it->second;
  lookup.host = host;
  lookup.name = std::move(name);
  lookup.absolute = absolute;
  lookup.want_v4 = family != Family::kIpv6;
  lookup.want_v6 = family != Family::kIpv4 && !no_aaaa_;
  lookup.done = std::move(done);
  if (started_ >= max_lookups_) {
    waiting_.push_back(it->first);
  } else if (!start(it)) {
    auto [callback, failed] = retire(it);
    finish_later(std::move(failed), std::move(callback));
  }
}

bool Resolver::start(LookupMap::iterator it) {
  Lookup& lookup = it->second;
  lookup.started = true;
  ++started_;
  dns_used_ = true;
  for (const bool ipv6 : {false, true}) {
    if (!(ipv6 ? lookup.want_v6 : lookup.want_v4)) continue;
    auto query = std::make_unique<Query>(Query{anchor_, it->first});
    const int flags = lookup.absolute ? DNS_QUERY_NO_SEARCH : 0;
    evdns_request* request = ipv6 ? evdns_base_resolve_ipv6(dns_.get(), lookup.name.c_str(), flags,
                                                            &Resolver::on_dns_reply, query.get())
                                  : evdns_base_resolve_ipv4(dns_.get(), lookup.name.c_str(), flags,
                                                            &Resolver::on_dns_reply, query.get());
    if (request == nullptr) {  // refused outright; no callback will come
      lookup.errors.push_back(DNS_ERR_UNKNOWN);
      continue;
    }
    query.release();  // owned by the evdns callback from now on
    ++lookup.pending;
  }
  return lookup.pending > 0;
}

void Resolver::start_waiting() {
  while (started_ < max_lookups_ && !waiting_.empty()) {
    const auto it = lookups_.find(waiting_.front());
    waiting_.pop_front();
    if (it != lookups_.end() && !start(it)) {
      auto [done, result] = retire(it);
      finish_later(std::move(result), std::move(done));
    }
  }
}

std::pair<Resolver::Callback, ResolveResult> Resolver::retire(LookupMap::iterator it) {
  Lookup& lookup = it->second;
  ResolveResult result;
  result.host = std::move(lookup.host);
  result.addresses = std::move(lookup.v4);
  result.addresses.insert(result.addresses.end(), lookup.v6.begin(), lookup.v6.end());
  result.ttl_s = lookup.ttl_s.value_or(0);
  result.status = result.addresses.empty() ? merged_failure(lookup.errors) : ResolveStatus::kOk;
  Callback done = std::move(lookup.done);
  if (lookup.started) --started_;
  lookups_.erase(it);
  return {std::move(done), std::move(result)};
}

void Resolver::finish_later(ResolveResult result, Callback done) {
  ready_.emplace_back(std::move(done), std::move(result));
  event_active(ready_event_.get(), EV_TIMEOUT, 0);
}

void Resolver::on_answer(std::uint64_t lookup_id, int result, char type, int count, int ttl,
                         const void* addresses) {
  const auto it = lookups_.find(lookup_id);
  if (it == lookups_.end()) return;
  Lookup& lookup = it->second;
  const bool answered = result == DNS_ERR_NONE && count > 0 && addresses != nullptr &&
                        (type == DNS_IPv4_A || type == DNS_IPv6_AAAA);
  if (answered) {
    const auto* bytes = static_cast<const std::uint8_t*>(addresses);
    const bool v6 = type == DNS_IPv6_AAAA;
    const std::size_t size = v6 ? 16 : 4;
    for (int i = 0; i < count; ++i) {
      common::ConfigAddress address;
      address.family = v6 ? Family::kIpv6 : Family::kIpv4;
      std::memcpy(address.bytes.data(), bytes + static_cast<std::size_t>(i) * size, size);
      add_unique(v6 ? lookup.v6 : lookup.v4, address);
    }
    const auto ttl_s = static_cast<std::uint32_t>(std::max(ttl, 0));
    lookup.ttl_s = std::min(lookup.ttl_s.value_or(ttl_s), ttl_s);
  } else {
    lookup.errors.push_back(result == DNS_ERR_NONE ? DNS_ERR_NODATA : result);
  }
  if (--lookup.pending > 0) return;
  auto [done, resolved] = retire(it);
  start_waiting();
  deliver(done, std::move(resolved));  // last: it may destroy this Resolver
}

void Resolver::run_ready() {
  std::deque<std::pair<Callback, ResolveResult>> batch;
  batch.swap(ready_);
  const std::shared_ptr<Anchor> anchor = anchor_;
  for (auto& [done, result] : batch) {
    if (anchor->self == nullptr) return;  // an earlier callback destroyed us
    deliver(done, std::move(result));
  }
}

void Resolver::on_dns_reply(int result, char type, int count, int ttl, void* addresses, void* arg) {
  const std::unique_ptr<Query> query(static_cast<Query*>(arg));
  Resolver* self = query->anchor->self;
  if (self == nullptr) return;  // the Resolver is gone; just free the Query
  try {
    self->on_answer(query->lookup_id, result, type, count, ttl, addresses);
  } catch (...) {
    common::logf(LOG_ERR, "DNS: internal error handling a reply");
  }
}

void Resolver::on_ready_event(int /*fd*/, short /*what*/, void* arg) {
  try {
    static_cast<Resolver*>(arg)->run_ready();
  } catch (...) {
    common::logf(LOG_ERR, "DNS: internal error delivering answers");
  }
}

}  // namespace ntpd::net
