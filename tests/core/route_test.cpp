// Route resolution: the table in DESIGN.md and the seed's three scenarios, exactly.
#include "core/route.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

PlatformConfig platform() {
  PlatformConfig p;  // name defaults to RealtorAI
  p.email.provider = "resend";
  p.email.sender = "noreply@platform.com";
  p.email.secrets.set("apiKey", Secret("re_platform_key_0001"));
  p.sms.provider = "twilio";
  p.sms.sender = "+15550000000";
  p.sms.params.set("accountSid", "AC00000000000000000000000000000000");
  p.sms.secrets.set("authToken", Secret("platform_token_0000"));
  p.base_urls.set("resend", "http://127.0.0.1:9/resend");
  p.base_urls.set("sendgrid", "http://127.0.0.1:9/sendgrid");
  return p;
}

Agent wright_realty() {
  Agent a;
  a.id = "agent-wright";
  a.name = "Matt Wright";
  a.branding.company_name = "Wright Realty";
  a.branding.reply_email = "matt@wrightrealty.com";
  Integration e;
  e.provider = "sendgrid";
  e.secrets.set("apiKey", Secret("SG.wright-key-xxxxx"));
  e.sender = "matt@wrightrealty.com";
  a.email = e;
  Integration s;
  s.provider = "twilio";
  s.params.set("accountSid", "AC11111111111111111111111111111111");
  s.secrets.set("authToken", Secret("wright_auth_token_1"));
  s.sender = "+15551234567";
  a.sms = s;
  return a;
}

Agent sunset_properties() {
  Agent a;
  a.id = "agent-sunset";
  a.name = "Lisa";
  a.branding.company_name = "Sunset Properties";
  a.branding.reply_email = "lisa@sunsetprops.com";
  return a;
}

Agent defaults_agent() {
  Agent a;
  a.id = "agent-defaults";
  a.name = "Pat Default";
  return a;
}

TEST(Route, Scenario1FullIntegrationUsesAgentsSendGridAndTwilio) {
  // Invariant: an agent with active integrations sends through its own accounts and pays.
  auto email = resolve_email_route(wright_realty(), platform());
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->provider, "sendgrid");
  EXPECT_EQ(email->via, Via::agent);
  EXPECT_EQ(email->payer(), Via::agent);
  EXPECT_EQ(email->from_display(), "Wright Realty <matt@wrightrealty.com>");
  EXPECT_EQ(email->reply_to, "");  // same as From: not repeated
  EXPECT_EQ(email->credentials.secrets.get("apiKey").reveal(), "SG.wright-key-xxxxx");
  EXPECT_EQ(email->credentials.base_url, "http://127.0.0.1:9/sendgrid");

  auto sms = resolve_sms_route(wright_realty(), platform());
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(sms->provider, "twilio");
  EXPECT_EQ(sms->via, Via::agent);
  EXPECT_EQ(sms->from_display(), "+15551234567");
  EXPECT_EQ(sms->credentials.params.get("accountSid"), "AC11111111111111111111111111111111");
  EXPECT_EQ(sms->credentials.secrets.get("authToken").reveal(), "wright_auth_token_1");
}

TEST(Route, Scenario2BrandingOnlyUsesPlatformResendWithAgentsName) {
  // Invariant: branding without integrations goes via the platform, branded, platform pays.
  auto email = resolve_email_route(sunset_properties(), platform());
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->provider, "resend");
  EXPECT_EQ(email->via, Via::platform);
  EXPECT_EQ(email->payer(), Via::platform);
  EXPECT_EQ(email->from_display(), "Sunset Properties <noreply@platform.com>");
  EXPECT_EQ(email->reply_to, "lisa@sunsetprops.com");
  EXPECT_EQ(email->credentials.secrets.get("apiKey").reveal(), "re_platform_key_0001");

  auto sms = resolve_sms_route(sunset_properties(), platform());
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(sms->via, Via::platform);
  EXPECT_EQ(sms->from_display(), "+15550000000");
  EXPECT_EQ(sms->credentials.params.get("accountSid"), "AC00000000000000000000000000000000");
}

TEST(Route, Scenario3NothingUsesPlatformNameAndAccounts) {
  // Invariant: an agent with nothing gets the platform's name, accounts and bill.
  auto email = resolve_email_route(defaults_agent(), platform());
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->from_display(), "RealtorAI <noreply@platform.com>");
  EXPECT_EQ(email->reply_to, "");
  EXPECT_EQ(email->via, Via::platform);
  auto sms = resolve_sms_route(defaults_agent(), platform());
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(sms->from_phone, "+15550000000");
}

TEST(Route, PlatformNameComesFromConfig) {
  // Invariant: HERALD_PLATFORM_NAME replaces RealtorAI in unbranded From lines.
  auto p = platform();
  p.name = "HomeSuite";
  EXPECT_EQ(resolve_email_route(defaults_agent(), p)->from_display(),
            "HomeSuite <noreply@platform.com>");
}

TEST(Route, InactiveIntegrationCountsAsAbsent) {
  // Invariant: an inactive integration never carries mail; the platform does, branded.
  Agent a = wright_realty();
  a.email->active = false;
  auto email = resolve_email_route(a, platform());
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->via, Via::platform);
  EXPECT_EQ(email->provider, "resend");
  EXPECT_EQ(email->from_display(), "Wright Realty <noreply@platform.com>");
  EXPECT_EQ(email->reply_to, "matt@wrightrealty.com");
}

TEST(Route, EmailAndSmsResolveIndependently) {
  // Invariant: one channel's integration does not affect the other channel's route.
  Agent a = wright_realty();
  a.sms.reset();
  EXPECT_EQ(resolve_email_route(a, platform())->via, Via::agent);
  EXPECT_EQ(resolve_sms_route(a, platform())->via, Via::platform);
  Agent b = wright_realty();
  b.email.reset();
  EXPECT_EQ(resolve_email_route(b, platform())->via, Via::platform);
  EXPECT_EQ(resolve_sms_route(b, platform())->via, Via::agent);
}

TEST(Route, PlatformProviderCanBeSendGridOrMailgun) {
  // Invariant: HERALD_PLATFORM_EMAIL_PROVIDER picks the platform's provider and its URL.
  auto p = platform();
  p.email.provider = "mailgun";
  p.email.params.set("domain", "mg.platform.com");
  p.email.params.set("region", "eu");
  auto route = resolve_email_route(sunset_properties(), p);
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->provider, "mailgun");
  EXPECT_EQ(route->credentials.params.get("domain"), "mg.platform.com");
  EXPECT_EQ(route->credentials.params.get("region"), "eu");
  EXPECT_EQ(route->credentials.base_url, "") << "no override: the provider picks its host";
}

TEST(Route, AgentIntegrationFieldsReachTheCredentials) {
  // Invariant: an agent's account reaches its provider with every field it was connected with
  // (here Mailgun EU), the sender as From, and the operator's base URL override if any.
  Agent a = sunset_properties();
  Integration e;
  e.provider = "mailgun";
  e.secrets.set("apiKey", Secret("key-abc"));
  e.sender = "lisa@mg.sunsetprops.com";
  e.params.set("domain", "mg.sunsetprops.com");
  e.params.set("region", "eu");
  e.rate_limit = 7;
  a.email = e;
  auto p = platform();
  p.base_urls.set("mailgun", "http://127.0.0.1:9/mailgun");
  auto route = resolve_email_route(a, p);
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->provider, "mailgun");
  EXPECT_EQ(route->credentials.params.get("region"), "eu");
  EXPECT_EQ(route->credentials.params.get("domain"), "mg.sunsetprops.com");
  EXPECT_EQ(route->credentials.secrets.get("apiKey").reveal(), "key-abc");
  EXPECT_EQ(route->credentials.base_url, "http://127.0.0.1:9/mailgun");
  EXPECT_EQ(route->credentials.rate_limit, 7);
  EXPECT_EQ(route->from_display(), "Sunset Properties <lisa@mg.sunsetprops.com>");
  EXPECT_EQ(route->reply_to, "lisa@sunsetprops.com");
}

TEST(Route, FallbackRouteKeepsBranding) {
  // Invariant: re-routing a rejected agent key through the platform keeps the agent's brand.
  auto route = platform_route(wright_realty(), Channel::email, platform());
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->via, Via::platform);
  EXPECT_EQ(route->from_display(), "Wright Realty <noreply@platform.com>");
  EXPECT_EQ(route->reply_to, "matt@wrightrealty.com");
}

TEST(Route, UnconfiguredPlatformIsAConfigErrorNamingTheSettings) {
  // Invariant: a missing platform account is reported, never sent with empty credentials.
  PlatformConfig p;
  p.email.provider = "resend";
  p.email.missing = "RESEND_API_KEY, EMAIL_FROM";
  p.sms.provider = "twilio";
  p.sms.missing = "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER";
  auto email = resolve_email_route(defaults_agent(), p);
  ASSERT_FALSE(email.has_value());
  EXPECT_EQ(email.error().code, Errc::config);
  EXPECT_NE(email.error().message.find("EMAIL_FROM"), std::string::npos);
  auto sms = resolve_sms_route(defaults_agent(), p);
  ASSERT_FALSE(sms.has_value());
  EXPECT_NE(sms.error().message.find("TWILIO_ACCOUNT_SID"), std::string::npos);
  // An agent with its own accounts still resolves without the platform.
  EXPECT_TRUE(resolve_email_route(wright_realty(), p).has_value());
}

TEST(Mailbox, FormatsAndParses) {
  // Invariant: display names with RFC 5322 specials are quoted; EMAIL_FROM parses both forms.
  EXPECT_EQ((Mailbox{"Smith, Jones & Co.", "a@b.com"}).formatted(),
            "\"Smith, Jones & Co.\" <a@b.com>");
  EXPECT_EQ((Mailbox{"", "a@b.com"}).formatted(), "a@b.com");
  auto m = parse_mailbox("  \"Platform\" <noreply@platform.com> ");
  EXPECT_EQ(m.name, "Platform");
  EXPECT_EQ(m.address, "noreply@platform.com");
  EXPECT_EQ(parse_mailbox("noreply@platform.com").address, "noreply@platform.com");
}

}  // namespace
}  // namespace herald
