// Herald's configuration, read from the environment (the seed's variable names plus HERALD_*).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "core/error.h"
#include "core/quiet_hours.h"
#include "core/route.h"
#include "core/secret.h"

namespace herald::app {

struct Config {
  std::string data_dir = "./var";         // HERALD_DATA_DIR
  std::string database_url;               // HERALD_DATABASE_URL (default: SQLite in data_dir)
  std::string listen = "127.0.0.1:8080";  // HERALD_LISTEN
  std::string public_url;                 // HERALD_PUBLIC_URL, for links in messages
  int soft_bounce_limit = 3;    // HERALD_SOFT_BOUNCE_LIMIT: soft bounces in a row that suppress
  bool public_url_set = false;  // given by HERALD_PUBLIC_URL (else from `listen`)
  bool tracking = true;         // HERALD_TRACKING: delivery events from providers (on | off)
  // HERALD_ALLOW_INSECURE_PUBLIC_URL=1: an http public URL is accepted where providers need
  // https (their webhooks); for the demo and the tests, which run on loopback.
  bool allow_insecure_public_url = false;
  Secret platform_token;        // HERALD_PLATFORM_TOKEN
  std::string master_key;       // HERALD_MASTER_KEY (base64 of 32 bytes)
  std::string master_key_file;  // HERALD_MASTER_KEY_FILE (default data_dir/master.key)
  int workers = 4;  // HERALD_WORKERS: send worker threads (0: serve sends nothing; PostgreSQL only)
  int lease_seconds = 120;               // HERALD_LEASE_SECONDS: a claim's lease (see delivery)
  std::size_t max_body_bytes = 1 << 20;  // HERALD_MAX_BODY_BYTES
  int max_attempts = 8;                  // HERALD_MAX_ATTEMPTS
  int retry_base_ms = 2000;              // HERALD_RETRY_BASE_MS: first backoff step
  std::string operator_email;            // HERALD_OPERATOR_EMAIL
  std::string operator_password_hash;    // HERALD_OPERATOR_PASSWORD_HASH, or hashed from
                                         // HERALD_OPERATOR_PASSWORD at start-up
  int session_ttl_minutes = 720;         // HERALD_SESSION_TTL_MINUTES
  std::string web_dir;                   // HERALD_WEB_DIR: serve the dashboard from disk
  std::string ca_file;  // HERALD_CA_FILE: CAs to trust for providers (e.g. an internal SMTP relay)
  // HERALD_RATE_LIMIT_<PROVIDER> (the provider's registry entry names it): requests per second
  // per account, by provider id; absent: the provider's default.
  std::map<std::string, double, std::less<>> rate_limits;
  SendWindow sms_window;  // HERALD_SMS_SEND_WINDOW, default 08:00-21:00
  std::string default_time_zone = "America/New_York";  // HERALD_DEFAULT_TIME_ZONE
  PlatformConfig platform;
};

using Getenv = std::function<const char*(const char*)>;

// Reads the configuration; a bad value fails with a message naming the setting.
Result<Config> load_config(const Getenv& getenv);

// Why providers cannot post delivery events to this Herald (tracking off, or a public URL that
// is not https), in words an agent can read; empty when they can.
std::string tracking_blocker(const Config& config);

// "host:port" split; fails naming `setting` when malformed.
Result<std::pair<std::string, unsigned short>> parse_listen(const std::string& value,
                                                            const std::string& setting);

// Listens on `listen` instead (the --listen flag), named `setting` in errors. Unless
// HERALD_PUBLIC_URL was given, the public URL (links in messages, the Twilio signature
// check) follows the address actually listened on.
Result<void> use_listen(Config& config, const std::string& listen, const std::string& setting);

}  // namespace herald::app
