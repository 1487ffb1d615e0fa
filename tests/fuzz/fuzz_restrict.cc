// Differential libFuzzer target for ntpd-net/restrict: the indexed matcher
// against a naive linear scan written here from ntpd's ntp_restrict.c
// rules (first entry in descending address, mask, match-flag order whose
// address equals source & mask; ntpport entries need port 123). The input
// builds rules, then runs queries and source/interface additions.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ntpd-net/restrict.h"

namespace {

using ntpd::common::AddressFamily;
using ntpd::common::RestrictFlags;
using ntpd::common::RestrictRule;
using ntpd::common::RestrictTarget;
using ntpd::net::IpAddress;

void check(bool condition) {
  if (!condition) std::abort();
}

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

RestrictFlags flags_from(Reader& in) {
  const unsigned bits = in.byte() | (unsigned{in.byte()} << 8);
  RestrictFlags f;
  bool* members[] = {&f.ignore,  &f.kod,      &f.limited,   &f.lowpriotrap,
                     &f.mssntp,  &f.nomodify, &f.nomrulist, &f.noepeer,
                     &f.nopeer,  &f.noquery,  &f.noserve,   &f.notrap,
                     &f.notrust, &f.ntpport,  &f.version,   &f.serverresponse_fuzz};
  for (unsigned i = 0; i < 16; ++i) *members[i] = ((bits >> i) & 1) != 0;
  return f;
}

// Low-entropy addresses so rules and queries collide often.
IpAddress address_from(Reader& in, bool v6) {
  static constexpr std::uint8_t kPool[8] = {0, 1, 2, 10, 127, 128, 192, 255};
  IpAddress a;
  a.family = v6 ? AddressFamily::kIpv6 : AddressFamily::kIpv4;
  const std::uint8_t style = in.byte();
  const std::size_t n = v6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t b = in.byte();
    a.bytes[i] = (style & 1) != 0 ? b : kPool[b % 8];
  }
  if (v6 && style % 8 == 2) {  // IPv4-mapped
    std::memset(a.bytes.data(), 0, 10);
    a.bytes[10] = a.bytes[11] = 0xff;
  }
  return a;
}

IpAddress mask_from(Reader& in, bool v6) {
  IpAddress m;
  m.family = v6 ? AddressFamily::kIpv6 : AddressFamily::kIpv4;
  const std::size_t n = v6 ? 16 : 4;
  const std::uint8_t selector = in.byte();
  if (selector < 200) {
    const std::size_t prefix = selector % (8 * n + 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t bits = prefix > 8 * i ? std::min<std::size_t>(8, prefix - 8 * i) : 0;
      m.bytes[i] = static_cast<std::uint8_t>(0xff00 >> bits);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) m.bytes[i] = in.byte();
  }
  return m;
}

// ---- the naive model ----

struct NaiveEntry {
  int family = 0;  // 0 IPv4, 1 IPv6
  std::uint8_t address[16] = {};
  std::uint8_t mask[16] = {};
  std::uint8_t match_flags = 0;  // 1 ntpport, 2 interface
  int origin = 0;                // 0 config, 1 source, 2 interface
  RestrictFlags flags;
};

struct Naive {
  std::vector<NaiveEntry> entries;
  bool source_enabled = false;
  RestrictFlags source_flags;
};

void or_into(RestrictFlags& to, const RestrictFlags& from) {
  bool* t[] = {&to.ignore,  &to.kod,      &to.limited,   &to.lowpriotrap,
               &to.mssntp,  &to.nomodify, &to.nomrulist, &to.noepeer,
               &to.nopeer,  &to.noquery,  &to.noserve,   &to.notrap,
               &to.notrust, &to.ntpport,  &to.version,   &to.serverresponse_fuzz};
  const bool f[] = {from.ignore,  from.kod,      from.limited,   from.lowpriotrap,
                    from.mssntp,  from.nomodify, from.nomrulist, from.noepeer,
                    from.nopeer,  from.noquery,  from.noserve,   from.notrap,
                    from.notrust, from.ntpport,  from.version,   from.serverresponse_fuzz};
  for (int i = 0; i < 16; ++i) *t[i] = *t[i] || f[i];
}

// Returns family and 16 bytes (IPv4 in the first 4, rest zero).
int canonical(const IpAddress& a, std::uint8_t out[16]) {
  std::memset(out, 0, 16);
  if (a.family == AddressFamily::kIpv4) {
    std::memcpy(out, a.bytes.data(), 4);
    return 0;
  }
  static const std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memcpy(out, a.bytes.data() + 12, 4);
    return 0;
  }
  std::memcpy(out, a.bytes.data(), 16);
  return 1;
}

void naive_merge(Naive& model, const NaiveEntry& e) {
  for (auto& x : model.entries) {
    if (x.family == e.family && std::memcmp(x.address, e.address, 16) == 0 &&
        std::memcmp(x.mask, e.mask, 16) == 0 && x.match_flags == e.match_flags) {
      or_into(x.flags, e.flags);
      return;
    }
  }
  model.entries.push_back(e);
}

bool before(const NaiveEntry& a, const NaiveEntry& b) {  // a sorts first in ntpd's list
  if (int c = std::memcmp(a.address, b.address, 16); c != 0) return c > 0;
  if (int c = std::memcmp(a.mask, b.mask, 16); c != 0) return c > 0;
  return a.match_flags > b.match_flags;
}

const NaiveEntry* naive_best(const Naive& model, int family, const std::uint8_t a[16],
                             std::uint16_t port) {
  const NaiveEntry* best = nullptr;
  for (const auto& e : model.entries) {
    if (e.family != family) continue;
    bool hit = true;
    for (int i = 0; i < 16; ++i) hit = hit && (a[i] & e.mask[i]) == e.address[i];
    if (!hit || ((e.match_flags & 1) != 0 && port != 123)) continue;
    if (best == nullptr || before(e, *best)) best = &e;
  }
  return best;
}

bool multicast(int family, const std::uint8_t a[16]) {
  return family == 1 ? a[0] == 0xff : (a[0] & 0xf0) == 0xe0;
}

RestrictFlags naive_match(const Naive& model, const IpAddress& addr, std::uint16_t port) {
  std::uint8_t a[16];
  const int family = canonical(addr, a);
  if (multicast(family, a)) {
    RestrictFlags f;
    f.ignore = true;
    return f;
  }
  const NaiveEntry* best = naive_best(model, family, a, port);
  check(best != nullptr);  // the default entry always matches
  return best->flags;
}

NaiveEntry host_entry(const IpAddress& addr) {
  NaiveEntry e;
  e.family = canonical(addr, e.address);
  std::memset(e.mask, 0xff, e.family == 1 ? 16 : 4);
  return e;
}

bool naive_add_source(Naive& model, const IpAddress& addr) {
  NaiveEntry e = host_entry(addr);
  if (!model.source_enabled || multicast(e.family, e.address)) return false;
  const NaiveEntry* best = naive_best(model, e.family, e.address, 123);
  if (std::memcmp(best->mask, e.mask, 16) == 0) return false;
  e.match_flags = model.source_flags.ntpport ? 1 : 0;
  e.origin = 1;
  e.flags = model.source_flags;
  naive_merge(model, e);
  return true;
}

bool naive_remove_source(Naive& model, const IpAddress& addr) {
  const NaiveEntry key = host_entry(addr);
  const auto before_size = model.entries.size();
  std::erase_if(model.entries, [&](const NaiveEntry& e) {
    return e.origin == 1 && e.family == key.family &&
           std::memcmp(e.address, key.address, 16) == 0 && std::memcmp(e.mask, key.mask, 16) == 0;
  });
  return model.entries.size() != before_size;
}

void naive_add_rule(Naive& model, const RestrictRule& rule) {
  NaiveEntry e;
  e.flags = rule.flags;
  e.match_flags = rule.flags.ntpport ? 1 : 0;
  if (rule.target == RestrictTarget::kDefault) {
    for (int family = 0; family < 2; ++family) {
      if ((family == 0 && rule.family == AddressFamily::kIpv6) ||
          (family == 1 && rule.family == AddressFamily::kIpv4)) {
        continue;
      }
      e.family = family;
      naive_merge(model, e);
    }
  } else if (rule.target == RestrictTarget::kAddress) {
    e.family = canonical(rule.address, e.address);
    const std::size_t skip = e.family == 0 && rule.address.family == AddressFamily::kIpv6 ? 12 : 0;
    std::memcpy(e.mask, rule.mask.bytes.data() + skip, e.family == 0 ? 4 : 16);
    for (int i = 0; i < 16; ++i) e.address[i] &= e.mask[i];
    naive_merge(model, e);
  } else if (rule.target == RestrictTarget::kSource) {
    model.source_enabled = true;
    or_into(model.source_flags, rule.flags);
  }
}

RestrictRule rule_from(Reader& in) {
  RestrictRule rule;
  const std::uint8_t kind = in.byte() % 6;
  rule.flags = flags_from(in);
  if (kind == 0) {
    rule.target = RestrictTarget::kDefault;
    const std::uint8_t f = in.byte() % 3;
    rule.family = f == 0   ? AddressFamily::kAny
                  : f == 1 ? AddressFamily::kIpv4
                           : AddressFamily::kIpv6;
  } else if (kind <= 3) {
    const bool v6 = kind == 3;
    rule.target = RestrictTarget::kAddress;
    rule.address = address_from(in, v6);
    rule.mask = mask_from(in, v6);
    rule.family = rule.address.family;
    for (std::size_t i = 0; i < 16; ++i) rule.address.bytes[i] &= rule.mask.bytes[i];
  } else if (kind == 4) {
    rule.target = RestrictTarget::kSource;
  } else {
    rule.target = RestrictTarget::kHostname;
    rule.hostname = "ntp.example.net";
  }
  return rule;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in(data, size);
  std::vector<RestrictRule> rules(in.byte() % 12);
  for (auto& rule : rules) rule = rule_from(in);

  ntpd::net::RestrictTable table(rules);
  Naive model;
  for (const bool v6 : {false, true}) {
    NaiveEntry def;
    def.family = v6 ? 1 : 0;
    model.entries.push_back(def);
  }
  for (const auto& rule : rules) naive_add_rule(model, rule);

  std::vector<IpAddress> seen;
  for (const auto& rule : rules) {
    if (rule.target == RestrictTarget::kAddress) seen.push_back(rule.address);
  }
  for (int ops = 0; ops < 64 && !in.empty(); ++ops) {
    const std::uint8_t op = in.byte();
    IpAddress addr;
    if (!seen.empty() && (op & 0x80) != 0) {
      addr = seen[in.byte() % seen.size()];
      const std::size_t n = addr.family == AddressFamily::kIpv6 ? 16 : 4;
      addr.bytes[n - 1] ^= in.byte() & 0x0f;  // near a rule's address
    } else {
      addr = address_from(in, (op & 0x40) != 0);
    }
    const std::uint16_t port = (op & 0x20) != 0 ? 123 : static_cast<std::uint16_t>(in.byte() + 1);
    switch (op % 4) {
      case 0:
        break;
      case 1:
        check(table.add_source_address(addr) == naive_add_source(model, addr));
        break;
      case 2:
        check(table.remove_source_address(addr) == naive_remove_source(model, addr));
        break;
      case 3: {
        NaiveEntry e = host_entry(addr);
        e.match_flags = 3;
        e.origin = 2;
        e.flags.ignore = e.flags.ntpport = true;
        naive_merge(model, e);
        table.add_interface_address(addr);
        break;
      }
    }
    check(table.match(addr, port) == naive_match(model, addr, port));
    check(table.match(addr, 123) == naive_match(model, addr, 123));
  }
  for (const auto& a : seen) check(table.match(a, 123) == naive_match(model, a, 123));
  check(table.size() == model.entries.size());
  return 0;
}
