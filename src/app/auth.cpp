#include "app/auth.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/id.h"

namespace herald::app {

namespace {

constexpr std::size_t kMinPassword = 10;
constexpr std::size_t kMaxPassword = 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string b64url(const unsigned char* data, std::size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

Result<void> check_password(const std::string& password, const std::string& field) {
  if (password.size() < kMinPassword) {
    return fail(
        Error::invalid(field, "must be at least " + std::to_string(kMinPassword) + " characters"));
  }
  if (password.size() > kMaxPassword) {
    return fail(
        Error::invalid(field, "must be at most " + std::to_string(kMaxPassword) + " characters"));
  }
  return {};
}

Result<std::string> hash_password(const std::string& password) {
  if (auto ok = check_password(password, "password"); !ok) return std::unexpected(ok.error());
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.c_str(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return fail(Errc::internal, "password hashing ran out of memory");
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, const std::string& password) {
  if (hash.empty() || password.size() > kMaxPassword) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.c_str(), password.size()) == 0;
}

std::string token_hash(std::string_view token) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

NewToken new_token(std::string_view prefix) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  NewToken t;
  t.token = std::string(prefix) + b64url(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  t.hash = token_hash(t.token);
  return t;
}

std::optional<std::chrono::seconds> LoginThrottle::wait(const std::string& key, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.blocked_until <= now) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
}

void LoginThrottle::failed(const std::string& key, TimePoint now) {
  std::lock_guard lock(mu_);
  // Forget keys idle for an hour so the map stays small.
  if (entries_.size() > 10000) {
    std::erase_if(entries_,
                  [&](const auto& kv) { return now - kv.second.last > std::chrono::hours(1); });
  }
  Entry& e = entries_[key];
  if (now - e.last > std::chrono::hours(1)) e.failures = 0;
  e.failures += 1;
  e.last = now;
  if (e.failures >= 5) {
    auto secs = std::min<std::int64_t>(std::int64_t{1} << std::min(e.failures - 5, 20), 900);
    e.blocked_until = now + std::chrono::seconds(secs);
  }
}

void LoginThrottle::succeeded(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

std::expected<LoginResult, LoginError> login(App& app, LoginThrottle& throttle,
                                             const std::string& email, const std::string& password,
                                             const std::string& remote) {
  TimePoint now = app.clock().now();
  std::string email_key = "email:" + lower(email);
  std::string remote_key = "addr:" + remote;
  auto wait = std::max(throttle.wait(email_key, now).value_or(std::chrono::seconds(0)),
                       throttle.wait(remote_key, now).value_or(std::chrono::seconds(0)));
  if (wait > std::chrono::seconds(0)) {
    return std::unexpected(
        LoginError{Error{Errc::conflict, "too many failed logins; try again later"}, wait});
  }
  auto refuse = [&]() {
    throttle.failed(email_key, now);
    throttle.failed(remote_key, now);
    return std::unexpected(
        LoginError{Error{Errc::unauthorized, "invalid email or password"}, std::nullopt});
  };
  LoginResult out;
  const Config& cfg = app.config();
  if (!cfg.operator_email.empty() && lower(email) == lower(cfg.operator_email)) {
    if (!verify_password(cfg.operator_password_hash, password)) return refuse();
    out.session.role = "operator";
  } else {
    auto rec = app.store().find_login(email);
    if (!rec) return std::unexpected(LoginError{rec.error(), std::nullopt});
    // Verify against a dummy hash when the agent is unknown, so timing does not tell.
    static const std::string dummy = hash_password("not-a-real-password-0000").value_or("");
    bool ok = *rec ? verify_password((*rec)->password_hash, password)
                   : (verify_password(dummy, password), false);
    if (!ok) return refuse();
    out.session.role = "agent";
    out.session.agent_id = (*rec)->agent.id;
    out.agent = (*rec)->agent;
  }
  throttle.succeeded(email_key);
  NewToken session = new_token("hs_");
  out.session_token = session.token;
  out.session.token_hash = session.hash;
  out.session.csrf_token = new_token("").token;
  out.session.created_at = now;
  out.session.expires_at = now + std::chrono::minutes(cfg.session_ttl_minutes);
  if (auto r = app.store().create_session(out.session); !r) {
    return std::unexpected(LoginError{r.error(), std::nullopt});
  }
  return out;
}

Result<std::optional<Identity>> session_identity(App& app, const std::string& session_token) {
  auto s = app.store().find_session(token_hash(session_token), app.clock().now());
  if (!s) return std::unexpected(s.error());
  if (!*s) return std::optional<Identity>();
  return std::optional<Identity>(Identity{(*s)->role, (*s)->agent_id, (*s)->csrf_token});
}

Result<void> logout(App& app, const std::string& session_token) {
  return app.store().revoke_session(token_hash(session_token), app.clock().now());
}

Result<CreatedToken> create_api_token(App& app, const std::string& agent_id,
                                      const std::string& name) {
  if (name.empty()) return fail(Error::invalid("name", "is required"));
  if (name.size() > 100) return fail(Error::invalid("name", "must be at most 100 characters"));
  NewToken t = new_token("ht_");
  CreatedToken out;
  out.token = t.token;
  out.record = store::ApiToken{
      new_id(),          agent_id,    name, t.hash, "…" + t.token.substr(t.token.size() - 4),
      app.clock().now(), std::nullopt};
  if (auto r = app.store().create_api_token(out.record); !r) return std::unexpected(r.error());
  return out;
}

Result<std::optional<Identity>> api_token_identity(App& app, const std::string& token) {
  auto t = app.store().find_api_token(token_hash(token));
  if (!t) return std::unexpected(t.error());
  if (!*t) return std::optional<Identity>();
  // Record use at most once a minute: no write per request.
  TimePoint now = app.clock().now();
  if (!(*t)->last_used_at || now - *(*t)->last_used_at > std::chrono::minutes(1)) {
    // "Last used" is a hint for the token list: a failed write must not fail the request.
    if (auto r = app.store().touch_api_token((*t)->id, now); !r)
      spdlog::warn("could not record an API token's last use: {}", r.error().message);
  }
  return std::optional<Identity>(Identity{"agent", (*t)->agent_id, ""});
}

}  // namespace herald::app
