// The master key: generation, base64 import/export, its id, and loading it from the
// environment or a key file (generated with mode 0600 on first start).
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "secrets/sealer.h"
#include "secrets/sodium_init.h"

namespace herald::secrets {
namespace {

namespace fs = std::filesystem;

// Fixed context hashed under the key to derive its public id. Changing it changes every id.
constexpr std::string_view kKeyIdContext = "herald master key id v1";

constexpr std::string_view kEnvName = "HERALD_MASTER_KEY";

// A sodium_malloc'd block (guard pages, mlocked, wiped by sodium_free) holding the key.
std::shared_ptr<unsigned char> secure_copy(const unsigned char* bytes) {
  detail::ensure_sodium();
  auto* p = static_cast<unsigned char*>(sodium_malloc(MasterKey::kSize));
  if (p == nullptr) std::abort();  // out of memory for 32 bytes: nothing sensible to do
  std::memcpy(p, bytes, MasterKey::kSize);
  sodium_mprotect_readonly(p);
  return std::shared_ptr<unsigned char>(p, [](unsigned char* q) { sodium_free(q); });
}

// Strips ASCII whitespace around a value (key files usually end with a newline).
std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::string mode_text(mode_t mode) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buf.data();
}

// Reads a key file, refusing one that group or others may access. Opening first and checking
// the opened file (fstat) avoids a race between the check and the read.
Result<MasterKey> read_key_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::config,
                "cannot open master key file " + path.string() + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::config, "master key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return fail(Errc::config, "master key file " + path.string() +
                                  " is accessible by group or others (mode " +
                                  mode_text(st.st_mode) + "); run: chmod 600 " + path.string());
  }
  // A key file is ~45 bytes; anything much larger is not a key file.
  std::array<char, 512> buf{};
  std::size_t len = 0;
  while (len < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      sodium_memzero(buf.data(), buf.size());
      return fail(Errc::config,
                  "cannot read master key file " + path.string() + ": " + errno_text(err));
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  auto key = MasterKey::from_base64(std::string_view(buf.data(), len));
  sodium_memzero(buf.data(), buf.size());
  if (!key) {
    return fail(Errc::config,
                "master key file " + path.string() + " does not hold a base64-encoded 32-byte key");
  }
  return key;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Makes a rename durable by syncing the directory that holds the file.
void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

enum class Publish { done, exists, failed };

// Moves `tmp` to `path` only if `path` does not exist yet, so two processes starting at once
// cannot both install (different) keys: the loser sees `exists` and loads the winner's.
Publish publish_no_replace(const fs::path& tmp, const fs::path& path, int& err) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
    return Publish::done;
  }
  err = errno;
  if (err == EEXIST) return Publish::exists;
  if (err != EINVAL && err != ENOSYS) return Publish::failed;
  // Filesystems without RENAME_NOREPLACE: link() also refuses to replace.
  if (::link(tmp.c_str(), path.c_str()) == 0) {
    ::unlink(tmp.c_str());
    return Publish::done;
  }
  err = errno;
  return err == EEXIST ? Publish::exists : Publish::failed;
}

// Generates a key and installs it at `path` atomically with mode 0600: write a temp file
// (O_CREAT|O_EXCL, 0600), fsync it, move it into place without replacing, sync the directory.
Result<LoadedKey> generate_key_file(const fs::path& path) {
  std::error_code ec;
  const fs::path dir = path.parent_path();
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) {
      return fail(Errc::config, "cannot create directory " + dir.string() +
                                    " for the master key file: " + ec.message());
    }
  }

  MasterKey key = MasterKey::generate();
  std::string text = key.to_base64() + "\n";

  std::array<unsigned char, 8> rnd{};
  randombytes_buf(rnd.data(), rnd.size());
  std::array<char, 2 * 8 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), rnd.data(), rnd.size());
  const fs::path tmp = path.string() + ".tmp-" + hex.data();

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    sodium_memzero(text.data(), text.size());
    return fail(Errc::config,
                "cannot create master key file " + tmp.string() + ": " + errno_text(errno));
  }
  // umask can only remove bits from 0600, but be explicit in case the file system adds some.
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const int write_err = errno;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!written) {
    ::unlink(tmp.c_str());
    return fail(Errc::config,
                "cannot write master key file " + tmp.string() + ": " + errno_text(write_err));
  }

  int err = 0;
  switch (publish_no_replace(tmp, path, err)) {
    case Publish::done:
      fsync_dir(dir);
      return LoadedKey{std::move(key), true, path.string()};
    case Publish::exists: {
      // Another process installed a key first; use that one.
      ::unlink(tmp.c_str());
      auto theirs = read_key_file(path);
      if (!theirs) return fail(theirs.error());
      return LoadedKey{std::move(*theirs), false, path.string()};
    }
    case Publish::failed:
      break;
  }
  ::unlink(tmp.c_str());
  return fail(Errc::config,
              "cannot install master key file " + path.string() + ": " + errno_text(err));
}

}  // namespace

MasterKey::MasterKey(const unsigned char* bytes) : bytes_(secure_copy(bytes)) {
  // The id is BLAKE2b keyed with the master key over a fixed context: it identifies the key
  // without revealing anything about it.
  std::array<unsigned char, crypto_generichash_BYTES> h{};
  crypto_generichash(h.data(), h.size(),
                     reinterpret_cast<const unsigned char*>(kKeyIdContext.data()),
                     kKeyIdContext.size(), bytes_.get(), kSize);
  std::array<char, 2 * 4 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), h.data(), 4);
  id_ = hex.data();
}

MasterKey::~MasterKey() = default;  // the shared block is wiped by sodium_free

MasterKey MasterKey::generate() {
  detail::ensure_sodium();
  std::array<unsigned char, kSize> raw{};
  crypto_aead_xchacha20poly1305_ietf_keygen(raw.data());
  MasterKey key(raw.data());
  sodium_memzero(raw.data(), raw.size());
  return key;
}

Result<MasterKey> MasterKey::from_base64(std::string_view b64) {
  detail::ensure_sodium();
  b64 = trim(b64);
  // Standard base64 with or without padding; URL-safe alphabets are accepted too.
  constexpr int kVariants[] = {
      sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
  // One spare byte so an over-long input is detected instead of silently truncated.
  std::array<unsigned char, kSize + 1> raw{};
  for (const int variant : kVariants) {
    std::size_t len = 0;
    if (sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                          variant) == 0 &&
        len == kSize) {
      MasterKey key(raw.data());
      sodium_memzero(raw.data(), raw.size());
      return key;
    }
  }
  sodium_memzero(raw.data(), raw.size());
  return fail(Errc::config, "master key is not base64 of exactly 32 bytes");
}

std::string MasterKey::to_base64() const {
  std::string out(sodium_base64_ENCODED_LEN(kSize, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes_.get(), kSize, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<LoadedKey> load_master_key(std::string_view env_value, const fs::path& key_file) {
  if (!trim(env_value).empty()) {
    auto key = MasterKey::from_base64(env_value);
    if (!key) {
      return fail(Errc::config, std::string(kEnvName) +
                                    " is malformed: expected standard base64 of 32 random bytes "
                                    "(e.g. the output of `openssl rand -base64 32`)");
    }
    return LoadedKey{std::move(*key), false, std::string(kEnvName)};
  }
  if (key_file.empty()) {
    return fail(Errc::config,
                "no master key: set " + std::string(kEnvName) + " or configure a key file");
  }
  std::error_code ec;
  const auto st = fs::symlink_status(key_file, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fail(Errc::config,
                "cannot inspect master key file " + key_file.string() + ": " + ec.message());
  }
  if (!fs::exists(st)) return generate_key_file(key_file);
  // Present (possibly as a symbolic link, which is followed; a dangling one fails to open).
  auto key = read_key_file(key_file);
  if (!key) return fail(key.error());
  return LoadedKey{std::move(*key), false, key_file.string()};
}

}  // namespace herald::secrets
