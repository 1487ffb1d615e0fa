// SourceRestrictions: "restrict source" (ntp.conf(5)) as associations come
// and go. Each server, pool member or peer address gets a host entry with
// the source flags while at least one association uses it; the entry goes
// when the last one does. Pure: works on the RestrictTable it is given.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "ntpd-net/restrict.h"

namespace ntpd::net {

class SourceRestrictions {
 public:
  // `table` must outlive this object.
  explicit SourceRestrictions(RestrictTable& table) : table_(&table) {}

  // An association was mobilized on `address` (numeric or resolved).
  void acquire(const IpAddress& address);
  // That association went away.
  void release(const IpAddress& address);
  // Addresses with at least one association.
  std::size_t tracked() const { return refs_.size(); }

 private:
  struct Ref {
    IpAddress address;
    int count = 0;
    bool added = false;  // our host entry exists (false: "restrict source" off, or a
                         // configured host entry already covers the address)
  };
  RestrictTable* table_;
  std::vector<Ref> refs_;
};

}  // namespace ntpd::net
