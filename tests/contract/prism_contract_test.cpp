// Contract tests with a third-party referee: every request the adapters build (send, single
// and batch, and verify) and every request of the webhook twins' registrations and
// unregistrations is performed over real HTTP against Prism mocks of the providers' official
// OpenAPI specs (provider-specs/), which must answer 2xx with no `sl-violations` header (Prism
// lists spec violations there). Prism only checks that an auth scheme is present, never the
// credential's value.
//
// Run through tests/contract/run.sh, which starts the mocks and sets:
//   HERALD_PRISM_RESEND_URL          resend/resend.yaml
//   HERALD_PRISM_SENDGRID_URL        sendgrid/tsg_mail_v3.json   (POST /v3/mail/send)
//   HERALD_PRISM_SENDGRID_SCOPES_URL sendgrid/tsg_scopes_v3.json (GET /v3/scopes, the verify call;
//                                    SendGrid ships it as a separate spec, so a fifth mock)
//   HERALD_PRISM_SENDGRID_WEBHOOKS_URL sendgrid/tsg_webhooks_v3.json (Event Webhook settings, the
//                                    registration calls)
//   HERALD_PRISM_MAILGUN_URL         mailgun/mailgun-openapi.prism.json
//   HERALD_PRISM_TWILIO_URL          twilio/twilio_api_v2010.json
// A missing variable fails the test: a skipped referee is no referee.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "providers/provider.h"

namespace herald::providers {
namespace {

std::unique_ptr<net::HttpClient> make_client() {
  return net::make_curl_client();
}

// The base URL of a Prism mock from the environment; fails the test when unset.
std::string mock_url(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << variable << " is not set: run tests/contract/run.sh <contract_tests binary>";
    return {};
  }
  std::string url = value;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Performs a request; fails the test on a transport error.
HttpResponse perform(const HttpRequest& request) {
  auto response = make_client()->perform(request);
  if (!response) {
    ADD_FAILURE() << request.method << " " << request.url << ": " << response.error().message;
    return {};
  }
  return *response;
}

// The request-side violations in Prism's `sl-violations` header (a JSON array of
// {location: ["request"|"response", …], severity, code, message}). Response-side entries
// are the spec disagreeing with its own examples (Mailgun's GET /v4/domains/{name}
// example lacks properties its schema requires) and say nothing about Herald's request.
std::vector<std::string> request_violations(const HttpResponse& response) {
  std::vector<std::string> out;
  const auto header = response.header("sl-violations");
  if (!header) return out;
  const auto list = nlohmann::json::parse(*header, nullptr, false);
  if (!list.is_array()) return {std::string(*header)};
  for (const auto& v : list) {
    const bool about_response = v.contains("location") && v["location"].is_array() &&
                                !v["location"].empty() && v["location"][0] == "response";
    if (!about_response) out.push_back(v.dump());
  }
  return out;
}

// Prism's verdict on a request Herald built: 2xx and no request violation listed.
::testing::AssertionResult spec_valid(const HttpRequest& request, const HttpResponse& response) {
  const auto violations = request_violations(response);
  if (response.status >= 200 && response.status < 300 && violations.empty()) {
    return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure();
  failure << request.method << " " << request.url << " → HTTP " << response.status;
  for (const auto& v : violations) failure << "\n  violation: " << v;
  failure << "\n  body: " << response.body << "\n  request body: " << request.body;
  return failure;
}

// Prism's verdict on a request that breaks the spec: refused with a 4xx that names the
// violation, either in `sl-violations` (where the spec declares a 4xx: SendGrid, Mailgun)
// or as Prism's own 422 problem+json (where it declares none: Resend, Twilio).
// `field` must be named in the verdict, so the refusal is for the removed field.
::testing::AssertionResult spec_refused(const HttpRequest& request, const HttpResponse& response,
                                        std::string_view field) {
  const bool problem =
      response.status == 422 &&
      response.header("Content-Type").value_or("").starts_with("application/problem+json");
  std::string verdict = problem ? response.body : "";
  for (const auto& v : request_violations(response)) verdict += v;
  const std::string quoted = "'" + std::string(field) + "'";
  if (response.status >= 400 && response.status < 500 &&
      verdict.find(quoted) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << request.method << " " << request.url << " was not refused: HTTP " << response.status
         << " " << response.body;
}

OutboundMessage email(std::string id, std::string to) {
  OutboundMessage m;
  m.id = std::move(id);
  m.agent_id = "0190b2a4-0000-7000-8000-000000000001";
  m.channel = Channel::email;
  m.from = Mailbox{"Wright Realty", "matt@wrightrealty.com"};
  m.reply_to = "office@wrightrealty.com";
  m.to = Mailbox{"Jane Buyer", std::move(to)};
  m.subject = "New listing: 12 Oak St";
  m.text = "A new home just listed.";
  m.html = "<p>A new home just listed.</p>";
  m.headers = {{"List-Unsubscribe", "<https://herald.example/u/abc>"},
               {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  return m;
}

std::vector<OutboundMessage> emails(std::size_t n) {
  std::vector<OutboundMessage> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(email("0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a8" + std::to_string(i),
                        "buyer" + std::to_string(i) + "@example.com"));
  }
  return out;
}

// A personalized batch as the dispatcher builds it: shared content holding the provider's
// tags, each message with its own values and its own List-Unsubscribe URL.
std::vector<OutboundMessage> personalized(ProviderId provider, std::size_t n) {
  const Provider& adapter = provider_for(provider);
  auto out = emails(n);
  for (std::size_t i = 0; i < out.size(); ++i) {
    OutboundMessage& m = out[i];
    m.subject = "News for " + adapter.placeholder("t0");
    m.html = "<p>Hi " + adapter.placeholder("h0") + "</p><a href=\"" + adapter.placeholder("h1") +
             "\">Unsubscribe</a>";
    m.text = "Hi " + adapter.placeholder("t0") + "\nUnsubscribe: " + adapter.placeholder("t1");
    std::string url = "https://herald.example/u/token" + std::to_string(i);
    m.substitutions = {{"t0", "Buyer " + std::to_string(i)},
                       {"h0", "Buyer " + std::to_string(i)},
                       {"h1", url},
                       {"t1", url}};
    m.headers = {{"List-Unsubscribe", "<" + url + ">"},
                 {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  }
  return out;
}

OutboundMessage sms() {
  OutboundMessage m;
  m.id = "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a90";
  m.channel = Channel::sms;
  m.from_phone = "+15017122661";
  m.to_phone = "+15558675310";
  m.body = "Sunset Properties: open house Sat 1-3pm. Reply STOP to opt out.";
  m.status_callback = "https://herald.example/webhooks/twilio/status";
  return m;
}

Credentials credentials(ProviderId provider, std::string base_url) {
  Credentials c;
  c.provider = provider;
  c.base_url = std::move(base_url);
  c.secrets.set("apiKey", Secret(provider == "sendgrid" ? "SG.contract.test" : "re_contract_test"));
  if (provider == "mailgun") {
    c.secrets.set("apiKey", Secret("key-contracttest"));
    c.params.set("domain", "mg.wrightrealty.com");
  }
  if (provider == "twilio") {
    c.params.set("accountSid", "AC0123456789abcdef0123456789abcdef");
    c.secrets.set("authToken", Secret("contract-test-token"));
  }
  return c;
}

// Sends `messages` through the adapter against the mock; checks Prism's verdict and that the
// adapter reads Prism's (spec-example) answer as accepted.
void expect_send_valid(ProviderId provider, const std::string& base_url,
                       std::span<const OutboundMessage> messages) {
  const Provider& adapter = provider_for(provider);
  const HttpRequest request = adapter.build_send(credentials(provider, base_url), messages);
  const HttpResponse response = perform(request);
  EXPECT_TRUE(spec_valid(request, response));
  const auto outcomes = adapter.classify_send(response, messages.size());
  ASSERT_EQ(outcomes.size(), messages.size());
  for (const auto& o : outcomes) EXPECT_EQ(o.kind, OutcomeKind::accepted) << o.reason;
}

void expect_verify_valid(ProviderId provider, const std::string& base_url) {
  const Provider& adapter = provider_for(provider);
  const HttpRequest request = adapter.build_verify(credentials(provider, base_url));
  const HttpResponse response = perform(request);
  EXPECT_TRUE(spec_valid(request, response));
  const VerifyOutcome v = adapter.classify_verify(response);
  EXPECT_TRUE(v.ok) << v.detail;
}

// A registration played against a mock: the requests the twin asked for and its last step.
struct Played {
  std::vector<HttpRequest> requests;
  RegistrationStep last;
};

// Answers some requests of a registration instead of the mock (by the request and its index),
// to reach branches the spec's static examples do not (an "already exists" answer).
using Scripted = std::function<std::optional<HttpResponse>(const HttpRequest&, std::size_t)>;

// Which of a twin's step functions to play.
enum class Steps { registration, unregistration };

// Plays `provider`'s registration (or unregistration) of `receiver` against the mock at
// `base_url`: every request the twin asks for that `scripted` does not answer is performed and
// must validate against the spec. Stops after 20 requests.
Played expect_steps_valid(Steps which, ProviderId provider, const std::string& base_url,
                          std::string_view receiver, const Scripted& scripted) {
  const WebhookTwin* twin = provider_for(provider).webhook();
  Played played;
  if (twin == nullptr) {
    ADD_FAILURE() << provider << " has no webhook twin";
    return played;
  }
  const Credentials c = credentials(provider, base_url);
  std::vector<HttpResponse> answers;
  for (std::size_t i = 0; i <= 20; ++i) {
    RegistrationStep step = which == Steps::registration
                                ? twin->register_step(c, receiver, answers)
                                : twin->unregister_step(c, receiver, answers);
    if (!step.request) {
      played.last = std::move(step);
      return played;
    }
    const HttpRequest& request = played.requests.emplace_back(std::move(*step.request));
    if (auto answer = scripted ? scripted(request, i) : std::nullopt) {
      answers.push_back(std::move(*answer));
      continue;
    }
    const HttpResponse response = perform(request);
    EXPECT_TRUE(spec_valid(request, response)) << "request " << i;
    answers.push_back(response);
  }
  ADD_FAILURE() << "the twin's steps did not end";
  return played;
}

Played expect_registration_valid(ProviderId provider, const std::string& base_url,
                                 std::string_view receiver, const Scripted& scripted = {}) {
  return expect_steps_valid(Steps::registration, provider, base_url, receiver, scripted);
}

Played expect_unregistration_valid(ProviderId provider, const std::string& base_url,
                                   std::string_view receiver, const Scripted& scripted = {}) {
  return expect_steps_valid(Steps::unregistration, provider, base_url, receiver, scripted);
}

// Ended as an unregistration should: nothing left to ask, no error.
::testing::AssertionResult ended_removed(const Played& played) {
  if (played.last.error) {
    return ::testing::AssertionFailure() << "failed: " << played.last.error->message;
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> methods_of(const Played& played) {
  std::vector<std::string> out;
  for (const auto& r : played.requests) out.push_back(r.method + " " + r.url);
  return out;
}

TEST(ResendContract, SingleSendMatchesSpec) {
  // Invariant: POST /emails as built validates against Resend's official spec.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("resend", url, emails(1));
}

TEST(ResendContract, BatchSendMatchesSpec) {
  // Invariant: POST /emails/batch with distinct emails validates against the spec.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  auto batch = emails(3);
  batch[2].subject = "Price drop: 9 Elm St";
  batch[2].text.clear();
  expect_send_valid("resend", url, batch);
}

TEST(ResendContract, VerifyMatchesSpec) {
  // Invariant: GET /domains validates against the spec and reads as a valid key.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  expect_verify_valid("resend", url);
}

TEST(ResendContract, RefereeRefusesAMissingRecipient) {
  // Invariant: the referee really validates bodies (a send without `to` is refused).
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  const auto ms = emails(1);
  HttpRequest request = provider_for("resend").build_send(credentials("resend", url), ms);
  auto body = nlohmann::json::parse(request.body);
  body.erase("to");
  request.body = body.dump();
  EXPECT_TRUE(spec_refused(request, perform(request), "to"));
}

TEST(ResendContract, WebhookRegistrationMatchesSpec) {
  // Invariant: GET /webhooks then POST /webhooks {endpoint, events} validate, and the answer's
  // signing_secret is the key.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  const Played played =
      expect_registration_valid("resend", url, "https://herald.example/webhooks/resend/platform");
  EXPECT_EQ(methods_of(played), (std::vector<std::string>{"GET " + url + "/webhooks?limit=100",
                                                          "POST " + url + "/webhooks"}));
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(ResendContract, WebhookReregistrationMatchesSpec) {
  // Invariant: when the list shows a webhook at the receiver (the spec example's endpoint),
  // PATCH /webhooks/{id} and GET /webhooks/{id} validate and give the key.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  const Played played =
      expect_registration_valid("resend", url, "https://webhook.example.com/handler");
  ASSERT_EQ(played.requests.size(), 3u);
  EXPECT_EQ(played.requests[1].method, "PATCH");
  EXPECT_EQ(played.requests[2].method, "GET");
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(ResendContract, WebhookUnregistrationMatchesSpec) {
  // Invariant: GET /webhooks finds the webhook at the receiver (the spec example's endpoint)
  // and DELETE /webhooks/{id} (webhooks/remove) validates; that ends the unregistration.
  const std::string url = mock_url("HERALD_PRISM_RESEND_URL");
  ASSERT_FALSE(url.empty());
  const Played played =
      expect_unregistration_valid("resend", url, "https://webhook.example.com/handler");
  EXPECT_EQ(methods_of(played),
            (std::vector<std::string>{
                "GET " + url + "/webhooks?limit=100",
                "DELETE " + url + "/webhooks/479e3145-dd38-476b-932c-529ceb705947"}));
  EXPECT_TRUE(ended_removed(played));
}

TEST(SendGridContract, SingleSendMatchesSpec) {
  // Invariant: POST /v3/mail/send as built (custom_args inside the personalization) validates.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("sendgrid", url, emails(1));
}

TEST(SendGridContract, PersonalizationBatchMatchesSpec) {
  // Invariant: the shared-content batch shape (one personalization per message) validates.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("sendgrid", url, emails(3));
}

TEST(SendGridContract, PersonalizedBatchWithSubstitutionsMatchesSpec) {
  // Invariant: substitutions and headers inside each personalization validate.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("sendgrid", url, personalized("sendgrid", 3));
}

TEST(SendGridContract, VerifyMatchesScopesSpec) {
  // Invariant: GET /v3/scopes validates against SendGrid's scopes spec and finds mail.send.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_SCOPES_URL");
  ASSERT_FALSE(url.empty());
  expect_verify_valid("sendgrid", url);
}

TEST(SendGridContract, RefereeRefusesMissingPersonalizations) {
  // Invariant: the referee really validates bodies.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_URL");
  ASSERT_FALSE(url.empty());
  const auto ms = emails(1);
  HttpRequest request = provider_for("sendgrid").build_send(credentials("sendgrid", url), ms);
  auto body = nlohmann::json::parse(request.body);
  body.erase("personalizations");
  request.body = body.dump();
  EXPECT_TRUE(spec_refused(request, perform(request), "personalizations"));
}

TEST(SendGridContract, WebhookRegistrationMatchesWebhooksSpec) {
  // Invariant: POST /v3/user/webhooks/event/settings and PATCH …/settings/signed/{id} validate
  // against tsg_webhooks_v3.json, and the answer's public_key is the key.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_WEBHOOKS_URL");
  ASSERT_FALSE(url.empty());
  const Played played = expect_registration_valid(
      "sendgrid", url, "https://herald.example/webhooks/sendgrid/platform");
  ASSERT_EQ(played.requests.size(), 2u);
  EXPECT_EQ(played.requests[0].method, "POST");
  EXPECT_EQ(played.requests[1].method, "PATCH");
  EXPECT_NE(played.requests[1].url.find("/v3/user/webhooks/event/settings/signed/"),
            std::string::npos);
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(SendGridContract, WebhookUpdateMatchesWebhooksSpec) {
  // Invariant: after a 400 "already exists" (the spec's own example, answered here), PATCH
  // …/settings/{id} with the settings validates, then signing as before.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_WEBHOOKS_URL");
  ASSERT_FALSE(url.empty());
  const Played played = expect_registration_valid(
      "sendgrid", url, "https://herald.example/webhooks/sendgrid/platform",
      [](const HttpRequest& r, std::size_t) -> std::optional<HttpResponse> {
        if (r.method != "POST") return std::nullopt;
        return HttpResponse{
            400,
            {},
            R"({"errors":[{"id":"77d4a5da-7015-11ed-a1eb-0242ac120002","message":"Webhook at 'https://herald.example/webhooks/sendgrid/platform' already exists. Please provide a unique URL.","url":"https://herald.example/webhooks/sendgrid/platform"}]})"};
      });
  ASSERT_EQ(played.requests.size(), 3u);
  EXPECT_EQ(played.requests[1].url,
            url + "/v3/user/webhooks/event/settings/77d4a5da-7015-11ed-a1eb-0242ac120002");
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(SendGridContract, WebhookUnregistrationMatchesWebhooksSpec) {
  // Invariant: GET …/event/settings/all finds the webhook at the receiver (the first of the
  // spec example's two) and DELETE …/settings/{id} (DeleteEventWebhook) validates; the other
  // webhook is not touched.
  const std::string url = mock_url("HERALD_PRISM_SENDGRID_WEBHOOKS_URL");
  ASSERT_FALSE(url.empty());
  const Played played =
      expect_unregistration_valid("sendgrid", url, "https://emailengagment.example.com");
  EXPECT_EQ(methods_of(played),
            (std::vector<std::string>{
                "GET " + url + "/v3/user/webhooks/event/settings/all",
                "DELETE " + url +
                    "/v3/user/webhooks/event/settings/77d4a5da-7015-11ed-a1eb-0242ac120002"}));
  EXPECT_TRUE(ended_removed(played));
}

TEST(MailgunContract, SingleSendMatchesSpec) {
  // Invariant: multipart POST /v3/{domain}/messages as built validates against Mailgun's spec.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("mailgun", url, emails(1));
}

TEST(MailgunContract, RecipientVariablesBatchMatchesSpec) {
  // Invariant: the shared-content batch shape (repeated to + recipient-variables) validates.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("mailgun", url, emails(3));
}

TEST(MailgunContract, PersonalizedBatchWithRecipientVariablesMatchesSpec) {
  // Invariant: %recipient.x% content, per-recipient header values and recipient-variables
  // validate.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  expect_send_valid("mailgun", url, personalized("mailgun", 3));
}

TEST(MailgunContract, VerifyMatchesSpec) {
  // Invariant: GET /v4/domains/{name} validates against the spec and reads as valid.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  expect_verify_valid("mailgun", url);
}

TEST(MailgunContract, RefereeRefusesAMissingRecipient) {
  // Invariant: the referee really validates multipart bodies (no `to` part is refused).
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  const auto ms = emails(1);
  HttpRequest request = provider_for("mailgun").build_send(credentials("mailgun", url), ms);
  // Rename the `to` part so the body stays well-formed multipart.
  const std::string part = "name=\"to\"";
  const auto at = request.body.find(part);
  ASSERT_NE(at, std::string::npos);
  request.body.replace(at, part.size(), "name=\"v:to\"");
  EXPECT_TRUE(spec_refused(request, perform(request), "to"));
}

TEST(MailgunContract, WebhookRegistrationAddingToExistingUrlsMatchesSpec) {
  // Invariant: GET /v3/domains/{domain}/webhooks, a PUT per type keeping the URLs the spec's
  // example lists (foo.com, bar.com) plus Herald's, and GET /v5/accounts/http_signing_key all
  // validate; the signing key is the key.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  const Played played =
      expect_registration_valid("mailgun", url, "https://herald.example/webhooks/mailgun/platform");
  ASSERT_EQ(played.requests.size(), 9u);
  for (std::size_t i = 1; i <= 7; ++i) EXPECT_EQ(played.requests[i].method, "PUT") << i;
  EXPECT_EQ(played.requests[8].url, url + "/v5/accounts/http_signing_key");
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(MailgunContract, WebhookRegistrationCreatingTypesMatchesSpec) {
  // Invariant: on a domain without webhooks (answered here) each POST {id, url} validates, and
  // a POST answered "already exists" is followed by a GET of that type and a PUT that validate.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  const Played played = expect_registration_valid(
      "mailgun", url, "https://herald.example/webhooks/mailgun/platform",
      [](const HttpRequest&, std::size_t i) -> std::optional<HttpResponse> {
        if (i == 0) return HttpResponse{200, {}, R"({"webhooks":{}})"};
        if (i == 2) return HttpResponse{400, {}, R"({"message":"Webhook already exists"})"};
        return std::nullopt;
      });
  ASSERT_EQ(played.requests.size(), 1u + 7u + 2u + 1u);
  EXPECT_EQ(played.requests[1].method, "POST");
  EXPECT_EQ(played.requests[3].method, "GET");
  EXPECT_EQ(played.requests[4].method, "PUT");
  EXPECT_TRUE(played.last.key.has_value()) << (played.last.error ? played.last.error->message : "");
}

TEST(MailgunContract, WebhookUnregistrationKeepingOtherUrlsMatchesSpec) {
  // Invariant: GET /v3/domains/{domain}/webhooks, then for each of the spec example's eight
  // types (https://foo.com and https://bar.com, the receiver being foo.com) a PUT
  // …/webhooks/{type} with the other URL alone validates.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  const Played played = expect_unregistration_valid("mailgun", url, "https://foo.com");
  ASSERT_EQ(played.requests.size(), 1u + 8u);
  for (std::size_t i = 1; i <= 8; ++i) {
    EXPECT_EQ(played.requests[i].method, "PUT") << i;
    EXPECT_NE(played.requests[i].body.find("https://bar.com"), std::string::npos) << i;
    EXPECT_EQ(played.requests[i].body.find("https://foo.com"), std::string::npos) << i;
  }
  EXPECT_TRUE(ended_removed(played));
}

TEST(MailgunContract, WebhookUnregistrationDeletingTypesMatchesSpec) {
  // Invariant: a type whose only URL is the receiver is removed with DELETE
  // /v3/domains/{domain_name}/webhooks/{webhook_name}, which validates, as does the PUT of a
  // type that keeps another URL.
  const std::string url = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(url.empty());
  const std::string receiver = "https://herald.example/webhooks/mailgun/platform";
  const Played played = expect_unregistration_valid(
      "mailgun", url, receiver,
      [&](const HttpRequest&, std::size_t i) -> std::optional<HttpResponse> {
        if (i != 0) return std::nullopt;
        const nlohmann::json listing = {
            {"webhooks",
             {{"delivered", {{"urls", {receiver}}}},
              {"opened", {{"urls", {"https://crm.example/hook", receiver}}}}}}};
        return HttpResponse{200, {}, listing.dump()};
      });
  EXPECT_EQ(methods_of(played),
            (std::vector<std::string>{
                "GET " + url + "/v3/domains/mg.wrightrealty.com/webhooks",
                "DELETE " + url + "/v3/domains/mg.wrightrealty.com/webhooks/delivered",
                "PUT " + url + "/v3/domains/mg.wrightrealty.com/webhooks/opened"}));
  EXPECT_TRUE(ended_removed(played));
}

TEST(WebhookRegistrationContract, RefereesRefuseARegistrationMissingItsRequiredField) {
  // Invariant: the referees really validate the registration bodies: Resend's POST /webhooks
  // without `events`, SendGrid's settings without `url` and Mailgun's webhook without `id` are
  // refused naming that field.
  const std::string resend = mock_url("HERALD_PRISM_RESEND_URL");
  const std::string sendgrid = mock_url("HERALD_PRISM_SENDGRID_WEBHOOKS_URL");
  const std::string mailgun = mock_url("HERALD_PRISM_MAILGUN_URL");
  ASSERT_FALSE(resend.empty() || sendgrid.empty() || mailgun.empty());
  const std::string receiver = "https://herald.example/webhooks/x/platform";
  // The request the twin asks for after the answers given.
  auto request_after = [&](ProviderId p, const std::string& base,
                           std::vector<HttpResponse> answers) {
    return provider_for(p)
        .webhook()
        ->register_step(credentials(p, base), receiver, answers)
        .request;
  };
  auto r = request_after("resend", resend, {HttpResponse{200, {}, R"({"data":[]})"}});
  ASSERT_TRUE(r.has_value());
  auto body = nlohmann::json::parse(r->body);
  body.erase("events");
  r->body = body.dump();
  EXPECT_TRUE(spec_refused(*r, perform(*r), "events"));

  auto s = request_after("sendgrid", sendgrid, {});
  ASSERT_TRUE(s.has_value());
  body = nlohmann::json::parse(s->body);
  body.erase("url");
  s->body = body.dump();
  EXPECT_TRUE(spec_refused(*s, perform(*s), "url"));

  auto m = request_after("mailgun", mailgun, {HttpResponse{200, {}, R"({"webhooks":{}})"}});
  ASSERT_TRUE(m.has_value());
  const std::string part = "name=\"id\"";
  const auto at = m->body.find(part);
  ASSERT_NE(at, std::string::npos);
  m->body.replace(at, part.size(), "name=\"v:id\"");
  EXPECT_TRUE(spec_refused(*m, perform(*m), "id"));
}

TEST(TwilioContract, SendMatchesSpec) {
  // Invariant: form POST Accounts/{sid}/Messages.json as built validates against Twilio's spec.
  const std::string url = mock_url("HERALD_PRISM_TWILIO_URL");
  ASSERT_FALSE(url.empty());
  const OutboundMessage with_callback = sms();
  expect_send_valid("twilio", url, std::span(&with_callback, 1));
  OutboundMessage without_callback = sms();
  without_callback.status_callback.clear();
  expect_send_valid("twilio", url, std::span(&without_callback, 1));
  // With tracking on: the account's receiver plus ?message=<id>.
  const Provider& adapter = provider_for("twilio");
  Credentials tracked = credentials("twilio", url);
  tracked.status_callback_url = "https://herald.example/webhooks/twilio/platform/status";
  const HttpRequest request = adapter.build_send(tracked, std::span(&without_callback, 1));
  EXPECT_NE(request.body.find("StatusCallback=https%3A%2F%2Fherald.example%2Fwebhooks%2Ftwilio%"
                              "2Fplatform%2Fstatus%3Fmessage%3D"),
            std::string::npos);
  EXPECT_TRUE(spec_valid(request, perform(request)));
}

TEST(TwilioContract, VerifyMatchesSpec) {
  // Invariant: GET Accounts/{sid}.json validates against the spec and reads as an active account.
  const std::string url = mock_url("HERALD_PRISM_TWILIO_URL");
  ASSERT_FALSE(url.empty());
  expect_verify_valid("twilio", url);
}

TEST(TwilioContract, RefereeRefusesAMissingTo) {
  // Invariant: the referee really validates form bodies (no `To` is refused).
  const std::string url = mock_url("HERALD_PRISM_TWILIO_URL");
  ASSERT_FALSE(url.empty());
  const OutboundMessage m = sms();
  HttpRequest request =
      provider_for("twilio").build_send(credentials("twilio", url), std::span(&m, 1));
  request.body = request.body.substr(request.body.find('&') + 1);  // drop "To=…"
  EXPECT_TRUE(spec_refused(request, perform(request), "To"));
}

}  // namespace
}  // namespace herald::providers
