#include "app/config.h"

#include <algorithm>
#include <thread>

#include <sodium.h>

#include <charconv>

#include "core/validate.h"

namespace herald::app {

namespace {

std::string env(const Getenv& getenv, const char* name, std::string fallback = {}) {
  const char* v = getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

Result<int> env_int(const Getenv& getenv, const char* name, int fallback, int min, int max) {
  std::string v = env(getenv, name);
  if (v.empty()) return fallback;
  int out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max) {
    return fail(Errc::config, std::string(name) + " must be an integer between " +
                                  std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::string strip_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Result<std::pair<std::string, unsigned short>> parse_listen(const std::string& value,
                                                            const std::string& setting) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return fail(Errc::config, setting + " must be host:port, e.g. 127.0.0.1:8080");
  }
  int port = -1;
  std::string p = value.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535) {
    return fail(Errc::config, setting + " has an invalid port: " + p);
  }
  return std::pair{value.substr(0, colon), static_cast<unsigned short>(port)};
}

Result<Config> load_config(const Getenv& getenv) {
  Config c;
  c.data_dir = env(getenv, "HERALD_DATA_DIR", "./var");
  c.database_url = env(getenv, "HERALD_DATABASE_URL", c.data_dir);
  c.listen = env(getenv, "HERALD_LISTEN", c.listen);
  if (auto l = parse_listen(c.listen, "HERALD_LISTEN"); !l) return std::unexpected(l.error());
  c.public_url = strip_slash(env(getenv, "HERALD_PUBLIC_URL", "http://" + c.listen));
  c.platform_token = Secret(env(getenv, "HERALD_PLATFORM_TOKEN"));
  c.master_key = env(getenv, "HERALD_MASTER_KEY");
  c.master_key_file = env(getenv, "HERALD_MASTER_KEY_FILE", c.data_dir + "/master.key");
  // The transactional lane's worker plus one campaign worker per core (at least two): campaign
  // passes are CPU-bound, and a worker beyond the cores only holds another claim in memory.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  auto workers = env_int(getenv, "HERALD_WORKERS", 1 + std::max(2, cores), 1, 256);
  if (!workers) return std::unexpected(workers.error());
  c.workers = *workers;
  auto body = env_int(getenv, "HERALD_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30);
  if (!body) return std::unexpected(body.error());
  c.max_body_bytes = static_cast<std::size_t>(*body);
  auto attempts = env_int(getenv, "HERALD_MAX_ATTEMPTS", 8, 1, 100);
  if (!attempts) return std::unexpected(attempts.error());
  c.max_attempts = *attempts;
  auto retry_base = env_int(getenv, "HERALD_RETRY_BASE_MS", 2000, 1, 3600000);
  if (!retry_base) return std::unexpected(retry_base.error());
  c.retry_base_ms = *retry_base;

  c.operator_email = env(getenv, "HERALD_OPERATOR_EMAIL");
  c.operator_password_hash = env(getenv, "HERALD_OPERATOR_PASSWORD_HASH");
  if (std::string pw = env(getenv, "HERALD_OPERATOR_PASSWORD"); !pw.empty()) {
    if (pw.size() < 10)
      return fail(Errc::config, "HERALD_OPERATOR_PASSWORD must be at least 10 characters");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, pw.c_str(), pw.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return fail(Errc::config, "HERALD_OPERATOR_PASSWORD: cannot hash (out of memory)");
    }
    sodium_memzero(pw.data(), pw.size());
    c.operator_password_hash = out;
  }
  if (!c.operator_email.empty() && c.operator_password_hash.empty()) {
    return fail(Errc::config, "HERALD_OPERATOR_EMAIL needs HERALD_OPERATOR_PASSWORD (or _HASH)");
  }
  auto ttl = env_int(getenv, "HERALD_SESSION_TTL_MINUTES", 720, 1, 60 * 24 * 30);
  if (!ttl) return std::unexpected(ttl.error());
  c.session_ttl_minutes = *ttl;
  c.web_dir = env(getenv, "HERALD_WEB_DIR");
  for (auto [name, id] : {std::pair{"HERALD_RATE_LIMIT_RESEND", ProviderId::resend},
                          std::pair{"HERALD_RATE_LIMIT_SENDGRID", ProviderId::sendgrid},
                          std::pair{"HERALD_RATE_LIMIT_MAILGUN", ProviderId::mailgun},
                          std::pair{"HERALD_RATE_LIMIT_TWILIO", ProviderId::twilio}}) {
    auto v = env_int(getenv, name, 0, 0, 1000000);
    if (!v) return std::unexpected(v.error());
    c.rate_limits[static_cast<std::size_t>(id)] = *v;
  }

  if (std::string w = env(getenv, "HERALD_SMS_SEND_WINDOW"); !w.empty()) {
    auto window = parse_send_window(w);
    if (!window)
      return fail(Errc::config, "HERALD_SMS_SEND_WINDOW must be HH:MM-HH:MM, e.g. 08:00-21:00");
    c.sms_window = *window;
  }
  c.default_time_zone = env(getenv, "HERALD_DEFAULT_TIME_ZONE", c.default_time_zone);
  if (!is_valid_time_zone(c.default_time_zone)) {
    return fail(Errc::config,
                "HERALD_DEFAULT_TIME_ZONE is not a known time zone: " + c.default_time_zone);
  }

  PlatformConfig& p = c.platform;
  p.name = env(getenv, "HERALD_PLATFORM_NAME", "RealtorAI");
  std::string provider = env(getenv, "HERALD_PLATFORM_EMAIL_PROVIDER", "resend");
  auto pid = parse_provider(provider);
  if (!pid || *pid == ProviderId::twilio) {
    return fail(Errc::config,
                "HERALD_PLATFORM_EMAIL_PROVIDER must be resend, sendgrid or mailgun, not '" +
                    provider + "'");
  }
  p.email_provider = *pid;
  const char* key_var = *pid == ProviderId::resend     ? "RESEND_API_KEY"
                        : *pid == ProviderId::sendgrid ? "SENDGRID_API_KEY"
                                                       : "MAILGUN_API_KEY";
  p.email_api_key = Secret(env(getenv, key_var));
  std::string from = env(getenv, "EMAIL_FROM");
  if (!from.empty()) {
    p.email_from = parse_mailbox(from);
    if (!is_valid_email(p.email_from.address)) {
      return fail(Errc::config, "EMAIL_FROM is not a valid email address: " + from);
    }
  }
  p.mailgun_domain = env(getenv, "MAILGUN_DOMAIN");
  std::string region = env(getenv, "MAILGUN_REGION", "us");
  auto r = parse_region(region);
  if (!r) return fail(Errc::config, "MAILGUN_REGION must be us or eu");
  p.mailgun_region = *r;
  if (*pid == ProviderId::mailgun && !p.email_api_key.empty() && p.mailgun_domain.empty()) {
    return fail(Errc::config, "MAILGUN_DOMAIN is required when the platform sends via Mailgun");
  }
  p.twilio_account_sid = env(getenv, "TWILIO_ACCOUNT_SID");
  p.twilio_auth_token = Secret(env(getenv, "TWILIO_AUTH_TOKEN"));
  std::string phone = env(getenv, "TWILIO_PHONE_NUMBER");
  if (!phone.empty()) {
    auto e164 = to_e164(phone);
    if (!e164) return fail(Errc::config, "TWILIO_PHONE_NUMBER must be an E.164 number: " + phone);
    p.twilio_phone_number = *e164;
  }

  struct UrlVar {
    const char* name;
    std::string* target;
  };
  for (auto [name, target] : {UrlVar{"HERALD_RESEND_BASE_URL", &p.base_urls.resend},
                              UrlVar{"HERALD_SENDGRID_BASE_URL", &p.base_urls.sendgrid},
                              UrlVar{"HERALD_TWILIO_BASE_URL", &p.base_urls.twilio}}) {
    std::string v = env(getenv, name);
    if (v.empty()) continue;
    if (!is_valid_http_url(v)) return fail(Errc::config, std::string(name) + " is not a URL: " + v);
    *target = strip_slash(v);
  }
  // One override serves both Mailgun regions (the sandbox answers for both).
  if (std::string v = env(getenv, "HERALD_MAILGUN_BASE_URL"); !v.empty()) {
    if (!is_valid_http_url(v))
      return fail(Errc::config, "HERALD_MAILGUN_BASE_URL is not a URL: " + v);
    p.base_urls.mailgun_us = p.base_urls.mailgun_eu = strip_slash(v);
  }
  return c;
}

}  // namespace herald::app
