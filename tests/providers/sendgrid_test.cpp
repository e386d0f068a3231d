// SendGrid adapter: exact requests and classification of SendGrid's real response shapes
// (provider-specs/README.md § SendGrid; spec tsg_mail_v3.json, tsg_scopes_v3.json).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>

#include "providers/provider.h"
#include "providers/test_support.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

const Provider& sendgrid() {
  return provider_for("sendgrid");
}

HttpResponse sendgrid_error(int status, std::string_view message, Headers headers = {}) {
  return response(status, json{{"errors", {{{"field", nullptr}, {"message", message}}}}}.dump(),
                  std::move(headers));
}

TEST(SendGrid, CapabilitiesBatchUpTo1000SharingContent) {
  // Invariant: up to 1,000 personalizations per request (spec maxItems), which share one
  // content; no idempotency key.
  const Capabilities c = sendgrid().capabilities();
  EXPECT_EQ(c.channel, Channel::email);
  EXPECT_EQ(c.max_batch, 1000u);
  EXPECT_FALSE(c.idempotency_keys);
  EXPECT_TRUE(c.shared_content);
  EXPECT_EQ(sendgrid().placeholder("h3"), "-herald-h3-");
}

TEST(SendGrid, SendIsExactRequest) {
  // Invariant: POST /v3/mail/send, Bearer key, UA, JSON with the id in the personalization's
  // custom_args (never the top-level custom_args the spec types as a string).
  const OutboundMessage m = email_message();
  const HttpRequest r = sendgrid().build_send(sendgrid_credentials(), std::span(&m, 1));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.sendgrid.test/v3/mail/send");
  EXPECT_EQ(r.headers, (Headers{{"Authorization", "Bearer SG.testKeyId123.testSecretPart456789"},
                                {"Content-Type", "application/json"},
                                {"User-Agent", std::string(kUserAgent)}}));
  const json expected = {
      {"personalizations",
       {{{"to", {{{"email", "buyer@example.com"}, {"name", "Jane Buyer"}}}},
         {"custom_args", {{"herald_message_id", m.id}}}}}},
      {"from", {{"email", "matt@wrightrealty.com"}, {"name", "Wright Realty"}}},
      {"reply_to", {{"email", "office@wrightrealty.com"}}},
      {"subject", "New listing: 12 Oak St"},
      {"content",
       {{{"type", "text/plain"}, {"value", "A new home just listed."}},
        {{"type", "text/html"}, {"value", "<p>A new home just listed.</p>"}}}},
      {"headers",
       {{"List-Unsubscribe", "<https://herald.example/u/abc>"},
        {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}},
  };
  const json body = json::parse(r.body);
  EXPECT_EQ(body, expected);
  EXPECT_FALSE(body.contains("custom_args"));
}

TEST(SendGrid, EmptyOptionalFieldsAreOmitted) {
  // Invariant: no empty name, reply_to, content value or headers (SendGrid refuses empty values).
  OutboundMessage m = email_message();
  m.from.name.clear();
  m.to.name.clear();
  m.reply_to.clear();
  m.text.clear();
  m.headers.clear();
  const json body =
      json::parse(sendgrid().build_send(sendgrid_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(
      body,
      (json{{"personalizations",
             {{{"to", {{{"email", "buyer@example.com"}}}},
               {"custom_args", {{"herald_message_id", m.id}}}}}},
            {"from", {{"email", "matt@wrightrealty.com"}}},
            {"subject", "New listing: 12 Oak St"},
            {"content", {{{"type", "text/html"}, {"value", "<p>A new home just listed.</p>"}}}}}));
}

TEST(SendGrid, SharedContentBatchHasOnePersonalizationPerMessage) {
  // Invariant: the batch shape (for messages sharing content) gives each message its own
  // envelope and its own herald_message_id.
  const std::array<OutboundMessage, 2> ms = {email_message("id-1", "a@example.com"),
                                             email_message("id-2", "b@example.com")};
  const json body = json::parse(sendgrid().build_send(sendgrid_credentials(), ms).body);
  ASSERT_EQ(body["personalizations"].size(), 2u);
  EXPECT_EQ(body["personalizations"][0],
            (json{{"to", {{{"email", "a@example.com"}, {"name", "Jane Buyer"}}}},
                  {"custom_args", {{"herald_message_id", "id-1"}}}}));
  EXPECT_EQ(body["personalizations"][1],
            (json{{"to", {{{"email", "b@example.com"}, {"name", "Jane Buyer"}}}},
                  {"custom_args", {{"herald_message_id", "id-2"}}}}));
  EXPECT_EQ(body["subject"], "New listing: 12 Oak St");
}

TEST(SendGrid, PersonalizedBatchCarriesSubstitutionsAndHeadersPerRecipient) {
  // Invariant: in a personalized batch the shared content holds the tags, each
  // personalization holds its values and its own headers (substitutions don't reach
  // headers), and there are no top-level headers.
  std::array<OutboundMessage, 2> ms = {email_message("id-1", "a@example.com"),
                                       email_message("id-2", "b@example.com")};
  for (auto& m : ms) {
    m.subject = "Hi -herald-t0-";
    m.html = "<p>Hi -herald-h0-</p>";
  }
  ms[0].substitutions = {{"t0", "Ann"}, {"h0", "Ann &amp; Bo"}};
  ms[1].substitutions = {{"t0", "Cy"}, {"h0", "Cy"}};
  ms[1].headers[0].second = "<https://herald.example/u/other>";
  const json body = json::parse(sendgrid().build_send(sendgrid_credentials(), ms).body);
  EXPECT_FALSE(body.contains("headers"));
  EXPECT_EQ(body["subject"], "Hi -herald-t0-");
  ASSERT_EQ(body["personalizations"].size(), 2u);
  EXPECT_EQ(body["personalizations"][0]["substitutions"],
            (json{{"-herald-t0-", "Ann"}, {"-herald-h0-", "Ann &amp; Bo"}}));
  EXPECT_EQ(body["personalizations"][1]["substitutions"],
            (json{{"-herald-t0-", "Cy"}, {"-herald-h0-", "Cy"}}));
  EXPECT_EQ(body["personalizations"][0]["headers"]["List-Unsubscribe"],
            "<https://herald.example/u/abc>");
  EXPECT_EQ(body["personalizations"][1]["headers"]["List-Unsubscribe"],
            "<https://herald.example/u/other>");
  EXPECT_EQ(body["personalizations"][1]["headers"]["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click");
}

TEST(SendGrid, VerifyIsGetScopes) {
  // Invariant: the credential check is a read-only GET /v3/scopes with the key and UA.
  const HttpRequest r = sendgrid().build_verify(sendgrid_credentials());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api.sendgrid.test/v3/scopes");
  EXPECT_EQ(r.headers, (Headers{{"Authorization", "Bearer SG.testKeyId123.testSecretPart456789"},
                                {"User-Agent", std::string(kUserAgent)}}));
  EXPECT_TRUE(r.body.empty());
}

TEST(SendGrid, AcceptedCarriesXMessageId) {
  // Invariant: 202 (empty body) → accepted, id from the X-Message-Id header, for every message.
  const auto out = sendgrid().classify_send(
      response(202, "", {{"x-message-id", "W8Z1nZ3kQ0CQ7sS0aZ9x1g"}, {"Content-Length", "0"}}), 2);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_EQ(o.kind, OutcomeKind::accepted);
    EXPECT_EQ(o.provider_message_id, "W8Z1nZ3kQ0CQ7sS0aZ9x1g");
    EXPECT_EQ(o.http_status, 202);
  }
  const auto no_header = sendgrid().classify_send(response(202), 1);
  EXPECT_EQ(no_header[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(no_header[0].provider_message_id, "");
}

TEST(SendGrid, UnauthorizedIsBadCredentials) {
  // Invariant: 401 (missing/wrong key) marks the integration failing.
  const auto out = sendgrid().classify_send(
      sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked"), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(out[0].reason, "The provided authorization grant is invalid, expired, or revoked");
  EXPECT_EQ(out[0].http_status, 401);
}

TEST(SendGrid, ForbiddenIsBadCredentials) {
  // Invariant: every SendGrid 403 (no mail.send scope, unverified Sender Identity, account
  // block) is the account's fault, so the integration is marked failing and fallback applies.
  for (std::string_view message :
       {"access forbidden",
        "The from address does not match a verified Sender Identity. Mail cannot be sent until "
        "this error is resolved."}) {
    const auto out = sendgrid().classify_send(sendgrid_error(403, message), 1);
    EXPECT_EQ(out[0].kind, OutcomeKind::bad_credentials) << message;
    EXPECT_EQ(out[0].reason, message);
  }
}

TEST(SendGrid, RateLimitUsesRetryAfterThenRateLimitReset) {
  // Invariant: 429 is retried after Retry-After, else until X-RateLimit-Reset measured on
  // SendGrid's own Date header.
  const auto with_retry_after = sendgrid().classify_send(
      sendgrid_error(429, "too many requests", {{"Retry-After", "7"}, {"X-RateLimit-Reset", "1"}}),
      1);
  EXPECT_EQ(with_retry_after[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(with_retry_after[0].retry_after, std::chrono::seconds(7));

  // Date: Tue, 15 Nov 1994 08:12:31 GMT = 784887151.
  const auto with_reset =
      sendgrid().classify_send(sendgrid_error(429, "too many requests",
                                              {{"Date", "Tue, 15 Nov 1994 08:12:31 GMT"},
                                               {"X-RateLimit-Limit", "600"},
                                               {"X-RateLimit-Remaining", "0"},
                                               {"X-RateLimit-Reset", "784887193"}}),
                               1);
  EXPECT_EQ(with_reset[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(with_reset[0].retry_after, std::chrono::seconds(42));
  EXPECT_EQ(with_reset[0].reason, "too many requests");

  const auto past_reset = sendgrid().classify_send(
      sendgrid_error(
          429, "too many requests",
          {{"Date", "Tue, 15 Nov 1994 08:12:31 GMT"}, {"X-RateLimit-Reset", "784887100"}}),
      1);
  EXPECT_EQ(past_reset[0].retry_after, std::chrono::seconds(0));

  const auto bare = sendgrid().classify_send(sendgrid_error(429, "too many requests"), 1);
  EXPECT_EQ(bare[0].kind, OutcomeKind::retryable);
  EXPECT_FALSE(bare[0].retry_after.has_value());
}

TEST(SendGrid, RateLimitResetWithoutDateUsesOurClock) {
  // Invariant: without a Date header the reset is still turned into a bounded wait.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto out = sendgrid().classify_send(
      sendgrid_error(429, "too many requests", {{"X-RateLimit-Reset", std::to_string(now + 30)}}),
      1);
  ASSERT_TRUE(out[0].retry_after.has_value());
  EXPECT_GE(*out[0].retry_after, std::chrono::seconds(25));
  EXPECT_LE(*out[0].retry_after, std::chrono::seconds(30));
}

TEST(SendGrid, ServerErrorsAndNoResponseAreRetryable) {
  // Invariant: 5xx and no response are retried, honouring Retry-After.
  const auto out = sendgrid().classify_send(
      sendgrid_error(503, "service unavailable", {{"Retry-After", "12"}}), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(out[0].retry_after, std::chrono::seconds(12));
  EXPECT_EQ(
      sendgrid()
          .classify_send(response(500, R"({"errors":[{"message":"internal server error"}]})"), 1)[0]
          .kind,
      OutcomeKind::retryable);
  const auto none = sendgrid().classify_send(response(0), 1);
  EXPECT_EQ(none[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(none[0].reason, "no response from SendGrid");
}

TEST(SendGrid, ValidationErrorsArePermanentWithJoinedMessages) {
  // Invariant: 400/413 fail fast with every SendGrid error message joined.
  const auto out = sendgrid().classify_send(
      response(
          400,
          R"({"errors":[)"
          R"({"message":"The to array is required for all personalization objects, and must have at least one email object with a valid email address.","field":"personalizations.0.to","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to"},)"
          R"({"message":"The subject is required.","field":"subject","help":null}]})"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(out[0].reason,
            "The to array is required for all personalization objects, and must have at least one "
            "email object with a valid email address.; The subject is required.");
  const auto too_large = sendgrid().classify_send(sendgrid_error(413, "content too large"), 1);
  EXPECT_EQ(too_large[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(too_large[0].reason, "content too large");
  const auto not_json = sendgrid().classify_send(response(400, "Bad Request"), 1);
  EXPECT_EQ(not_json[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(not_json[0].reason, "SendGrid refused the message as invalid: Bad Request");
}

TEST(SendGrid, VerifyRequiresMailSendScope) {
  // Invariant: a key is accepted only if its scopes include mail.send.
  const auto ok = sendgrid().classify_verify(
      response(200, R"({"scopes":["mail.send","alerts.create","alerts.read"]})"));
  EXPECT_TRUE(ok.ok);
  EXPECT_FALSE(ok.bad_credentials);
  const auto no_send =
      sendgrid().classify_verify(response(200, R"({"scopes":["alerts.create","alerts.read"]})"));
  EXPECT_FALSE(no_send.ok);
  EXPECT_TRUE(no_send.bad_credentials);
  EXPECT_EQ(no_send.detail, "key lacks the mail.send scope");
  const auto garbage = sendgrid().classify_verify(response(200, "garbage"));
  EXPECT_FALSE(garbage.ok || garbage.bad_credentials || garbage.retryable);
  const auto unauthorized = sendgrid().classify_verify(response(
      401,
      R"({"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked"}]})"));
  EXPECT_TRUE(unauthorized.bad_credentials);
  EXPECT_EQ(unauthorized.detail,
            "The provided authorization grant is invalid, expired, or revoked");
  EXPECT_TRUE(sendgrid().classify_verify(sendgrid_error(403, "access forbidden")).bad_credentials);
  EXPECT_TRUE(sendgrid().classify_verify(response(0)).retryable);
  EXPECT_TRUE(sendgrid().classify_verify(sendgrid_error(429, "too many requests")).retryable);
  EXPECT_TRUE(sendgrid().classify_verify(response(502)).retryable);
}

TEST(SendGrid, ReasonNeverCarriesAKey) {
  // Invariant: a key echoed in an error is redacted from the reason.
  const auto out = sendgrid().classify_send(
      sendgrid_error(401, "bad key SG.testKeyId123.testSecretPart456789"), 1);
  EXPECT_EQ(out[0].reason, "bad key [redacted]");
}

}  // namespace
}  // namespace herald::providers
