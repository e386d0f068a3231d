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
