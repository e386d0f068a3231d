#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

#include <sodium.h>

#include <charconv>

#include "app/agents.h"
#include "core/validate.h"
#include "providers/provider.h"
#include "store/store.h"

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

// The platform's account on `channel` through `provider_id`, from the environment variables
// the provider's fields name. None of them set: no account (messages that need it wait, saying
// which variables to set). Some set: each must be valid and the required ones present, else
// start-up stops naming the variable.
Result<PlatformAccount> platform_account(const Getenv& getenv, Channel channel,
                                         const char* provider_var, const std::string& provider_id) {
  const providers::Provider* provider = providers::find_provider(provider_id);
  if (!provider || provider->info().channel != channel) {
    std::string ids;
    for (const providers::Provider* p : providers::all_providers()) {
      if (p->info().channel != channel) continue;
      if (!ids.empty()) ids += ", ";
      ids += p->info().id;
    }
    return fail(Errc::config, std::string(provider_var) + " must be one of " + ids + ", not '" +
                                  provider_id + "'");
  }
  PlatformAccount account;
  account.provider = provider->id();
  ConnectInput input{.provider = account.provider};
  bool any_own = false;  // a variable of the provider's own is set (EMAIL_FROM is shared)
  std::string missing;
  for (const providers::CredentialField& f : provider->info().fields) {
    if (f.env.empty()) continue;
    std::string value = env(getenv, std::string(f.env).c_str());
    if (f.name == "fromEmail" && !value.empty()) value = parse_mailbox(value).address;
    if (!value.empty() && f.env != "EMAIL_FROM") any_own = true;
    if (value.empty() && f.required) {
      if (!missing.empty()) missing += ", ";
      missing += f.env;
    }
    input.fields.emplace_back(std::string(f.name), std::move(value));
  }
  if (!missing.empty()) {
    if (any_own && missing.find("EMAIL_FROM") == std::string::npos) {
      return fail(Errc::config, missing + " must be set when the platform sends " +
                                    (channel == Channel::email ? "email" : "SMS") + " via " +
                                    std::string(provider->info().display_name));
    }
    account.missing = std::move(missing);
    return account;
  }
  auto checked = check_fields(channel, input, /*env=*/true);
  if (!checked) {
    const auto& e = checked.error();
    std::string why = e.message;
    if (!e.fields.empty()) why = e.fields.front().field + " " + e.fields.front().message;
    return fail(Errc::config, why);
  }
  account.sender = std::move(checked->sender);
  account.params = std::move(checked->params);
  account.secrets = std::move(checked->secrets);
  return account;
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

// http://host:port for a listen address; an IPv6 host in brackets.
static std::string url_for(const std::string& host, unsigned short port) {
  const bool v6 = host.find(':') != std::string::npos && !host.starts_with('[');
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string tracking_blocker(const Config& config) {
  if (!config.tracking) return "delivery tracking is turned off on this server (HERALD_TRACKING)";
  if (!config.public_url.starts_with("https://") && !config.allow_insecure_public_url)
    return "delivery tracking needs this server's public address to start with https:// "
           "(HERALD_PUBLIC_URL)";
  return {};
}

// The receivers' base URL that sends give providers (route.h), from the public URL.
static void settle_receivers(Config& config) {
  config.platform.receiver_base =
      tracking_blocker(config).empty() ? config.public_url + "/webhooks" : std::string();
}

Result<void> use_listen(Config& config, const std::string& listen, const std::string& setting) {
  auto parsed = parse_listen(listen, setting);
  if (!parsed) return std::unexpected(parsed.error());
  config.listen = listen;
  if (!config.public_url_set) config.public_url = url_for(parsed->first, parsed->second);
  settle_receivers(config);
  return {};
}

// An on/off setting: 1/0, true/false, on/off, yes/no (any case); unset: `fallback`.
static Result<bool> env_flag(const Getenv& getenv, const char* name, bool fallback) {
  std::string v = env(getenv, name);
  if (v.empty()) return fallback;
  for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no") return false;
  return fail(Errc::config, std::string(name) + " must be on or off");
}

// The platform's own account per channel, and per provider its base URL override and its
// request rate, from the variables each provider's description names.
static Result<void> load_providers(const Getenv& getenv, Config& c) {
  PlatformConfig& p = c.platform;
  p.name = env(getenv, "HERALD_PLATFORM_NAME", "RealtorAI");
  // The platform's own account per channel: its provider, and each of the provider's fields
  // from the environment variable its registry entry names.
  struct ChannelSetting {
    Channel channel;
    const char* provider_var;
    const char* default_provider;
    PlatformAccount* account;
  };
  for (auto [channel, var, fallback, account] :
       {ChannelSetting{Channel::email, "HERALD_PLATFORM_EMAIL_PROVIDER", "resend", &p.email},
        ChannelSetting{Channel::sms, "HERALD_PLATFORM_SMS_PROVIDER", "twilio", &p.sms}}) {
    auto loaded = platform_account(getenv, channel, var, env(getenv, var, fallback));
    if (!loaded) return std::unexpected(loaded.error());
    *account = std::move(*loaded);
  }

  // Per provider: its base URL override and its default request rate.
  for (const providers::Provider* provider : providers::all_providers()) {
    const providers::ProviderInfo& info = provider->info();
    if (!info.base_url_env.empty()) {
      const std::string name(info.base_url_env);
      if (std::string v = env(getenv, name.c_str()); !v.empty()) {
        if (!is_valid_http_url(v)) return fail(Errc::config, name + " is not a URL: " + v);
        p.base_urls.set(std::string(info.id), strip_slash(v));
      }
    }
    if (!info.rate_limit_env.empty()) {
      const std::string name(info.rate_limit_env);
      auto v = env_int(getenv, name.c_str(), 0, 0, 1000000);
      if (!v) return std::unexpected(v.error());
      if (*v > 0) c.rate_limits[std::string(info.id)] = *v;
    }
  }
  return {};
}

namespace {

// Send workers and their claims' lease (c.database_url is already set: HERALD_WORKERS=0 needs
// a database other processes share).
Result<void> load_workers(Config& c, const Getenv& getenv) {
  // The transactional lane's worker plus one campaign worker per core (at least two): campaign
  // passes are CPU-bound, and a worker beyond the cores only holds another claim in memory.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  auto workers = env_int(getenv, "HERALD_WORKERS", 1 + std::max(2, cores), 0, 256);
  if (!workers) return std::unexpected(workers.error());
  c.workers = *workers;
  if (c.workers == 0 && !store::is_shared(c.database_url)) {
    return fail(Errc::config,
                "HERALD_WORKERS=0 (herald serve sends nothing) needs HERALD_DATABASE_URL to be a "
                "postgres:// URL, so that `herald worker` processes can send; on SQLite herald "
                "serve is the only sender: give it 1 or more workers");
  }
  // The lease is how long a crashed process's claims wait before another takes them over.
  auto lease = env_int(getenv, "HERALD_LEASE_SECONDS", 120, 10, 3600);
  if (!lease) return std::unexpected(lease.error());
  c.lease_seconds = *lease;
  return {};
}

}  // namespace

Result<Config> load_config(const Getenv& getenv) {
  Config c;
  c.data_dir = env(getenv, "HERALD_DATA_DIR", "./var");
  c.database_url = env(getenv, "HERALD_DATABASE_URL", c.data_dir);
  c.listen = env(getenv, "HERALD_LISTEN", c.listen);
  if (auto l = use_listen(c, c.listen, "HERALD_LISTEN"); !l) return std::unexpected(l.error());
  if (std::string url = env(getenv, "HERALD_PUBLIC_URL"); !url.empty()) {
    c.public_url = strip_slash(url);
    c.public_url_set = true;
  }
  c.platform_token = Secret(env(getenv, "HERALD_PLATFORM_TOKEN"));
  c.master_key = env(getenv, "HERALD_MASTER_KEY");
  c.master_key_file = env(getenv, "HERALD_MASTER_KEY_FILE", c.data_dir + "/master.key");
  if (auto r = load_workers(c, getenv); !r) return std::unexpected(r.error());
  auto body = env_int(getenv, "HERALD_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30);
  if (!body) return std::unexpected(body.error());
  c.max_body_bytes = static_cast<std::size_t>(*body);
  auto soft_bounces = env_int(getenv, "HERALD_SOFT_BOUNCE_LIMIT", 3, 1, 100);
  if (!soft_bounces) return std::unexpected(soft_bounces.error());
  c.soft_bounce_limit = *soft_bounces;
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
  c.ca_file = env(getenv, "HERALD_CA_FILE");
  if (!c.ca_file.empty() && !std::filesystem::is_regular_file(c.ca_file))
    return fail(Errc::config, "HERALD_CA_FILE: no such file: " + c.ca_file);
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

  auto tracking = env_flag(getenv, "HERALD_TRACKING", true);
  if (!tracking) return std::unexpected(tracking.error());
  c.tracking = *tracking;
  auto insecure = env_flag(getenv, "HERALD_ALLOW_INSECURE_PUBLIC_URL", false);
  if (!insecure) return std::unexpected(insecure.error());
  c.allow_insecure_public_url = *insecure;

  if (auto p = load_providers(getenv, c); !p) return std::unexpected(p.error());
  settle_receivers(c);
  return c;
}

}  // namespace herald::app
