// Configuration from the environment: the public URL follows the address listened on, the
// platform's accounts come from the variables each provider's description names.
#include "app/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace herald::app {
namespace {

using Env = std::map<std::string, std::string>;

Result<Config> load(const Env& env) {
  return load_config([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(Config, ThePublicUrlFollowsTheListenFlagUnlessGiven) {
  // Invariant: without HERALD_PUBLIC_URL, links and the Twilio signature check use the
  // address Herald really listens on, --listen included (not the default 127.0.0.1:8080).
  auto c = load({});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->public_url, "http://127.0.0.1:8080");
  ASSERT_TRUE(use_listen(*c, "127.0.0.1:9123", "--listen").has_value());
  EXPECT_EQ(c->listen, "127.0.0.1:9123");
  EXPECT_EQ(c->public_url, "http://127.0.0.1:9123");
  ASSERT_TRUE(use_listen(*c, "::1:9124", "--listen").has_value());
  EXPECT_EQ(c->public_url, "http://[::1]:9124");
  EXPECT_FALSE(use_listen(*c, "nonsense", "--listen").has_value());

  auto from_env = load({{"HERALD_LISTEN", "127.0.0.1:7001"}});
  EXPECT_EQ(from_env->public_url, "http://127.0.0.1:7001");

  auto given = load({{"HERALD_PUBLIC_URL", "https://herald.example.com/"}});
  ASSERT_TRUE(given.has_value());
  ASSERT_TRUE(use_listen(*given, "127.0.0.1:9123", "--listen").has_value());
  EXPECT_EQ(given->public_url, "https://herald.example.com");
}

TEST(Config, ProvidersGetReceiversOnlyAtAnHttpsPublicUrlUnlessAllowedOrOff) {
  auto https = load({{"HERALD_PUBLIC_URL", "https://herald.example.com"}});
  ASSERT_TRUE(https.has_value());
  EXPECT_EQ(https->platform.receiver_base, "https://herald.example.com/webhooks");
  EXPECT_EQ(tracking_blocker(*https), "");

  auto http = load({});
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->platform.receiver_base, "");
  EXPECT_NE(tracking_blocker(*http).find("HERALD_PUBLIC_URL"), std::string::npos);

  // Loopback demo and tests: allowed, and the receivers follow --listen.
  auto loopback = load({{"HERALD_ALLOW_INSECURE_PUBLIC_URL", "1"}});
  ASSERT_TRUE(loopback.has_value());
  ASSERT_TRUE(use_listen(*loopback, "127.0.0.1:9123", "--listen").has_value());
  EXPECT_EQ(loopback->platform.receiver_base, "http://127.0.0.1:9123/webhooks");

  auto off =
      load({{"HERALD_PUBLIC_URL", "https://herald.example.com"}, {"HERALD_TRACKING", "off"}});
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(off->platform.receiver_base, "");
  EXPECT_NE(tracking_blocker(*off).find("HERALD_TRACKING"), std::string::npos);

  auto bad = load({{"HERALD_TRACKING", "sometimes"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "HERALD_TRACKING must be on or off");
}

TEST(Config, ThePlatformsWebhookKeyComesFromItsVariable) {
  auto c = load({{"RESEND_API_KEY", "re_platform_key_0001"},
                 {"EMAIL_FROM", "noreply@platform.com"},
                 {"RESEND_WEBHOOK_SECRET", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->platform.email.secrets.get("webhookSecret").reveal(),
            "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=");
}

TEST(Config, ThePlatformsSmtpAccountComesFromItsVariables) {
  auto c = load({{"HERALD_PLATFORM_EMAIL_PROVIDER", "smtp"},
                 {"SMTP_HOST", "smtp.platform.com"},
                 {"SMTP_USERNAME", "mailer"},
                 {"SMTP_PASSWORD", "pw-123"},
                 {"EMAIL_FROM", "RealtorAI <noreply@platform.com>"}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const PlatformAccount& a = c->platform.email;
  EXPECT_EQ(a.provider, "smtp");
  EXPECT_TRUE(a.missing.empty()) << a.missing;
  EXPECT_EQ(a.sender, "noreply@platform.com");
  EXPECT_EQ(a.params.get("host"), "smtp.platform.com");
  EXPECT_EQ(a.params.get("port"), "587");
  EXPECT_EQ(a.params.get("security"), "starttls");
  EXPECT_EQ(a.secrets.get("password").reveal(), "pw-123");

  // What is missing is named by its variable.
  auto partial = load({{"HERALD_PLATFORM_EMAIL_PROVIDER", "smtp"}, {"SMTP_HOST", "smtp.x.com"}});
  ASSERT_TRUE(partial.has_value());
  EXPECT_NE(partial->platform.email.missing.find("SMTP_PASSWORD"), std::string::npos)
      << partial->platform.email.missing;
}

TEST(Config, NoSendWorkersInServeOnlyWhereWorkerProcessesCanSend) {
  // Invariant: HERALD_WORKERS=0 (serve sends nothing) is taken only with PostgreSQL, where
  // `herald worker` processes send; on SQLite it would leave every message unsent, so start-up
  // stops naming the setting.
  auto sqlite = load({{"HERALD_WORKERS", "0"}});
  ASSERT_FALSE(sqlite.has_value());
  EXPECT_EQ(sqlite.error().code, Errc::config);
  EXPECT_NE(sqlite.error().message.find("HERALD_WORKERS"), std::string::npos);
  EXPECT_NE(sqlite.error().message.find("HERALD_DATABASE_URL"), std::string::npos);

  auto postgres =
      load({{"HERALD_WORKERS", "0"}, {"HERALD_DATABASE_URL", "postgres://h@db.example/herald"}});
  ASSERT_TRUE(postgres.has_value()) << postgres.error().message;
  EXPECT_EQ(postgres->workers, 0);

  auto negative = load({{"HERALD_WORKERS", "-1"}});
  ASSERT_FALSE(negative.has_value());
  EXPECT_NE(negative.error().message.find("HERALD_WORKERS"), std::string::npos);
}

TEST(Config, TheLeaseIsSetInSecondsWithinBounds) {
  // Invariant: a claim's lease (how long a crashed process's work waits before another takes it
  // over) is configurable, and a value too short to finish a pass in is refused by name.
  EXPECT_EQ(load({})->lease_seconds, 120);
  EXPECT_EQ(load({{"HERALD_LEASE_SECONDS", "15"}})->lease_seconds, 15);
  for (const char* bad : {"5", "soon", "3601"}) {
    auto c = load({{"HERALD_LEASE_SECONDS", bad}});
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_NE(c.error().message.find("HERALD_LEASE_SECONDS"), std::string::npos) << bad;
  }
}

TEST(Config, UnknownProvidersAndMissingFilesAreNamed) {
  auto sms = load({{"HERALD_PLATFORM_SMS_PROVIDER", "plivo"}});
  ASSERT_FALSE(sms.has_value());
  EXPECT_NE(sms.error().message.find("HERALD_PLATFORM_SMS_PROVIDER"), std::string::npos);
  auto email = load({{"HERALD_PLATFORM_EMAIL_PROVIDER", "twilio"}});
  ASSERT_FALSE(email.has_value());
  EXPECT_NE(email.error().message.find("HERALD_PLATFORM_EMAIL_PROVIDER"), std::string::npos);
  auto ca = load({{"HERALD_CA_FILE", "/nonexistent/ca.pem"}});
  ASSERT_FALSE(ca.has_value());
  EXPECT_NE(ca.error().message.find("HERALD_CA_FILE"), std::string::npos);
}

}  // namespace
}  // namespace herald::app
