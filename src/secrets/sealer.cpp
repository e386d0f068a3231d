// Sealing and opening secrets with XChaCha20-Poly1305 under the master key, bound to the
// owning agent and field through the associated data.
#include "secrets/sealer.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "secrets/sodium_init.h"

namespace herald::secrets {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr std::size_t kKeyIdLen = 8;
constexpr std::size_t kNonceLen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagLen = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr int kB64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// Associated data: agent id, a NUL, the field name. Agent ids are UUIDs and field names are
// identifiers, neither holds a NUL, so the pair is encoded unambiguously.
std::string associated_data(std::string_view agent_id, std::string_view field) {
  std::string ad;
  ad.reserve(agent_id.size() + 1 + field.size());
  ad.append(agent_id);
  ad.push_back('\0');
  ad.append(field);
  return ad;
}

// The parts of "v1.<key id>.<payload>"; empty key_id when the text is not in that form.
struct Parsed {
  std::string_view key_id;
  std::string_view payload;
};

Parsed parse(std::string_view sealed) {
  const std::size_t prefix = kVersion.size() + 1 + kKeyIdLen + 1;
  if (sealed.size() <= prefix || !sealed.starts_with(kVersion) || sealed[kVersion.size()] != '.' ||
      sealed[prefix - 1] != '.') {
    return {};
  }
  const auto id = sealed.substr(kVersion.size() + 1, kKeyIdLen);
  const bool hex = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (!hex) return {};
  return {id, sealed.substr(prefix)};
}

Error crypto_error(std::string message) {
  return Error{Errc::crypto, std::move(message)};
}

}  // namespace

Sealer::Sealer(MasterKey current, std::vector<MasterKey> previous)
    : current_(std::move(current)), previous_(std::move(previous)) {
  detail::ensure_sodium();
}

std::string Sealer::seal(std::string_view plaintext, std::string_view agent_id,
                         std::string_view field) const {
  const std::string ad = associated_data(agent_id, field);

  // nonce || ciphertext (with its 16-byte tag); a random 192-bit nonce never repeats in practice.
  std::string raw(kNonceLen + plaintext.size() + kTagLen, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
  randombytes_buf(nonce, kNonceLen);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceLen, &ct_len, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
      nonce, current_.data());

  std::string b64(sodium_base64_ENCODED_LEN(raw.size(), kB64), '\0');
  sodium_bin2base64(b64.data(), b64.size(), nonce, raw.size(), kB64);
  b64.resize(std::strlen(b64.c_str()));

  std::string out;
  out.reserve(kVersion.size() + 2 + kKeyIdLen + b64.size());
  out.append(kVersion).append(".").append(current_.id()).append(".").append(b64);
  return out;
}

Result<Secret> Sealer::open(std::string_view sealed, std::string_view agent_id,
                            std::string_view field) const {
  const Parsed p = parse(sealed);
  if (p.key_id.empty()) return fail(crypto_error("sealed value is not in the v1 format"));

  // Pick the key that sealed it: the current one or one kept for rotation.
  const MasterKey* key = nullptr;
  if (current_.id() == p.key_id) {
    key = &current_;
  } else {
    for (const auto& k : previous_) {
      if (k.id() == p.key_id) {
        key = &k;
        break;
      }
    }
  }
  if (key == nullptr) {
    return fail(crypto_error("sealed value uses unknown master key " + std::string(p.key_id)));
  }

  std::string raw(p.payload.size(), '\0');  // decoded size ≤ encoded size
  std::size_t raw_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), p.payload.data(),
                        p.payload.size(), nullptr, &raw_len, nullptr, kB64) != 0 ||
      raw_len < kNonceLen + kTagLen) {
    return fail(crypto_error("sealed value is not in the v1 format"));
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw.data());
  const std::string ad = associated_data(agent_id, field);

  // Decrypt straight into the Secret's buffer so no other copy of the plaintext is made.
  Secret out{std::string(raw_len - kNonceLen - kTagLen, '\0')};
  auto* plain = reinterpret_cast<unsigned char*>(const_cast<char*>(out.reveal().data()));
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain, &plain_len, nullptr, nonce + kNonceLen, raw_len - kNonceLen,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce, key->data()) != 0) {
    return fail(crypto_error(
        "sealed value failed authentication (sealed for another agent or field, or altered)"));
  }
  return out;
}

bool Sealer::needs_rotation(std::string_view sealed) const {
  return parse(sealed).key_id != current_.id();
}

}  // namespace herald::secrets
