// Logins and tokens: Argon2id passwords, dashboard sessions (cookie + CSRF token), agent API
// tokens, the operator login from config, and slowing down repeated failed logins.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "app/app.h"
#include "store/store.h"

namespace herald::app {

// Argon2id (libsodium crypto_pwhash_str, interactive limits). Fails on too short/long input.
Result<std::string> hash_password(const std::string& password);
bool verify_password(const std::string& hash, const std::string& password);
// Checks the password policy; a FieldError names `field`.
Result<void> check_password(const std::string& password, const std::string& field);

// A new random token with a prefix ("hs_" session, "ht_" API token) and its stored hash.
struct NewToken {
  std::string token;
  std::string hash;
};
NewToken new_token(std::string_view prefix);
std::string token_hash(std::string_view token);

// Who a session or token belongs to.
struct Identity {
  std::string role;  // "agent" | "operator"
  std::string agent_id;
  std::string csrf_token;  // sessions only
};

// Counts failed logins per key (email, address) and says how long to wait before the next try:
// the first 4 failures are free, then 1 s, 2 s, 4 s … up to 15 minutes.
class LoginThrottle {
 public:
  std::optional<std::chrono::seconds> wait(const std::string& key, TimePoint now);
  void failed(const std::string& key, TimePoint now);
  void succeeded(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    TimePoint blocked_until;
    TimePoint last;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

struct LoginResult {
  std::string session_token;  // goes into the cookie, never stored
  store::Session session;
  std::optional<store::AgentRow> agent;
};

// Verifies email + password (operator from config first, then agents). Fails with
// Errc::unauthorized (one generic message), or Errc::conflict with retry_after when throttled.
struct LoginError {
  Error error;
  std::optional<std::chrono::seconds> retry_after;
};
std::expected<LoginResult, LoginError> login(App& app, LoginThrottle& throttle,
                                             const std::string& email, const std::string& password,
                                             const std::string& remote);

// The live session behind a cookie token, if any.
Result<std::optional<Identity>> session_identity(App& app, const std::string& session_token);
Result<void> logout(App& app, const std::string& session_token);

// Agent API tokens.
struct CreatedToken {
  store::ApiToken record;
  std::string token;  // shown once
};
Result<CreatedToken> create_api_token(App& app, const std::string& agent_id,
                                      const std::string& name);
Result<std::optional<Identity>> api_token_identity(App& app, const std::string& token);

}  // namespace herald::app
