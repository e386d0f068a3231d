// The provider registry, Retry-After parsing, and the invariants every adapter shares
// (a contract suite run over all four providers).
#include "providers/provider.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <vector>

#include "providers/test_support.h"

namespace herald::providers {
namespace {

using namespace fixtures;

TEST(ProviderRegistry, EachIdMapsToItsAdapter) {
  // Invariant: the registry finds exactly the adapter asked for, and nothing for an unknown id.
  for (std::string_view id : {"resend", "sendgrid", "mailgun", "twilio"}) {
    const Provider* p = find_provider(id);
    ASSERT_NE(p, nullptr) << id;
    EXPECT_EQ(p->id(), id);
    EXPECT_GE(p->capabilities().max_batch, 1u);
    EXPECT_EQ(p, &provider_for(id)) << "adapters are static instances";
  }
  EXPECT_EQ(find_provider("postmark"), nullptr);
  EXPECT_EQ(find_provider(""), nullptr);
  EXPECT_EQ(display_name("sendgrid"), "SendGrid");
  EXPECT_EQ(display_name("postmark"), "postmark");
}

TEST(ProviderRegistry, EveryEntryDescribesItselfCompletely) {
  // Invariant: each registered provider names its id, vendor spelling, channel, a sender field,
  // the platform's environment variable for every field, its base URL and rate-limit settings,
  // and ids are unique: what configuration, validation, the API and the dashboard read.
  std::set<std::string_view> ids;
  for (const Provider* p : all_providers()) {
    const ProviderInfo& info = p->info();
    SCOPED_TRACE(info.id);
    EXPECT_TRUE(ids.insert(info.id).second) << "duplicate id";
    EXPECT_FALSE(info.display_name.empty());
    ASSERT_NE(info.sender_field(), nullptr);
    EXPECT_EQ(info.sender_field()->kind,
              info.channel == Channel::email ? FieldKind::email : FieldKind::phone);
    EXPECT_TRUE(info.rate_limit_env.starts_with("HERALD_RATE_LIMIT_"));
    EXPECT_GT(info.default_rate_limit, 0);
    EXPECT_GE(info.max_batch, 1u);
    EXPECT_FALSE(info.redact.empty()) << "its keys must be redacted from error text";
    bool has_secret = false;
    for (const CredentialField& f : info.fields) {
      EXPECT_FALSE(f.name.empty());
      EXPECT_FALSE(f.label.empty()) << f.name;
      EXPECT_FALSE(f.env.empty()) << f.name << " has no platform variable";
      EXPECT_EQ(info.field(f.name), &f);
      if (f.kind == FieldKind::choice) {
        EXPECT_FALSE(f.choices.empty()) << f.name;
      }
      if (!f.pattern.empty()) {
        EXPECT_FALSE(f.pattern_message.empty()) << f.name;
      }
      has_secret = has_secret || f.kind == FieldKind::secret;
    }
    EXPECT_TRUE(has_secret);
    if (!info.default_base_url.empty()) {
      EXPECT_TRUE(info.base_url_env.starts_with("HERALD_"));
      EXPECT_TRUE(info.default_base_url.starts_with("https://"));
    }
  }
  EXPECT_GE(ids.size(), 4u);
}

TEST(ProviderRegistry, DeliveryEventsComeWithAWebhookTwin) {
  // Invariant: a provider that says it posts delivery events has a twin to verify and parse
  // them and names its signature scheme; one with a registration API asks for a first
  // request, one without has no step (Twilio's per-message StatusCallback); SMTP has none.
  Credentials c;
  c.secrets.set("apiKey", Secret("k"));
  c.params.set("domain", "mg.example.com");
  for (const Provider* p : all_providers()) {
    const ProviderInfo& info = p->info();
    SCOPED_TRACE(info.id);
    const WebhookTwin* twin = p->webhook();
    EXPECT_EQ(twin != nullptr, info.webhooks.delivery_events);
    if (twin == nullptr) continue;
    EXPECT_FALSE(info.webhooks.signature.empty());
    const RegistrationStep first = twin->register_step(c, "https://herald.example/hook", {});
    EXPECT_EQ(first.request.has_value(), info.webhooks.registration_api);
    EXPECT_FALSE(first.error.has_value());
  }
  EXPECT_EQ(provider_for("smtp").webhook(), nullptr);
  // The key that verifies posts: Twilio's Auth Token, the others' webhook secret; Mailgun's
  // retries stop only at 406.
  EXPECT_EQ(provider_for("twilio").info().webhooks.key_field, "authToken");
  EXPECT_EQ(provider_for("twilio").info().field("authToken")->kind, FieldKind::secret);
  EXPECT_EQ(provider_for("resend").info().webhooks.key_field, "webhookSecret");
  EXPECT_EQ(provider_for("mailgun").info().webhooks.not_found_status, 406);
  EXPECT_EQ(provider_for("sendgrid").info().webhooks.not_found_status, 404);
}

TEST(ProviderRegistry, BaseUrlIsTheOverrideElseTheProvidersOwnHost) {
  // Invariant: HERALD_<P>_BASE_URL (credentials.base_url) wins; without it each provider uses
  // its own host, Mailgun's by region.
  Credentials c = mailgun_credentials("");
  EXPECT_EQ(provider_for("mailgun").base_url(c), "https://api.eu.mailgun.net");
  c.params.set("region", "us");
  EXPECT_EQ(provider_for("mailgun").base_url(c), "https://api.mailgun.net");
  c.base_url = "http://127.0.0.1:9";
  EXPECT_EQ(provider_for("mailgun").base_url(c), "http://127.0.0.1:9");
  EXPECT_EQ(provider_for("resend").base_url(resend_credentials("")), "https://api.resend.com");
  EXPECT_EQ(provider_for("twilio").base_url(twilio_credentials("")), "https://api.twilio.com");
}

TEST(OutcomeKind, NamesMatchTheMessageLogVocabulary) {
  // Invariant: outcome names are the strings the message log records for attempts.
  EXPECT_EQ(to_string(OutcomeKind::accepted), "accepted");
  EXPECT_EQ(to_string(OutcomeKind::retryable), "retryable");
  EXPECT_EQ(to_string(OutcomeKind::permanent), "permanent");
  EXPECT_EQ(to_string(OutcomeKind::bad_credentials), "bad_credentials");
}

TEST(RetryAfter, ParsesDelaySecondsOnly) {
  // Invariant: Retry-After in seconds is honoured (any header case); HTTP-dates and junk are
  // ignored.
  EXPECT_EQ(parse_retry_after(response(429, "", {{"Retry-After", "120"}})),
            std::chrono::seconds(120));
  EXPECT_EQ(parse_retry_after(response(429, "", {{"retry-after", " 7 "}})),
            std::chrono::seconds(7));
  EXPECT_EQ(parse_retry_after(response(429, "", {{"RETRY-AFTER", "0"}})), std::chrono::seconds(0));
  EXPECT_EQ(
      parse_retry_after(response(503, "", {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}})),
      std::nullopt);
  EXPECT_EQ(parse_retry_after(response(429, "", {{"Retry-After", "-5"}})), std::nullopt);
  EXPECT_EQ(parse_retry_after(response(429, "", {{"Retry-After", "1.5"}})), std::nullopt);
  EXPECT_EQ(parse_retry_after(response(429, "", {{"Retry-After", "99999999999999999999999"}})),
            std::nullopt);
  EXPECT_EQ(parse_retry_after(response(429)), std::nullopt);
}

// One realistic case per provider for the shared contract below.
struct Case {
  ProviderId id;
  Credentials credentials;
  OutboundMessage message;
  std::string secret;
};

std::vector<Case> all_cases() {
  return {
      {"resend", resend_credentials(), email_message(), "re_TestKey_4f9a8b7c6d5e"},
      {"sendgrid", sendgrid_credentials(), email_message(), "SG.testKeyId123.testSecretPart456789"},
      {"mailgun", mailgun_credentials(), email_message(), "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"},
      {"twilio", twilio_credentials(), sms_message(), "f00dbabe0123456789abcdef01234567"},
  };
}

class EveryProvider : public ::testing::TestWithParam<Case> {};

TEST_P(EveryProvider, RequestsCarryUserAgentAuthAndBaseUrl) {
  // Invariant: every request (send and verify) has Herald's User-Agent, an Authorization
  // header, and a URL under the configured base URL.
  const Case& c = GetParam();
  const Provider& p = provider_for(c.id);
  for (const HttpRequest& r :
       {p.build_send(c.credentials, std::span(&c.message, 1)), p.build_verify(c.credentials)}) {
    EXPECT_EQ(r.header("User-Agent"), kUserAgent) << r.url;
    EXPECT_TRUE(r.header("Authorization").has_value()) << r.url;
    EXPECT_TRUE(r.url.starts_with(c.credentials.base_url + "/")) << r.url;
  }
  EXPECT_EQ(p.build_send(c.credentials, std::span(&c.message, 1)).method, "POST");
  EXPECT_EQ(p.build_verify(c.credentials).method, "GET");
  EXPECT_TRUE(
      p.build_send(c.credentials, std::span(&c.message, 1)).header("Content-Type").has_value());
}

TEST_P(EveryProvider, SecretTravelsOnlyInAuthorization) {
  // Invariant: the key never appears in a URL, a body, or any header but Authorization.
  const Case& c = GetParam();
  const Provider& p = provider_for(c.id);
  for (const HttpRequest& r :
       {p.build_send(c.credentials, std::span(&c.message, 1)), p.build_verify(c.credentials)}) {
    EXPECT_EQ(r.url.find(c.secret), std::string::npos);
    EXPECT_EQ(r.body.find(c.secret), std::string::npos);
    for (const auto& [name, value] : r.headers) {
      if (name == "Authorization") continue;
      EXPECT_EQ(value.find(c.secret), std::string::npos) << name;
    }
  }
}

TEST_P(EveryProvider, NoResponseIsRetryableForEveryMessage) {
  // Invariant: status 0 (timeout, refused connection) is retryable, one outcome per message.
  const Provider& p = provider_for(GetParam().id);
  const auto out = p.classify_send(response(0), 3);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    EXPECT_EQ(o.kind, OutcomeKind::retryable);
    EXPECT_EQ(o.http_status, 0);
  }
  const auto v = p.classify_verify(response(0));
  EXPECT_TRUE(v.retryable);
  EXPECT_FALSE(v.ok || v.bad_credentials);
}

TEST_P(EveryProvider, ServiceUnavailableHonoursRetryAfter) {
  // Invariant: 503 with Retry-After is retryable after exactly that many seconds.
  const auto out =
      provider_for(GetParam().id)
          .classify_send(response(503, "upstream unavailable", {{"Retry-After", "30"}}), 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(out[0].retry_after, std::chrono::seconds(30));
  EXPECT_EQ(out[0].http_status, 503);
}

TEST_P(EveryProvider, TooManyRequestsIsRetryable) {
  // Invariant: 429 is retryable whatever the body.
  const auto out = provider_for(GetParam().id).classify_send(response(429, "slow down"), 2);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) EXPECT_EQ(o.kind, OutcomeKind::retryable);
}

TEST_P(EveryProvider, UnauthorizedIsBadCredentials) {
  // Invariant: a plain 401 marks the integration failing, whatever the body.
  const auto out = provider_for(GetParam().id).classify_send(response(401, "Unauthorized"), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::bad_credentials);
  EXPECT_TRUE(
      provider_for(GetParam().id).classify_verify(response(401, "Unauthorized")).bad_credentials);
}

TEST_P(EveryProvider, MaxBatchRequestBuilds) {
  // Invariant: a request of max_batch messages is built (one envelope/part per message).
  const Case& c = GetParam();
  const Provider& p = provider_for(c.id);
  std::vector<OutboundMessage> ms(p.capabilities().max_batch, c.message);
  for (std::size_t i = 0; i < ms.size(); ++i) ms[i].id = "id-" + std::to_string(i);
  const HttpRequest r = p.build_send(c.credentials, ms);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(p.classify_send(response(0), ms.size()).size(), ms.size());
}

INSTANTIATE_TEST_SUITE_P(Adapters, EveryProvider, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.id; });

}  // namespace
}  // namespace herald::providers
