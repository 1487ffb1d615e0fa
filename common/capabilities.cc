// Implementation of common/capabilities.h over libcap.
#include "common/capabilities.h"

#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ntpd::common {
namespace {

struct CapFree {
  void operator()(cap_t caps) const { cap_free(caps); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

bool fail(std::string* error, const char* what) {
  if (error != nullptr) *error = std::string(what) + ": " + std::strerror(errno);
  return false;
}

bool contains(std::initializer_list<cap_value_t> list, cap_value_t cap) {
  return std::find(list.begin(), list.end(), cap) != list.end();
}

bool set_flag(cap_t caps, cap_flag_t flag, std::initializer_list<cap_value_t> list) {
  if (list.size() == 0) return true;
  return cap_set_flag(caps, flag, static_cast<int>(list.size()), list.begin(), CAP_SET) == 0;
}

}  // namespace

bool restrict_capabilities(std::initializer_list<cap_value_t> bounding,
                           std::initializer_list<cap_value_t> permitted,
                           std::initializer_list<cap_value_t> effective, std::string* error) {
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (contains(bounding, cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return fail(error, "PR_CAPBSET_DROP");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return fail(error, "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  CapHandle caps(cap_init());
  if (!caps) return fail(error, "cap_init");
  if (!set_flag(caps.get(), CAP_PERMITTED, permitted) ||
      !set_flag(caps.get(), CAP_EFFECTIVE, effective)) {
    return fail(error, "cap_set_flag");
  }
  if (cap_set_proc(caps.get()) != 0) return fail(error, "cap_set_proc");
  return true;
}

bool set_effective(cap_value_t cap, bool on, std::string* error) {
  CapHandle caps(cap_get_proc());
  if (!caps) return fail(error, "cap_get_proc");
  if (cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &cap, on ? CAP_SET : CAP_CLEAR) != 0) {
    return fail(error, "cap_set_flag");
  }
  if (cap_set_proc(caps.get()) != 0) return fail(error, "cap_set_proc");
  return true;
}

bool clear_capabilities(std::string* error) {
  CapHandle caps(cap_init());
  if (!caps) return fail(error, "cap_init");
  if (cap_set_proc(caps.get()) != 0) return fail(error, "cap_set_proc");
  return true;
}

}  // namespace ntpd::common
