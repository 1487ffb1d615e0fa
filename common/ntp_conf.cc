// The ntp.conf parser's driver: runs the lexer, dispatches each line to its
// directive handler, follows includefile through the caller's FileReader
// (bounded in depth and count, cycles refused) and decides when the result
// is fatal. Never opens a file itself, never logs, never throws.
#include "common/ntp_conf.h"

#include <algorithm>
#include <array>

#include "common/ntp_conf_internal.h"

namespace ntpd::common {
namespace conf_detail {
namespace {

using Severity = ConfigDiagnostic::Severity;
using Handler = bool (*)(LineCursor&, ParseState&);

// Sets a single-valued file path; a repeated directive replaces the value.
bool set_path(LineCursor& line, std::optional<std::string>& target) {
  const std::string what(line.directive().text);
  auto path = line.take_path(what);
  if (!path || !line.expect_end()) return false;
  if (target) line.warning(line.directive(), what + " given more than once; the last one wins");
  target = std::move(*path);
  return true;
}

// driftfile PATH [minutes [tolerance]]: the legacy numbers are ignored.
bool parse_driftfile(LineCursor& line, ParseState& state) {
  auto path = line.take_path("driftfile");
  if (!path) return false;
  for (int extra = 0; extra < 2 && !line.at_end(); ++extra) {
    if (!parse_finite_double(line.peek().text)) {
      return line.error(line.peek(),
                        "driftfile expects a file name and optionally legacy "
                        "numeric arguments, got " +
                            quote_for_message(line.peek().text));
    }
    line.take();
  }
  if (!line.expect_end()) return false;
  if (state.config.drift_file) {
    line.warning(line.directive(), "driftfile given more than once; the last one wins");
  }
  state.config.drift_file = std::move(*path);
  return true;
}

bool set_key(LineCursor& line, std::optional<std::uint32_t>& target) {
  const auto key = line.take_int(line.directive().text, 1, 65535);
  if (!key || !line.expect_end()) return false;
  target = static_cast<std::uint32_t>(*key);
  return true;
}

bool parse_requestkey(LineCursor& line, ParseState& state) {
  if (!set_key(line, state.config.request_key)) return false;
  line.warning(line.directive(), "requestkey only serves mode 7, which is not implemented");
  return true;
}

bool parse_broadcastclient(LineCursor& line, ParseState& state) {
  bool novolley = false;
  if (!line.at_end() && line.peek().text == "novolley") {
    line.take();
    novolley = true;
  }
  if (!line.expect_end()) return false;
  state.config.broadcast_client = true;
  state.config.broadcast_client_novolley = novolley;
  return true;
}

// multicastclient [ADDRESS ...]: join these groups (ntpd: 224.0.1.1, the
// IANA NTP group, when none is given) and follow mode 5 servers on them.
bool parse_multicastclient(LineCursor& line, ParseState& state) {
  std::vector<ConfigAddress> groups;
  while (!line.at_end()) {
    const ConfToken& token = line.take();
    const auto address = parse_numeric_address(token.text);
    const bool multicast =
        address && (address->family == AddressFamily::kIpv4 ? (address->bytes[0] & 0xf0) == 0xe0
                                                            : address->bytes[0] == 0xff);
    if (!multicast) {
      return line.error(token, "multicastclient expects multicast addresses, got " +
                                   quote_for_message(token.text));
    }
    groups.push_back(*address);
  }
  if (groups.empty()) groups.push_back(*parse_numeric_address("224.0.1.1"));
  for (const auto& group : groups) {
    if (std::find(state.config.multicast_groups.begin(), state.config.multicast_groups.end(),
                  group) == state.config.multicast_groups.end()) {
      state.config.multicast_groups.push_back(group);
    }
  }
  return true;
}

// broadcastdelay SECONDS: the one-way delay a broadcast client assumes
// when it does not (or cannot) calibrate it with a volley (ntpd: 0.004).
bool parse_broadcastdelay(LineCursor& line, ParseState& state) {
  const auto delay = line.take_double("broadcastdelay", 0.0, 1.0);
  if (!delay || !line.expect_end()) return false;
  state.config.broadcast_delay_s = *delay;
  return true;
}

bool warn_unsupported_crypto(LineCursor& line, ParseState&) {
  line.warning(line.directive(), quote_for_message(line.directive().text) +
                                     " (Autokey/NTS) is not supported; line ignored");
  return true;
}

bool warn_unsupported(LineCursor& line, ParseState&) {
  line.warning(line.directive(),
               quote_for_message(line.directive().text) + " is not supported; line ignored");
  return true;
}

struct Directive {
  std::string_view name;
  // Access control: any error on the line makes the whole parse fatal.
  bool fail_closed;
  Handler handler;  // null for includefile, which the Parser handles
};

constexpr std::array kDirectives = {
    Directive{"server", false,
              [](LineCursor& l, ParseState& s) {
                return parse_association(l, s, AssociationKind::kServer);
              }},
    Directive{"pool", false,
              [](LineCursor& l, ParseState& s) {
                return parse_association(l, s, AssociationKind::kPool);
              }},
    Directive{"peer", false,
              [](LineCursor& l, ParseState& s) {
                return parse_association(l, s, AssociationKind::kPeer);
              }},
    Directive{"broadcast", false,
              [](LineCursor& l, ParseState& s) {
                return parse_association(l, s, AssociationKind::kBroadcast);
              }},
    Directive{"manycastclient", false,
              [](LineCursor& l, ParseState& s) {
                return parse_association(l, s, AssociationKind::kManycastClient);
              }},
    Directive{"fudge", false, parse_fudge},
    Directive{"restrict", true,
              [](LineCursor& l, ParseState& s) { return parse_restrict(l, s, false); }},
    Directive{"unrestrict", true,
              [](LineCursor& l, ParseState& s) { return parse_restrict(l, s, true); }},
    Directive{"discard", true, parse_discard},
    Directive{"interface", true, parse_interface},
    Directive{"nic", true, parse_interface},
    Directive{"includefile", false, nullptr},  // include() decides what is fatal
    Directive{"driftfile", false, parse_driftfile},
    Directive{"leapfile", false,
              [](LineCursor& l, ParseState& s) { return set_path(l, s.config.leap_file); }},
    Directive{"keys", false,
              [](LineCursor& l, ParseState& s) { return set_path(l, s.config.keys_file); }},
    Directive{"logfile", false,
              [](LineCursor& l, ParseState& s) { return set_path(l, s.config.log_file); }},
    Directive{"statsdir", false,
              [](LineCursor& l, ParseState& s) { return set_path(l, s.config.stats_dir); }},
    Directive{"pidfile", false,
              [](LineCursor& l, ParseState& s) { return set_path(l, s.config.pid_file); }},
    Directive{"trustedkey", false, parse_trustedkey},
    Directive{"controlkey", false,
              [](LineCursor& l, ParseState& s) { return set_key(l, s.config.control_key); }},
    Directive{"requestkey", false, parse_requestkey},
    Directive{"tinker", false, parse_tinker},
    Directive{"tos", false, parse_tos},
    Directive{"enable", false,
              [](LineCursor& l, ParseState& s) { return parse_enable_disable(l, s, true); }},
    Directive{"disable", false,
              [](LineCursor& l, ParseState& s) { return parse_enable_disable(l, s, false); }},
    Directive{"broadcastclient", false, parse_broadcastclient},
    Directive{"statistics", false, parse_statistics},
    Directive{"filegen", false, parse_filegen},
    Directive{"mru", false, parse_mru},
    Directive{"logconfig", false, parse_logconfig},
    Directive{"crypto", false, warn_unsupported_crypto},
    Directive{"autokey", false, warn_unsupported_crypto},
    Directive{"revoke", false, warn_unsupported_crypto},
    Directive{"ident", false, warn_unsupported_crypto},
    Directive{"keysdir", false, warn_unsupported_crypto},
    Directive{"automax", false, warn_unsupported_crypto},
    Directive{"nts", false, warn_unsupported_crypto},
    Directive{"manycastserver", false, warn_unsupported},
    Directive{"multicastclient", false, parse_multicastclient},
    Directive{"broadcastdelay", false, parse_broadcastdelay},
    Directive{"trap", false, warn_unsupported},
    Directive{"setvar", false, warn_unsupported},
    Directive{"ttl", false, warn_unsupported},
    Directive{"phone", false, warn_unsupported},
    Directive{"saveconfigdir", false, warn_unsupported},
    Directive{"rlimit", false, warn_unsupported},
    Directive{"dscp", false, warn_unsupported},
    Directive{"leapsmearinterval", false, warn_unsupported},
    Directive{"calldelay", false, warn_unsupported},
    Directive{"refclock", false, warn_unsupported},
};

const Directive* find_directive(std::string_view name) {
  for (const auto& directive : kDirectives) {
    if (directive.name == name) return &directive;
  }
  return nullptr;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Lexical normalisation ("a/./b//../c" -> "a/c"), used only to recognise a
// file already on the include stack. Symlinks may hide a cycle from it; the
// depth limit still ends such a loop.
std::string normalize(const std::string& path) {
  std::vector<std::string_view> parts;
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out = !path.empty() && path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

class Parser {
 public:
  explicit Parser(const FileReader& reader) : reader_(reader) {}

  void parse_file(const std::string& path, std::string_view text) {
    if (main_path_.empty()) main_path_ = path;
    if (text.size() > kMaxConfigFileBytes) {
      state_.report({Severity::kError, path, 0, 0,
                     "file is larger than " + std::to_string(kMaxConfigFileBytes) + " bytes"});
      fatal_ = true;
      return;
    }
    stack_.push_back(normalize(path));
    for (const ConfLine& line : tokenize_ntp_conf(text)) parse_line(path, line);
    stack_.pop_back();
  }

  void fail_unreadable(const std::string& path, const std::string& reason) {
    main_path_ = path;
    state_.report({Severity::kError, path, 0, 0, "cannot read the file: " + reason});
    fatal_ = true;
  }

  ParsedConfig finish() {
    finish_refclocks(state_);
    finish_trusted_keys(state_);
    ParsedConfig result;
    result.config = std::move(state_.config);
    result.diagnostics = std::move(state_.diagnostics);
    if (state_.dropped_count > 0) {
      result.diagnostics.push_back(
          {state_.dropped_error_count > 0 ? Severity::kError : Severity::kWarning, main_path_, 0, 0,
           std::to_string(state_.dropped_count) + " more diagnostics not shown (" +
               std::to_string(state_.dropped_error_count) + " of them errors)"});
    }
    result.fatal = fatal_;
    return result;
  }

 private:
  void parse_line(const std::string& path, const ConfLine& line) {
    const Directive* directive =
        line.tokens.empty() ? nullptr : find_directive(line.tokens.front().text);
    const std::size_t errors_before = state_.error_count;
    LineCursor cursor(path, line, state_);
    if (line.error) {
      state_.report({Severity::kError, path, line.line, line.error->column, line.error->message});
    } else if (directive == nullptr) {
      cursor.error(line.tokens.front(),
                   "unknown directive " + quote_for_message(line.tokens.front().text));
    } else if (directive->handler == nullptr) {
      include(cursor);
    } else {
      directive->handler(cursor, state_);
    }
    if (directive != nullptr && directive->fail_closed && state_.error_count > errors_before) {
      fatal_ = true;
    }
  }

  // includefile PATH: relative to the including file's directory. Any
  // failure to read it is fatal: the missing text may have held access
  // control. Errors inside the included file count as that file's own.
  void include(LineCursor& line) {
    std::string path;
    auto text = read_include(line, path);
    if (!text) {
      fatal_ = true;
      return;
    }
    parse_file(path, *text);
  }

  // Resolves, checks and reads the file; on failure reports one error on the
  // includefile line and returns nullopt.
  std::optional<std::string> read_include(LineCursor& line, std::string& path) {
    auto written = line.take_path("includefile");
    if (!written || !line.expect_end()) return std::nullopt;
    const std::string including = line.location().file;
    path = written->front() == '/' ? *written : directory_of(including) + *written;
    const ConfToken& at = line.previous();
    const std::string quoted = "includefile " + quote_for_message(path);
    if (std::find(stack_.begin(), stack_.end(), normalize(path)) != stack_.end()) {
      line.error(at, quoted + " includes itself (directly or through a cycle)");
      return std::nullopt;
    }
    if (static_cast<int>(stack_.size()) > kMaxIncludeDepth) {
      line.error(at,
                 quoted + " is nested deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
      return std::nullopt;
    }
    if (files_included_ >= kMaxIncludedFiles) {
      line.error(at,
                 quoted + ": more than " + std::to_string(kMaxIncludedFiles) + " files included");
      return std::nullopt;
    }
    ++files_included_;
    std::string reason;
    auto text = reader_ ? reader_(path, &reason) : std::nullopt;
    if (!text) {
      line.error(at, "includefile cannot read " + quote_for_message(path) + ": " +
                         (reason.empty() ? "unknown error" : reason));
    }
    return text;
  }

  const FileReader& reader_;
  ParseState state_;
  std::vector<std::string> stack_;  // normalised paths of the files being parsed
  std::string main_path_;
  int files_included_ = 0;
  bool fatal_ = false;
};

}  // namespace
}  // namespace conf_detail

ParsedConfig parse_ntp_conf(const std::string& path, const FileReader& reader) {
  std::string reason;
  const auto text = reader ? reader(path, &reason) : std::nullopt;
  if (!text) {
    conf_detail::Parser parser(reader);
    parser.fail_unreadable(path, reason.empty() ? "unknown error" : reason);
    return parser.finish();
  }
  return parse_ntp_conf_text(path, *text, reader);
}

ParsedConfig parse_ntp_conf_text(const std::string& path_for_messages, std::string_view text,
                                 const FileReader& reader_for_includes) {
  conf_detail::Parser parser(reader_for_includes);
  parser.parse_file(path_for_messages, text);
  return parser.finish();
}

}  // namespace ntpd::common
