// Secrets at rest: sealed values open only for their agent and field under a known key, key
// files are created private and refused when they are not, and no error ever echoes a secret.
#include "secrets/sealer.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace herald::secrets {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPlain = "SG.super-secret-sendgrid-key-1234567890";
constexpr std::string_view kAgent = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

// A fresh directory under the system temp dir, removed afterwards.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::array<unsigned char, 8> r{};
    randombytes_buf(r.data(), r.size());
    std::array<char, 17> hex{};
    sodium_bin2hex(hex.data(), hex.size(), r.data(), r.size());
    dir_ = fs::temp_directory_path() / (std::string("herald-secrets-") + hex.data());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  static void write_file(const fs::path& p, std::string_view text, mode_t mode) {
    std::ofstream(p) << text;
    fs::permissions(p, static_cast<fs::perms>(mode));
  }

  fs::path dir_;
};

using KeyFileTest = TempDir;

std::string flip_char(std::string s, std::size_t i) {
  s[i] = s[i] == 'A' ? 'B' : 'A';
  return s;
}

TEST(SealerTest, RoundTrip) {
  // Invariant: what is sealed for (agent, field) opens to the same bytes for (agent, field).
  Sealer sealer(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, kAgent, "api_key");
  auto opened = sealer.open(sealed, kAgent, "api_key");
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(opened->reveal(), kPlain);

  auto empty = sealer.open(sealer.seal("", kAgent, "api_key"), kAgent, "api_key");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(SealerTest, SealedFormIsVersionKeyIdPayloadAndHidesThePlaintext) {
  // Invariant: the stored form is "v1.<key id>.<base64url>" with a fresh nonce every time.
  Sealer sealer(MasterKey::generate());
  const std::string a = sealer.seal(kPlain, kAgent, "api_key");
  const std::string b = sealer.seal(kPlain, kAgent, "api_key");
  EXPECT_TRUE(a.starts_with("v1." + sealer.current().id() + "."));
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find(kPlain), std::string::npos);
  EXPECT_EQ(
      a.find_first_not_of("v1.0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_"),
      std::string::npos);
  // 24-byte nonce + plaintext + 16-byte tag, base64 without padding.
  const std::size_t raw = 24 + kPlain.size() + 16;
  EXPECT_EQ(a.size(), 3 + 8 + 1 + (raw * 4 + 2) / 3);
}

TEST(SealerTest, MovedToAnotherAgentFails) {
  // Invariant: a ciphertext copied to another agent's row does not open.
  Sealer sealer(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, kAgent, "api_key");
  auto r = sealer.open(sealed, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", "api_key");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::crypto);
}

TEST(SealerTest, MovedToAnotherFieldFails) {
  // Invariant: a ciphertext copied to another field of the same agent does not open.
  Sealer sealer(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, kAgent, "api_key");
  auto r = sealer.open(sealed, kAgent, "auth_token");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::crypto);
}

TEST(SealerTest, AgentAndFieldBoundariesAreUnambiguous) {
  // Invariant: (agent "a", field "bc") and (agent "ab", field "c") are different bindings.
  Sealer sealer(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, "a", "bc");
  EXPECT_FALSE(sealer.open(sealed, "ab", "c").has_value());
  EXPECT_TRUE(sealer.open(sealed, "a", "bc").has_value());
}

TEST(SealerTest, TamperedFails) {
  // Invariant: any change to a sealed value (payload, key id, version, length) is detected.
  Sealer sealer(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, kAgent, "api_key");
  const std::size_t payload = 3 + 8 + 1;
  for (std::size_t i = payload; i < sealed.size(); ++i) {
    EXPECT_FALSE(sealer.open(flip_char(sealed, i), kAgent, "api_key").has_value()) << i;
  }
  EXPECT_FALSE(sealer.open(sealed.substr(0, sealed.size() - 1), kAgent, "api_key").has_value());
  EXPECT_FALSE(sealer.open(sealed + "A", kAgent, "api_key").has_value());
  EXPECT_FALSE(sealer.open("v2" + sealed.substr(2), kAgent, "api_key").has_value());
  EXPECT_FALSE(sealer.open(sealed.substr(0, payload), kAgent, "api_key").has_value());
  EXPECT_FALSE(sealer.open("", kAgent, "api_key").has_value());
  EXPECT_FALSE(sealer.open(kPlain, kAgent, "api_key").has_value());
}

TEST(SealerTest, UnknownKeyIdFails) {
  // Invariant: a value sealed under a key the sealer does not hold fails with a crypto error.
  Sealer a(MasterKey::generate());
  Sealer b(MasterKey::generate());
  const std::string sealed = a.seal(kPlain, kAgent, "api_key");
  auto r = b.open(sealed, kAgent, "api_key");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("unknown master key " + a.current().id()), std::string::npos);
}

TEST(SealerTest, PreviousKeyOpensAndNeedsRotation) {
  // Invariant: during rotation old values still open and are flagged for re-sealing; new
  // values are sealed under the current key and are not flagged.
  const MasterKey old_key = MasterKey::generate();
  const std::string old_sealed = Sealer(old_key).seal(kPlain, kAgent, "api_key");

  Sealer rotated(MasterKey::generate(), {old_key});
  auto r = rotated.open(old_sealed, kAgent, "api_key");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->reveal(), kPlain);
  EXPECT_TRUE(rotated.needs_rotation(old_sealed));

  const std::string resealed = rotated.seal(r->reveal(), kAgent, "api_key");
  EXPECT_FALSE(rotated.needs_rotation(resealed));
  EXPECT_TRUE(rotated.needs_rotation("not sealed at all"));
  // The binding still holds under the previous key.
  EXPECT_FALSE(rotated.open(old_sealed, kAgent, "auth_token").has_value());
}

TEST(SealerTest, ErrorTextNeverContainsThePlaintextOrSealedValue) {
  // Invariant: no failure message carries secret material (plaintext or ciphertext).
  Sealer sealer(MasterKey::generate());
  Sealer other(MasterKey::generate());
  const std::string sealed = sealer.seal(kPlain, kAgent, "api_key");
  const std::string payload = sealed.substr(12);
  std::vector<Result<Secret>> failures;
  failures.push_back(sealer.open(sealed, "other-agent", "api_key"));
  failures.push_back(sealer.open(sealed, kAgent, "other_field"));
  failures.push_back(sealer.open(flip_char(sealed, 20), kAgent, "api_key"));
  failures.push_back(other.open(sealed, kAgent, "api_key"));
  failures.push_back(sealer.open(kPlain, kAgent, "api_key"));
  for (const auto& f : failures) {
    ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error().message.find(kPlain), std::string::npos) << f.error().message;
    EXPECT_EQ(f.error().message.find(payload.substr(0, 16)), std::string::npos)
        << f.error().message;
    EXPECT_TRUE(f.error().fields.empty());
  }
}

TEST(MasterKeyTest, Base64RoundTripAndStableId) {
  // Invariant: a key survives export/import and its id depends only on its bytes.
  const MasterKey k = MasterKey::generate();
  auto back = MasterKey::from_base64(k.to_base64());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id(), k.id());
  EXPECT_EQ(std::memcmp(back->data(), k.data(), MasterKey::kSize), 0);
  EXPECT_EQ(k.id().size(), 8u);
  EXPECT_EQ(k.id().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(MasterKey::generate().id(), k.id());
  // The id is not a plain prefix of the key's bytes or its base64.
  EXPECT_EQ(k.to_base64().find(k.id()), std::string::npos);
}

TEST(MasterKeyTest, AcceptsPaddingOptionalAndSurroundingWhitespace) {
  // Invariant: the documented inputs (standard base64, padded or not, with a newline) load.
  const MasterKey k = MasterKey::generate();
  std::string b64 = k.to_base64();
  ASSERT_TRUE(b64.ends_with("="));
  const std::string unpadded = b64.substr(0, b64.find('='));
  for (const std::string& in : {b64, unpadded, "  " + b64 + "\n", unpadded + "\r\n"}) {
    auto r = MasterKey::from_base64(in);
    ASSERT_TRUE(r.has_value()) << in;
    EXPECT_EQ(r->id(), k.id());
  }
}

TEST(MasterKeyTest, RejectsWrongLengthOrNonBase64) {
  // Invariant: only exactly 32 bytes of base64 make a key.
  // 31, 33 and 0 bytes, then text that is not base64 at all.
  for (const char* in : {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "", "not a key",
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!"}) {
    auto r = MasterKey::from_base64(in);
    EXPECT_FALSE(r.has_value()) << in;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::config);
    }
  }
  EXPECT_TRUE(MasterKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").has_value());
}

TEST(MasterKeyTest, CopiesOutliveTheOriginal) {
  // Invariant: copies share the key safely; destroying one leaves the others usable.
  std::optional<MasterKey> original = MasterKey::generate();
  const MasterKey copy = *original;
  const std::string sealed = Sealer(*original).seal(kPlain, kAgent, "f");
  original.reset();
  auto r = Sealer(copy).open(sealed, kAgent, "f");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reveal(), kPlain);
}

TEST_F(KeyFileTest, GeneratedWithMode0600AndReloaded) {
  // Invariant: a fresh install writes a private key file (creating its directory) and later
  // starts load the same key from it.
  const fs::path file = dir_ / "var" / "keys" / "master.key";
  auto first = load_master_key("", file);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->source, file.string());
  EXPECT_EQ(mode_of(file), 0600u);

  auto second = load_master_key("", file);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->key.id(), first->key.id());
  // No temp files left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator{}), 1);
}

TEST_F(KeyFileTest, GeneratedPrivateEvenWithPermissiveUmask) {
  // Invariant: the key file is 0600 whatever the process umask.
  const mode_t old = ::umask(0);
  auto r = load_master_key("", dir_ / "master.key");
  ::umask(old);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(mode_of(dir_ / "master.key"), 0600u);
}

TEST_F(KeyFileTest, ConcurrentFirstStartsAgreeOnOneKey) {
  // Invariant: processes starting at once on a fresh install never end up with different keys.
  const fs::path file = dir_ / "master.key";
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = load_master_key("", file);
      ids[i] = r ? r->key.id() : "error: " + r.error().message;
    });
  }
  for (auto& t : threads) t.join();
  auto reloaded = load_master_key("", file);
  ASSERT_TRUE(reloaded.has_value());
  for (const auto& id : ids) EXPECT_EQ(id, reloaded->key.id());
}

TEST_F(KeyFileTest, GroupOrOtherAccessibleFileRefused) {
  // Invariant: a key file others could read is refused, with the path and the fix named.
  const MasterKey k = MasterKey::generate();
  for (const mode_t mode : {0640u, 0604u, 0660u, 0644u, 0601u}) {
    const fs::path file = dir_ / "master.key";
    fs::remove(file);
    write_file(file, k.to_base64() + "\n", mode);
    auto r = load_master_key("", file);
    ASSERT_FALSE(r.has_value()) << std::oct << mode;
    EXPECT_EQ(r.error().code, Errc::config);
    EXPECT_NE(r.error().message.find(file.string()), std::string::npos);
    EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
    EXPECT_EQ(r.error().message.find(k.to_base64()), std::string::npos);
  }
  // Owner-only modes are fine.
  fs::permissions(dir_ / "master.key", static_cast<fs::perms>(0400));
  auto ok = load_master_key("", dir_ / "master.key");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->key.id(), k.id());
}

TEST_F(KeyFileTest, MalformedKeyFileRefusedWithoutEchoingIt) {
  // Invariant: a key file that is not a key is an error naming the file, not its contents.
  const fs::path file = dir_ / "master.key";
  write_file(file, "c2VjcmV0LWJ1dC10b28tc2hvcnQ=\n", 0600);
  auto r = load_master_key("", file);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::config);
  EXPECT_NE(r.error().message.find(file.string()), std::string::npos);
  EXPECT_EQ(r.error().message.find("c2VjcmV0"), std::string::npos);
}

TEST_F(KeyFileTest, EnvironmentWinsOverTheFile) {
  // Invariant: HERALD_MASTER_KEY, when set, is the key; no file is read or written.
  const MasterKey k = MasterKey::generate();
  const fs::path file = dir_ / "master.key";
  auto r = load_master_key(k.to_base64(), file);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->key.id(), k.id());
  EXPECT_EQ(r->source, "HERALD_MASTER_KEY");
  EXPECT_FALSE(r->generated);
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(KeyFileTest, BadEnvironmentBase64RefusedNamingTheVariable) {
  // Invariant: a malformed HERALD_MASTER_KEY stops start-up with a message naming the
  // variable and never falls back to (or creates) a key file, nor echoes the value.
  const fs::path file = dir_ / "master.key";
  for (const char* bad :
       {"not-base64!!", "c2hvcnQ=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}) {
    auto r = load_master_key(bad, file);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, Errc::config);
    EXPECT_NE(r.error().message.find("HERALD_MASTER_KEY"), std::string::npos);
    EXPECT_EQ(r.error().message.find(bad), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace herald::secrets
