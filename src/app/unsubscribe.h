// Unsubscribe links: stateless tokens bound to (agent, channel, address), and the services
// behind the public /u/{token} pages (show a confirmation, unsubscribe in one click).
//
// A token is unpadded URL-safe base64 of
//   version (1) || key tag (4) || siv (24) || XChaCha20(enc key, nonce = siv, plaintext)
// where plaintext = channel (1) || agent id length (1) || agent id || address, and
// siv = BLAKE2b-192 keyed with the MAC key over version || key tag || plaintext. Both keys are
// derived from the master key (crypto_kdf, context "heraldun"), so tokens are unguessable and
// unforgeable, hide the address they carry, and are the same for the same recipient. The key
// tag names the master key, so tokens made before a key rotation still verify as long as the
// old key is passed to read_unsubscribe_token.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "app/app.h"

namespace herald::app {

// Who a token unsubscribes.
struct UnsubscribeTarget {
  std::string agent_id;
  Channel channel = Channel::email;
  std::string address;  // normalized: email lowercased, phone E.164
};

// Makes tokens and URLs under one master key; derive once, then cheap per recipient (the
// campaign sender makes one per batch).
class UnsubscribeSigner {
 public:
  explicit UnsubscribeSigner(const secrets::MasterKey& key);
  ~UnsubscribeSigner();
  UnsubscribeSigner(const UnsubscribeSigner&) = delete;
  UnsubscribeSigner& operator=(const UnsubscribeSigner&) = delete;

  // The token for (agent, channel, address); the address is normalized first.
  std::string token(const std::string& agent_id, Channel channel, std::string_view address) const;
  // The token for an address already normalized (see normalize_address), without checking it
  // again (for a phone, a libphonenumber parse).
  std::string token_of_normalized(const std::string& agent_id, Channel channel,
                                  std::string_view normalized) const;
  // The target a token names, if this key made it and it is intact.
  std::optional<UnsubscribeTarget> read(std::string_view token) const;
  // The key tag tokens made by this signer carry.
  const unsigned char* tag() const { return tag_; }

 private:
  unsigned char mac_key_[32];
  unsigned char enc_key_[32];
  unsigned char tag_[4];
};

// The recipient's unsubscribe link: config().public_url + "/u/" + token.
std::string unsubscribe_url(const App& app, const std::string& agent_id, Channel channel,
                            const std::string& address);
// Same with a signer made once (for many recipients).
std::string unsubscribe_url(const App& app, const UnsubscribeSigner& signer,
                            const std::string& agent_id, Channel channel,
                            const std::string& address);

// The link for a contact's address as the contact store keeps it (a phone already in E.164,
// an email in any case): the same link as unsubscribe_url, for the send path's many recipients.
std::string contact_unsubscribe_url(const App& app, const UnsubscribeSigner& signer,
                                    const std::string& agent_id, Channel channel,
                                    const std::string& stored_address);

// Reads a token made under any of `keys` (the current master key and, during a rotation, the
// previous ones). Constant-time in the secret parts; nullopt for anything forged or garbled.
std::optional<UnsubscribeTarget> read_unsubscribe_token(std::span<const secrets::MasterKey> keys,
                                                        std::string_view token);

// What the public page shows about a token.
struct UnsubscribePage {
  UnsubscribeTarget target;
  std::string company_name;    // the sender as the recipient knows it
  std::string masked_address;  // e.g. j•••@example.com, •••• 4567
  bool unsubscribed = false;   // already suppressed (for any reason)
};

// The page for a valid token; Errc::not_found for an invalid token or a deleted agent.
Result<UnsubscribePage> unsubscribe_page(App& app, std::string_view token);
// Suppresses the token's address for its agent and channel (reason unsubscribed); idempotent.
// `source` records how: "unsubscribe page" or "one-click" (RFC 8058).
Result<UnsubscribePage> unsubscribe(App& app, std::string_view token, std::string source);

// The address with most of it hidden, for pages anyone holding the link may see.
std::string mask_address(Channel channel, std::string_view address);

}  // namespace herald::app
