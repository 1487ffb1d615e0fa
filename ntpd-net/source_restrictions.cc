// Reference-counted "restrict source" entries (see source_restrictions.h).
#include "ntpd-net/source_restrictions.h"

#include <algorithm>

namespace ntpd::net {

void SourceRestrictions::acquire(const IpAddress& address) {
  const IpAddress key = canonical_address(address);
  const auto it =
      std::find_if(refs_.begin(), refs_.end(), [&](const Ref& ref) { return ref.address == key; });
  if (it != refs_.end()) {
    ++it->count;
    return;
  }
  refs_.push_back(Ref{key, 1, table_->add_source_address(key)});
}

void SourceRestrictions::release(const IpAddress& address) {
  const IpAddress key = canonical_address(address);
  const auto it =
      std::find_if(refs_.begin(), refs_.end(), [&](const Ref& ref) { return ref.address == key; });
  if (it == refs_.end() || --it->count > 0) return;
  if (it->added) table_->remove_source_address(key);
  refs_.erase(it);
}

}  // namespace ntpd::net
