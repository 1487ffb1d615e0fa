// The server's request path (see server_path.h).
#include "ntpd-net/server_path.h"

#include "common/ntp_conf.h"

namespace ntpd::net {

AccessConfig access_config_from(const ipc::NetConfig& config, std::vector<std::string>* problems) {
  AccessConfig out;
  if (config.has_access_config()) {
    const auto parsed = common::parse_ntp_conf_text(
        "access-config", config.access_config(),
        [](const std::string&, std::string* error) -> std::optional<std::string> {
          *error = "no includes in the access configuration";
          return std::nullopt;
        });
    for (const auto& d : parsed.diagnostics) problems->push_back(d.to_string());
    out.restrictions = parsed.config.restrictions;
    out.rate_limit = rate_limit_config_from(parsed.config.discard);
    out.mru = mru_limits_from_config(parsed.config.mru);
  } else {
    out.mru = mru_limits_from_config(std::nullopt);
  }
  for (const auto& key : config.keys()) {
    const bool valid_id = key.has_id() && key.id() >= 1 && key.id() <= common::kMaxKeyId;
    const bool valid_type =
        key.has_type() && key.type() <= static_cast<std::uint32_t>(common::KeyType::kAes128Cmac);
    const bool valid_secret =
        key.has_secret() && !key.secret().empty() && key.secret().size() <= common::kMaxKeyBytes;
    if (!valid_id || !valid_type || !valid_secret) {
      problems->push_back("key " + std::to_string(key.id()) +
                          ": invalid id, type or length; skipped");
      continue;
    }
    common::SymmetricKey k;
    k.id = static_cast<std::uint16_t>(key.id());
    k.type = static_cast<common::KeyType>(key.type());
    k.secret = common::SecretBytes(
        std::span(reinterpret_cast<const std::uint8_t*>(key.secret().data()), key.secret().size()));
    out.keys.push_back(std::move(k));
  }
  out.trusted_keys.assign(config.trusted_keys().begin(), config.trusted_keys().end());
  return out;
}

ServerPath::ServerPath(const AccessConfig& config, std::uint64_t hash_seed)
    : access_(config, hash_seed), xleave_(kInterleaveCapacity, ~hash_seed) {}

std::size_t ServerPath::handle(std::span<const std::uint8_t> request, const sockaddr_storage& from,
                               common::UnixNs received, const SystemVars& sys,
                               std::span<std::uint8_t> reply, ReplyNote* note) {
  *note = ReplyNote{};
  note->request_length = request.size();
  const AccessVerdict verdict = access_.check(request, from, received);
  switch (verdict.action) {
    case AccessAction::kDrop:
      ++counters_.dropped;
      return 0;
    case AccessAction::kKod:
      ++counters_.kod;
      return build_rate_kod(request, received, reply);
    case AccessAction::kCryptoNak:
    case AccessAction::kServe:
      break;
  }
  const ServerDecision decision = respond(request, received, received, sys, reply);
  if (decision.action != ServerDecision::Action::kReply) {
    ++counters_.dropped;
    return 0;
  }
  ++counters_.served;
  note->xleave = xleave_.prepare(request, interleave_client_key(from), reply, decision.length);
  if (verdict.action == AccessAction::kCryptoNak) {
    note->crypto_nak = true;
    ++counters_.crypto_nak;
  } else if (verdict.key != nullptr) {
    note->sign_with = verdict.key;
    ++counters_.authenticated;
  }
  return decision.length;
}

std::size_t ServerPath::finalize(std::span<std::uint8_t> reply, std::size_t length,
                                 const ReplyNote& note, common::UnixNs now) {
  if (!note.xleave.interleaved) stamp_transmit(reply.first(length), now);
  std::size_t final_length = length;
  if (note.sign_with != nullptr) {
    final_length = append_mac(reply, length, *note.sign_with);
  } else if (note.crypto_nak) {
    final_length = append_crypto_nak(reply, length);
  }
  // Never larger than the request (no amplification): drop rather than send.
  if (final_length == 0 || final_length > note.request_length) return 0;
  xleave_.sent(note.xleave, now);
  return final_length;
}

}  // namespace ntpd::net
