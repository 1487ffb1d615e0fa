// read_text_file(): open, check, read, close; the only code in common/ that
// reads a file for the config parser. No parsing and no policy here: the
// caller decides what a missing file means.
#include "common/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace ntpd::common {
namespace {

std::nullopt_t fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> read_text_file(const std::string& path, std::string* error) {
  return read_text_file_at_most(path, kDefaultMaxTextFileBytes, error);
}

std::optional<std::string> read_text_file_at_most(const std::string& path, std::size_t max_bytes,
                                                  std::string* error) {
  int raw_fd = -1;
  do {
    raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } while (raw_fd < 0 && errno == EINTR);
  if (raw_fd < 0) return fail(error, std::strerror(errno));
  const UniqueFd fd(raw_fd);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fail(error, std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return fail(error, "not a regular file");
  if (static_cast<std::size_t>(info.st_size) > max_bytes) {
    return fail(error, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(error, std::strerror(errno));
    if (n == 0) break;
    // The file may grow after fstat(); the bound holds on what is read.
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      return fail(error, "larger than " + std::to_string(max_bytes) + " bytes");
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

}  // namespace ntpd::common
