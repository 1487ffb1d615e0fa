// Validation of NetConfig.dns (see dns_settings.h).
#include "ntpd-net/dns_settings.h"

#include <arpa/inet.h>

#include <string_view>

namespace ntpd::net {
namespace {

bool numeric_host_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// Letters, digits, '-', '_' and dots, 1..253 characters: what the resolver
// itself would accept as a name (it checks labels again).
bool plausible_name(std::string_view name) {
  if (name.empty() || name.size() > common::kMaxDomainNameChars + 1) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

int checked(bool present, int value, int low, int high, int fallback, const char* field,
            std::vector<std::string>* problems) {
  if (!present) return fallback;
  if (value >= low && value <= high) return value;
  problems->push_back(std::string("DnsConfig.") + field + ": " + std::to_string(value) +
                      " out of range " + std::to_string(low) + ".." + std::to_string(high) +
                      "; using " + std::to_string(fallback));
  return fallback;
}

}  // namespace

ResolverConfig resolver_config_from(const ipc::DnsConfig& dns, std::vector<std::string>* problems) {
  ResolverConfig out;
  for (const std::string& ns : dns.nameservers()) {
    if (out.nameservers.size() == common::kMaxNameservers) {
      problems->push_back("DnsConfig.nameservers: more than " +
                          std::to_string(common::kMaxNameservers) + "; " + ns + " ignored");
    } else if (!parse_nameserver_address(ns)) {
      problems->push_back("DnsConfig.nameservers: \"" + ns + "\" is not a numeric address");
    } else {
      out.nameservers.push_back(ns);
    }
  }
  for (const std::string& domain : dns.search()) {
    if (out.search.size() == common::kMaxSearchDomains) {
      problems->push_back("DnsConfig.search: more than " +
                          std::to_string(common::kMaxSearchDomains) + " domains; " + domain +
                          " ignored");
    } else if (!plausible_name(domain)) {
      problems->push_back("DnsConfig.search: \"" + domain + "\" is not a domain name");
    } else {
      out.search.push_back(domain);
    }
  }
  out.ndots = checked(dns.has_ndots(), dns.ndots(), 0, common::kMaxNdots, common::kDefaultNdots,
                      "ndots", problems);
  out.timeout_ms =
      checked(dns.has_timeout_ms(), dns.timeout_ms(), kMinDnsTimeoutMs, kMaxDnsTimeoutMs,
              common::kDefaultDnsTimeoutS * 1000, "timeout_ms", problems);
  out.attempts = checked(dns.has_attempts(), dns.attempts(), 1, common::kMaxDnsAttempts,
                         common::kDefaultDnsAttempts, "attempts", problems);
  out.no_aaaa = dns.no_aaaa();
  for (const ipc::DnsHost& host : dns.hosts()) {
    if (out.hosts.size() == kMaxDnsHosts) {
      problems->push_back("DnsConfig.hosts: more than " + std::to_string(kMaxDnsHosts) +
                          " names; the rest ignored");
      break;
    }
    if (!plausible_name(host.name())) {
      problems->push_back("DnsConfig.hosts: \"" + host.name() + "\" is not a host name");
      continue;
    }
    common::HostEntry entry;
    entry.name = host.name();
    for (const std::string& address : host.addresses()) {
      if (entry.addresses.size() == common::kMaxHostAddresses) {
        problems->push_back("DnsConfig.hosts: " + host.name() + ": more than " +
                            std::to_string(common::kMaxHostAddresses) + " addresses");
        break;
      }
      if (numeric_host_address(address)) {
        entry.addresses.push_back(address);
      } else {
        problems->push_back("DnsConfig.hosts: " + host.name() + ": \"" + address +
                            "\" is not a numeric address");
      }
    }
    if (!entry.addresses.empty()) out.hosts.push_back(std::move(entry));
  }
  return out;
}

}  // namespace ntpd::net
