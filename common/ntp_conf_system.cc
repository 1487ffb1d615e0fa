// ntp.conf system settings: tinker, tos, enable/disable, mru, trustedkey,
// statistics, filegen and logconfig. Every value is range-checked here; a
// line is applied whole or not at all. Pure: nothing is applied to the
// kernel or written anywhere.
#include <algorithm>
#include <iterator>
#include <type_traits>
#include <utility>

#include "common/ntp_conf_internal.h"

namespace ntpd::common::conf_detail {
namespace {

template <typename Table>
auto find_named(const Table& table, std::string_view name) {
  return std::find_if(std::begin(table), std::end(table),
                      [&](const auto& entry) { return entry.name == name; });
}

std::string join_names(const auto& table) {
  std::string out;
  for (const auto& entry : table) {
    if (!out.empty()) out += ", ";
    if constexpr (std::is_convertible_v<decltype(entry), std::string_view>) {
      out += entry;
    } else {
      out += entry.name;
    }
  }
  return out;
}

bool is_statistics_name(std::string_view name) {
  return std::find(std::begin(kStatisticsNames), std::end(kStatisticsNames), name) !=
         std::end(kStatisticsNames);
}

// A trustedkey argument split into '(' ')' '...' and digit runs, keeping
// columns, so "(5...9)", "( 5 ... 9 )" and "(5 ... 9)" all read the same.
struct KeyPiece {
  std::string_view text;
  ConfToken at;  // a token carrying this piece's column, for messages
};

std::vector<KeyPiece> split_key_pieces(const ConfToken& token) {
  std::vector<KeyPiece> pieces;
  const std::string_view text = token.text;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t length = 1;
    if (text.substr(i, 3) == "...") {
      length = 3;
    } else if (text[i] >= '0' && text[i] <= '9') {
      while (i + length < text.size() && text[i + length] >= '0' && text[i + length] <= '9') {
        ++length;
      }
    } else if (text[i] != '(' && text[i] != ')') {
      while (i + length < text.size() &&
             std::string_view("()0123456789").find(text[i + length]) == std::string_view::npos) {
        ++length;
      }
    }
    ConfToken at = token;
    at.column = token.column + static_cast<int>(i) + (token.quoted ? 1 : 0);
    at.text = std::string(text.substr(i, length));
    pieces.push_back({text.substr(i, length), std::move(at)});
    i += length;
  }
  return pieces;
}

}  // namespace

bool parse_tinker(LineCursor& line, ParseState& state) {
  TinkerConfig tinker = state.config.tinker;
  if (line.at_end()) return line.error_missing("tinker expects " + join_names(kTinkerFields));
  while (!line.at_end()) {
    const ConfToken& name = line.take();
    const auto field = find_named(kTinkerFields, name.text);
    if (field == std::end(kTinkerFields)) {
      return line.error(name, "unknown tinker option " + quote_for_message(name.text) +
                                  "; expected " + join_names(kTinkerFields));
    }
    const auto value = line.take_double("tinker " + name.text, field->lo, field->hi);
    if (!value) return false;
    tinker.*(field->member) = *value;
  }
  state.config.tinker = tinker;
  return true;
}

bool parse_tos(LineCursor& line, ParseState& state) {
  TosConfig tos = state.config.tos;
  const std::string expected =
      join_names(kTosIntFields) + ", " + join_names(kTosDoubleFields) + " or cohort";
  if (line.at_end()) return line.error_missing("tos expects " + expected);
  while (!line.at_end()) {
    const ConfToken& name = line.take();
    const std::string what = "tos " + name.text;
    if (const auto field = find_named(kTosIntFields, name.text); field != std::end(kTosIntFields)) {
      const auto value = line.take_int(what, field->lo, field->hi);
      if (!value) return false;
      tos.*(field->member) = static_cast<int>(*value);
    } else if (const auto dfield = find_named(kTosDoubleFields, name.text);
               dfield != std::end(kTosDoubleFields)) {
      const auto value = line.take_double(what, 0, kUnbounded);
      if (!value) return false;
      tos.*(dfield->member) = *value;
    } else if (name.text == "cohort") {
      const auto value = line.take_bool01(what);
      if (!value) return false;
      tos.cohort = *value;
    } else {
      return line.error(
          name, "unknown tos option " + quote_for_message(name.text) + "; expected " + expected);
    }
  }
  if (tos.minclock && tos.maxclock && *tos.minclock > *tos.maxclock) {
    line.warning(line.directive(), "tos minclock " + std::to_string(*tos.minclock) +
                                       " is larger than maxclock " + std::to_string(*tos.maxclock));
  }
  if (tos.floor && tos.ceiling && *tos.floor > *tos.ceiling) {
    line.warning(line.directive(), "tos floor " + std::to_string(*tos.floor) +
                                       " is larger than ceiling " + std::to_string(*tos.ceiling));
  }
  state.config.tos = tos;
  return true;
}

bool parse_enable_disable(LineCursor& line, ParseState& state, bool enable) {
  SystemFlags flags = state.config.flags;
  const std::string what(line.directive().text);
  if (line.at_end()) return line.error_missing(what + " expects " + join_names(kSystemFlagFields));
  while (!line.at_end()) {
    const ConfToken& name = line.take();
    const auto field = find_named(kSystemFlagFields, name.text);
    if (field == std::end(kSystemFlagFields)) {
      return line.error(name, what + " expects " + join_names(kSystemFlagFields) + ", got " +
                                  quote_for_message(name.text));
    }
    if (enable && name.text == "mode7") {
      line.warning(name, "mode 7 is not implemented; 'enable mode7' has no effect");
    }
    flags.*(field->member) = enable;
  }
  state.config.flags = flags;
  return true;
}

bool parse_mru(LineCursor& line, ParseState& state) {
  MruConfig mru = state.config.mru.value_or(MruConfig{});
  if (line.at_end()) return line.error_missing("mru expects " + join_names(kMruFields));
  while (!line.at_end()) {
    const ConfToken& name = line.take();
    const auto field = find_named(kMruFields, name.text);
    if (field == std::end(kMruFields)) {
      return line.error(name, "unknown mru option " + quote_for_message(name.text) + "; expected " +
                                  join_names(kMruFields));
    }
    const auto value = line.take_int("mru " + name.text, 0, kIntMax);
    if (!value) return false;
    mru.*(field->member) = *value;
  }
  state.config.mru = mru;
  return true;
}

// trustedkey 1 2 (5 ... 9): key ids 1..65535 and inclusive ranges.
bool parse_trustedkey(LineCursor& line, ParseState& state) {
  const std::string expected = "trustedkey expects key ids 1..65535 or ranges like (5 ... 9)";
  if (line.at_end()) return line.error_missing(expected);
  std::vector<KeyPiece> pieces;
  while (!line.at_end()) {
    auto more = split_key_pieces(line.take());
    std::move(more.begin(), more.end(), std::back_inserter(pieces));
  }
  auto key_at = [&](std::size_t i) -> std::optional<std::uint32_t> {
    if (i >= pieces.size()) return std::nullopt;
    const auto value = parse_int(pieces[i].text);
    if (!value || *value < 1 || *value > 65535) return std::nullopt;
    return static_cast<std::uint32_t>(*value);
  };
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  for (std::size_t i = 0; i < pieces.size();) {
    if (pieces[i].text != "(") {
      const auto key = key_at(i);
      if (!key) {
        return line.error(pieces[i].at, expected + ", got " + quote_for_message(pieces[i].text));
      }
      ranges.emplace_back(*key, *key);
      ++i;
      continue;
    }
    const auto first = key_at(i + 1);
    const auto last = key_at(i + 3);
    const bool shaped =
        i + 4 < pieces.size() && pieces[i + 2].text == "..." && pieces[i + 4].text == ")";
    if (!first || !last || !shaped || *first > *last) {
      return line.error(pieces[i].at, expected + " (a range is '(' low '...' high ')')");
    }
    ranges.emplace_back(*first, *last);
    i += 5;
  }
  for (auto [first, last] : ranges) {
    // Whole words at a time: at most 1024 steps per range.
    for (std::uint32_t key = first; key <= last;) {
      auto& word = state.trusted_key_bits[key / 64];
      const std::uint32_t bit = key % 64;
      const std::uint32_t count = std::min<std::uint32_t>(64 - bit, last - key + 1);
      const std::uint64_t ones = count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
      word |= ones << bit;
      key += count;
    }
  }
  return true;
}

void finish_trusted_keys(ParseState& state) {
  auto& keys = state.config.trusted_keys;
  keys.clear();
  for (std::uint32_t key = 1; key <= 65535; ++key) {
    if (test_bit(state.trusted_key_bits, key)) keys.push_back(key);
  }
}

bool parse_statistics(LineCursor& line, ParseState& state) {
  const std::string expected = "statistics expects " + join_names(kStatisticsNames);
  if (line.at_end()) return line.error_missing(expected);
  std::vector<std::string> names;
  while (!line.at_end()) {
    const ConfToken& name = line.take();
    if (!is_statistics_name(name.text)) {
      return line.error(name, expected + ", got " + quote_for_message(name.text));
    }
    names.push_back(name.text);
  }
  auto& statistics = state.config.statistics;
  for (auto& name : names) {
    if (std::find(statistics.begin(), statistics.end(), name) == statistics.end()) {
      statistics.push_back(std::move(name));
    }
  }
  return true;
}

// filegen NAME [file F] [type T] [link|nolink] [enable|disable]
bool parse_filegen(LineCursor& line, ParseState& state) {
  const std::string expected = "filegen expects " + join_names(kStatisticsNames);
  if (line.at_end()) return line.error_missing(expected);
  const ConfToken& name = line.take();
  if (!is_statistics_name(name.text)) {
    return line.error(name, expected + ", got " + quote_for_message(name.text));
  }
  auto& filegens = state.config.filegens;
  auto existing = std::find_if(filegens.begin(), filegens.end(),
                               [&](const FilegenConfig& f) { return f.name == name.text; });
  FilegenConfig filegen;
  if (existing != filegens.end()) filegen = *existing;
  filegen.name = name.text;
  while (!line.at_end()) {
    const ConfToken& option = line.take();
    if (option.text == "file") {
      auto file = line.take_path("filegen file");
      if (!file) return false;
      if (file->find('/') != std::string::npos) {
        return line.error(line.previous(), "filegen file expects a name inside statsdir, got " +
                                               quote_for_message(*file));
      }
      filegen.file = std::move(*file);
    } else if (option.text == "type") {
      const std::string types = "filegen type expects " + join_names(kFilegenTypes);
      if (line.at_end()) return line.error_missing(types);
      const ConfToken& type = line.take();
      const auto known = find_named(kFilegenTypes, type.text);
      if (known == std::end(kFilegenTypes)) {
        return line.error(type, types + ", got " + quote_for_message(type.text));
      }
      filegen.type = known->type;
    } else if (option.text == "link" || option.text == "nolink") {
      filegen.link = option.text == "link";
    } else if (option.text == "enable" || option.text == "disable") {
      filegen.enabled = option.text == "enable";
    } else {
      return line.error(option, "unknown filegen option " + quote_for_message(option.text) +
                                    "; expected file, type, link, nolink, enable or disable");
    }
  }
  if (existing != filegens.end()) {
    *existing = std::move(filegen);
  } else {
    filegens.push_back(std::move(filegen));
  }
  return true;
}

// logconfig =syncall +clockall -peerinfo: kept as written for the logger.
bool parse_logconfig(LineCursor& line, ParseState& state) {
  const std::string expected = "logconfig expects classes like =syncall or +clockall";
  if (line.at_end()) return line.error_missing(expected);
  std::vector<std::string> items;
  while (!line.at_end()) {
    const ConfToken& item = line.take();
    std::string_view word = item.text;
    if (!word.empty() && (word[0] == '=' || word[0] == '+' || word[0] == '-'))
      word.remove_prefix(1);
    if (word.empty() || word.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != word.npos) {
      return line.error(item, expected + ", got " + quote_for_message(item.text));
    }
    items.push_back(item.text);
  }
  auto& log_config = state.config.log_config;
  log_config.insert(log_config.end(), items.begin(), items.end());
  return true;
}

}  // namespace ntpd::common::conf_detail
