// Sealing secrets at rest: XChaCha20-Poly1305 (libsodium AEAD) under the master key, with
// the owning agent id and the field name as associated data, so a ciphertext moved to
// another row or field fails to open.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace herald::secrets {

// A 32-byte master key. Its id (first 8 hex chars of BLAKE2b keyed with the key over a fixed
// context string) is written into every sealed value so rotation can tell which key sealed
// what. The bytes live in one sodium_malloc'd, read-only, mlocked block shared by copies and
// wiped (sodium_free) when the last copy goes.
class MasterKey {
 public:
  static constexpr std::size_t kSize = 32;
  static MasterKey generate();
  // Accepts standard base64 (with or without padding) of exactly 32 bytes.
  static Result<MasterKey> from_base64(std::string_view b64);
  std::string to_base64() const;
  const std::string& id() const { return id_; }
  const unsigned char* data() const { return bytes_.get(); }

  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

 private:
  explicit MasterKey(const unsigned char* bytes);
  std::shared_ptr<unsigned char> bytes_;
  std::string id_;
};

// Where the master key came from.
struct LoadedKey {
  MasterKey key;
  bool generated = false;  // a new key file was written
  std::string source;      // "HERALD_MASTER_KEY" or the key file path
};

// Loads the master key: HERALD_MASTER_KEY (base64) if given, else the key file; if neither
// exists, generates a key and writes the file with mode 0600 (creating its directory).
// A key file readable by group/others is refused with a clear error.
Result<LoadedKey> load_master_key(std::string_view env_value,
                                  const std::filesystem::path& key_file);

// Seals and opens secrets. Sealed form: "v1.<key id>.<payload>", the payload being
// nonce || ciphertext in unpadded URL-safe base64.
class Sealer {
 public:
  // `current` seals; `previous` keys can still open (during rotation).
  explicit Sealer(MasterKey current, std::vector<MasterKey> previous = {});

  std::string seal(std::string_view plaintext, std::string_view agent_id,
                   std::string_view field) const;
  // Fails with Errc::crypto (message never contains the secret) when the value was sealed
  // for another agent/field, under an unknown key, or was tampered with.
  Result<Secret> open(std::string_view sealed, std::string_view agent_id,
                      std::string_view field) const;
  // True when `sealed` was not sealed under the current key.
  bool needs_rotation(std::string_view sealed) const;
  const MasterKey& current() const { return current_; }

 private:
  MasterKey current_;
  std::vector<MasterKey> previous_;
};

}  // namespace herald::secrets
