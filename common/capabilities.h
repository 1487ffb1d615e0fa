// Capability changes (libcap). The only code that calls capset or touches
// the bounding set; callers decide which capabilities to keep.
#pragma once

#include <sys/capability.h>

#include <initializer_list>
#include <string>

namespace ntpd::common {

// Drops every capability not in `bounding` from the bounding set, sets the
// permitted set to `permitted`, the effective set to `effective` (which
// must be a subset of permitted), empties the inheritable and ambient sets.
// Needs CAP_SETPCAP in the effective set when the bounding set shrinks.
bool restrict_capabilities(std::initializer_list<cap_value_t> bounding,
                           std::initializer_list<cap_value_t> permitted,
                           std::initializer_list<cap_value_t> effective, std::string* error);

// Adds `cap` (which must be permitted) to the effective set, or removes it
// again; for a capability held in reserve and used only for one call.
bool set_effective(cap_value_t cap, bool on, std::string* error);

// Clears the permitted, effective and inheritable sets of this process.
bool clear_capabilities(std::string* error);

}  // namespace ntpd::common
