// The cryptography the sandbox signs its event posts with, as each provider does: HMAC
// (Svix, Mailgun, Twilio), ECDSA P-256 (SendGrid), random secrets, base64 and hex. Written
// for the sandbox on OpenSSL, apart from the webhook twins' verifiers, so a test that signs
// here and verifies there checks one against the other. Internal to src/sandbox.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace herald::sandbox {

// Standard base64 with padding.
std::string base64_encode(std::string_view bytes);
// Lowercase hex.
std::string hex_encode(std::string_view bytes);
// `n` bytes from OpenSSL's CSPRNG (secrets, unlike the ids of random_hex()).
std::string random_bytes(std::size_t n);

// Raw HMAC-SHA256 and HMAC-SHA1 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha1(std::string_view key, std::string_view data);

// An EC P-256 key pair (SendGrid's Event Webhook signing key). Immutable once made, so one
// key may sign on several threads.
class EcKey {
 public:
  // A fresh key pair; aborts if OpenSSL cannot make one (nothing to recover from).
  static std::shared_ptr<const EcKey> generate();
  ~EcKey();
  EcKey(const EcKey&) = delete;
  EcKey& operator=(const EcKey&) = delete;

  // Base64 of the public key's DER SubjectPublicKeyInfo, as SendGrid shows it.
  const std::string& public_key() const { return public_key_; }
  // A DER ECDSA signature of SHA-256(content).
  std::string sign(std::string_view content) const;

 private:
  explicit EcKey(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string public_key_;
};

}  // namespace herald::sandbox
