#include "app/unsubscribe.h"

#include <sodium.h>

#include <cstring>
#include <vector>

#include "app/agents.h"
#include "app/suppressions.h"

namespace herald::app {

namespace {

constexpr unsigned char kVersion = 1;
constexpr std::size_t kTagBytes = 4;
constexpr std::size_t kSivBytes = crypto_stream_xchacha20_NONCEBYTES;  // 24
constexpr std::size_t kHeaderBytes = 1 + kTagBytes + kSivBytes;
constexpr std::size_t kMaxTokenChars = 1024;
constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "heraldun";

static_assert(secrets::MasterKey::kSize == crypto_kdf_KEYBYTES);

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

char channel_byte(Channel c) {
  return c == Channel::email ? 'e' : 's';
}

}  // namespace

UnsubscribeSigner::UnsubscribeSigner(const secrets::MasterKey& key) {
  if (sodium_init() < 0) std::abort();  // no randomness source: nothing can work
  crypto_kdf_derive_from_key(mac_key_, sizeof mac_key_, 1, kContext, key.data());
  crypto_kdf_derive_from_key(enc_key_, sizeof enc_key_, 2, kContext, key.data());
  // The tag only tells keys apart; it reveals nothing about them.
  unsigned char h[crypto_generichash_BYTES_MIN];
  static constexpr char kTagInput[] = "herald unsubscribe key tag";
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(kTagInput),
                     sizeof kTagInput - 1, mac_key_, sizeof mac_key_);
  std::memcpy(tag_, h, kTagBytes);
}

UnsubscribeSigner::~UnsubscribeSigner() {
  sodium_memzero(mac_key_, sizeof mac_key_);
  sodium_memzero(enc_key_, sizeof enc_key_);
}

std::string UnsubscribeSigner::token(const std::string& agent_id, Channel channel,
                                     std::string_view address) const {
  return token_of_normalized(
      agent_id, channel,
      normalize_address(channel, address).value_or(store::suppression_key(channel, address)));
}

std::string UnsubscribeSigner::token_of_normalized(const std::string& agent_id, Channel channel,
                                                   std::string_view normalized) const {
  std::size_t id_len = std::min<std::size_t>(agent_id.size(), 255);
  std::vector<unsigned char> plain;
  plain.reserve(2 + id_len + normalized.size());
  plain.push_back(static_cast<unsigned char>(channel_byte(channel)));
  plain.push_back(static_cast<unsigned char>(id_len));
  plain.insert(plain.end(), agent_id.begin(),
               agent_id.begin() + static_cast<std::ptrdiff_t>(id_len));
  plain.insert(plain.end(), normalized.begin(), normalized.end());

  std::vector<unsigned char> out(kHeaderBytes + plain.size());
  out[0] = kVersion;
  std::memcpy(&out[1], tag_, kTagBytes);
  unsigned char* siv = &out[1 + kTagBytes];
  // SIV: the nonce is a MAC of the whole content, so equal inputs give equal tokens and any
  // change to the ciphertext changes what the MAC check expects.
  crypto_generichash_state st;
  crypto_generichash_init(&st, mac_key_, sizeof mac_key_, kSivBytes);
  crypto_generichash_update(&st, out.data(), 1 + kTagBytes);
  crypto_generichash_update(&st, plain.data(), plain.size());
  crypto_generichash_final(&st, siv, kSivBytes);
  crypto_stream_xchacha20_xor(&out[kHeaderBytes], plain.data(), plain.size(), siv, enc_key_);
  return base64url(out.data(), out.size());
}

std::optional<UnsubscribeTarget> UnsubscribeSigner::read(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenChars) return std::nullopt;
  std::vector<unsigned char> raw(token.size());
  std::size_t n = 0;
  if (sodium_base642bin(raw.data(), raw.size(), token.data(), token.size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  if (n < kHeaderBytes + 3 || raw[0] != kVersion || std::memcmp(&raw[1], tag_, kTagBytes) != 0) {
    return std::nullopt;
  }
  const unsigned char* siv = &raw[1 + kTagBytes];
  std::vector<unsigned char> plain(n - kHeaderBytes);
  crypto_stream_xchacha20_xor(plain.data(), &raw[kHeaderBytes], plain.size(), siv, enc_key_);
  unsigned char expected[kSivBytes];
  crypto_generichash_state st;
  crypto_generichash_init(&st, mac_key_, sizeof mac_key_, kSivBytes);
  crypto_generichash_update(&st, raw.data(), 1 + kTagBytes);
  crypto_generichash_update(&st, plain.data(), plain.size());
  crypto_generichash_final(&st, expected, kSivBytes);
  if (sodium_memcmp(expected, siv, kSivBytes) != 0) return std::nullopt;

  // Authentic: parse what we wrote.
  UnsubscribeTarget t;
  if (plain[0] == 'e')
    t.channel = Channel::email;
  else if (plain[0] == 's')
    t.channel = Channel::sms;
  else
    return std::nullopt;
  std::size_t id_len = plain[1];
  if (2 + id_len >= plain.size()) return std::nullopt;
  t.agent_id.assign(reinterpret_cast<const char*>(&plain[2]), id_len);
  t.address.assign(reinterpret_cast<const char*>(&plain[2 + id_len]), plain.size() - 2 - id_len);
  return t;
}

std::string unsubscribe_url(const App& app, const UnsubscribeSigner& signer,
                            const std::string& agent_id, Channel channel,
                            const std::string& address) {
  return app.config().public_url + "/u/" + signer.token(agent_id, channel, address);
}

std::string contact_unsubscribe_url(const App& app, const UnsubscribeSigner& signer,
                                    const std::string& agent_id, Channel channel,
                                    const std::string& stored_address) {
  // Stored phones went through to_e164 and stored emails only need their case folded: the
  // suppression key is their normalized form.
  return app.config().public_url + "/u/" +
         signer.token_of_normalized(agent_id, channel,
                                    store::suppression_key(channel, stored_address));
}

std::string unsubscribe_url(const App& app, const std::string& agent_id, Channel channel,
                            const std::string& address) {
  UnsubscribeSigner signer(app.sealer().current());
  return unsubscribe_url(app, signer, agent_id, channel, address);
}

std::optional<UnsubscribeTarget> read_unsubscribe_token(std::span<const secrets::MasterKey> keys,
                                                        std::string_view token) {
  for (const auto& key : keys) {
    UnsubscribeSigner signer(key);
    if (auto t = signer.read(token)) return t;
  }
  return std::nullopt;
}

std::string mask_address(Channel channel, std::string_view address) {
  if (channel == Channel::sms) {
    return address.size() > 4 ? "•••• " + std::string(address.substr(address.size() - 4)) : "••••";
  }
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return "•••";
  // The first character of the mailbox and the whole domain: enough to recognise, little to learn.
  std::string out(address.substr(0, 1));
  out += "•••";
  out += address.substr(at);
  return out;
}

namespace {

Result<UnsubscribePage> page_for(App& app, std::string_view token) {
  const secrets::MasterKey keys[] = {app.sealer().current()};
  auto target = read_unsubscribe_token(keys, token);
  if (!target) return fail(Error::not_found("this unsubscribe link is not valid"));
  auto rec = app.store().find_agent(target->agent_id);
  if (!rec) return std::unexpected(rec.error());
  if (!*rec) return fail(Error::not_found("this unsubscribe link is not valid"));
  UnsubscribePage page;
  // The name the recipient saw as the sender: the agent's company, else the platform's.
  page.company_name =
      (*rec)->branding.company_name.empty() ? app.platform().name : (*rec)->branding.company_name;
  page.masked_address = mask_address(target->channel, target->address);
  page.target = std::move(*target);
  return page;
}

}  // namespace

Result<UnsubscribePage> unsubscribe_page(App& app, std::string_view token) {
  auto page = page_for(app, token);
  if (!page) return page;
  auto suppressed = app.store().contacts().is_suppressed(
      page->target.agent_id, page->target.channel, page->target.address);
  if (!suppressed) return std::unexpected(suppressed.error());
  page->unsubscribed = *suppressed;
  return page;
}

Result<UnsubscribePage> unsubscribe(App& app, std::string_view token, std::string source) {
  auto page = page_for(app, token);
  if (!page) return page;
  auto r = suppress(app, page->target.agent_id, page->target.channel, page->target.address,
                    store::SuppressionReason::unsubscribed, std::move(source));
  if (!r) return std::unexpected(r.error());
  page->unsubscribed = true;
  return page;
}

}  // namespace herald::app
