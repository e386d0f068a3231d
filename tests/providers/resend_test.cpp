// Resend adapter: exact requests and classification of Resend's real response shapes
// (provider-specs/README.md § Resend; https://resend.com/docs/api-reference/errors).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>

#include "providers/encoding.h"
#include "providers/provider.h"
#include "providers/test_support.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

const Provider& resend() {
  return provider_for("resend");
}

HttpResponse resend_error(int status, std::string_view name, std::string_view message,
                          Headers headers = {}) {
  return response(status, json{{"statusCode", status}, {"name", name}, {"message", message}}.dump(),
                  std::move(headers));
}

TEST(Resend, CapabilitiesAllowBatchesOfHundredWithIdempotency) {
  // Invariant: Resend batches up to 100 distinct emails per call and dedupes by key.
  const Capabilities c = resend().capabilities();
  EXPECT_EQ(c.channel, Channel::email);
  EXPECT_EQ(c.max_batch, 100u);
  EXPECT_TRUE(c.idempotency_keys);
}

TEST(Resend, SingleSendIsExactRequest) {
  // Invariant: one message → POST /emails with Bearer key, UA, JSON and its id as Idempotency-Key.
  const OutboundMessage m = email_message();
  const HttpRequest r = resend().build_send(resend_credentials(), std::span(&m, 1));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.resend.test/emails");
  EXPECT_EQ(r.headers, (Headers{{"Authorization", "Bearer re_TestKey_4f9a8b7c6d5e"},
                                {"Content-Type", "application/json"},
                                {"User-Agent", std::string(kUserAgent)},
                                {"Idempotency-Key", m.id}}));
  const json expected = {
      {"from", "Wright Realty <matt@wrightrealty.com>"},
      {"to", {"buyer@example.com"}},
      {"subject", "New listing: 12 Oak St"},
      {"html", "<p>A new home just listed.</p>"},
      {"text", "A new home just listed."},
      {"reply_to", "office@wrightrealty.com"},
      {"headers",
       {{"List-Unsubscribe", "<https://herald.example/u/abc>"},
        {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}},
      {"tags", {{{"name", "herald_message_id"}, {"value", m.id}}}},
  };
  EXPECT_EQ(json::parse(r.body), expected);
}

TEST(Resend, EmptyOptionalFieldsAreOmitted) {
  // Invariant: absent reply-to/text/headers are left out, not sent empty (empty text would
  // stop Resend deriving text from the HTML).
  OutboundMessage m = email_message();
  m.reply_to.clear();
  m.text.clear();
  m.headers.clear();
  m.from = Mailbox{"", "noreply@platform.com"};
  const json body = json::parse(resend().build_send(resend_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(body, (json{{"from", "noreply@platform.com"},
                        {"to", {"buyer@example.com"}},
                        {"subject", "New listing: 12 Oak St"},
                        {"html", "<p>A new home just listed.</p>"},
                        {"tags", {{{"name", "herald_message_id"}, {"value", m.id}}}}}));
}

TEST(Resend, DisplayNameWithSpecialsIsQuoted) {
  // Invariant: a company name with RFC 5322 specials still yields a valid From.
  OutboundMessage m = email_message();
  m.from.name = "Smith, Jones & Co.";
  const json body = json::parse(resend().build_send(resend_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(body["from"], "\"Smith, Jones & Co.\" <matt@wrightrealty.com>");
}

TEST(Resend, TagValueKeepsOnlyAllowedCharacters) {
  // Invariant: the tag never carries characters Resend refuses (letters, digits, _ and - only).
  OutboundMessage m = email_message("msg:42/a.b");
  const json body = json::parse(resend().build_send(resend_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(body["tags"][0]["value"], "msg_42_a_b");
}

TEST(Resend, BatchIsJsonArrayWithDerivedIdempotencyKey) {
  // Invariant: 2+ messages → POST /emails/batch, an array of distinct emails in order, strict
  // validation, and a key derived from every id in order.
  std::array<OutboundMessage, 2> ms = {email_message("id-1", "a@example.com"),
                                       email_message("id-2", "b@example.com")};
  ms[1].subject = "Price drop: 9 Elm St";
  ms[1].html = "<p>Now $450k</p>";
  const HttpRequest r = resend().build_send(resend_credentials(), ms);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.resend.test/emails/batch");
  const std::string key = "batch-" + sha256_hex("id-1\nid-2\n");
  EXPECT_EQ(r.headers, (Headers{{"Authorization", "Bearer re_TestKey_4f9a8b7c6d5e"},
                                {"Content-Type", "application/json"},
                                {"User-Agent", std::string(kUserAgent)},
                                {"Idempotency-Key", key},
                                {"x-batch-validation", "strict"}}));
  const json body = json::parse(r.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["to"], json({"a@example.com"}));
  EXPECT_EQ(body[0]["subject"], "New listing: 12 Oak St");
  EXPECT_EQ(body[0]["tags"][0]["value"], "id-1");
  EXPECT_EQ(body[1]["to"], json({"b@example.com"}));
  EXPECT_EQ(body[1]["subject"], "Price drop: 9 Elm St");
  EXPECT_EQ(body[1]["html"], "<p>Now $450k</p>");
  EXPECT_EQ(body[1]["tags"][0]["value"], "id-2");
}

TEST(Resend, BatchKeyIsStableForSameIdsAndDiffersOtherwise) {
  // Invariant: retrying the same batch replays Resend's answer (same key); a regrouped batch
  // gets a new key rather than a 409 invalid_idempotent_request.
  auto key_of = [](std::vector<OutboundMessage> ms) {
    return std::string(*resend().build_send(resend_credentials(), ms).header("Idempotency-Key"));
  };
  const auto a = email_message("id-a"), b = email_message("id-b"), c = email_message("id-c");
  const std::string ab = key_of({a, b});
  EXPECT_EQ(ab, key_of({a, b}));
  EXPECT_NE(ab, key_of({b, a}));
  EXPECT_NE(ab, key_of({a, b, c}));
  EXPECT_LE(ab.size(), 256u);
  std::vector<OutboundMessage> hundred(100, email_message());
  for (std::size_t i = 0; i < hundred.size(); ++i)
    hundred[i].id = std::string(36, 'a') + std::to_string(i);
  EXPECT_LE(key_of(hundred).size(), 256u);
}

TEST(Resend, VerifyIsGetDomainsWithoutBody) {
  // Invariant: the credential check is a read-only GET /domains with the key and UA.
  const HttpRequest r = resend().build_verify(resend_credentials());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api.resend.test/domains");
  EXPECT_EQ(r.headers, (Headers{{"Authorization", "Bearer re_TestKey_4f9a8b7c6d5e"},
                                {"User-Agent", std::string(kUserAgent)}}));
  EXPECT_TRUE(r.body.empty());
}

TEST(Resend, SingleSuccessYieldsProviderId) {
  // Invariant: 200 {"id"} → accepted with that id.
  const auto out =
      resend().classify_send(response(200, R"({"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})"), 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(out[0].provider_message_id, "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794");
  EXPECT_EQ(out[0].http_status, 200);
}

TEST(Resend, BatchSuccessMapsIdsInRequestOrder) {
  // Invariant: batch 200 {"data":[{"id"}…]} gives each message its own id, in order.
  const auto out = resend().classify_send(
      response(200, R"({"data":[{"id":"ae2014de-c168-4c61-8267-70d2662a1ce1"},)"
                    R"({"id":"faccb7a5-8a28-4e9a-ac64-8da1cc3bc1cb"}]})"),
      2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(out[0].provider_message_id, "ae2014de-c168-4c61-8267-70d2662a1ce1");
  EXPECT_EQ(out[1].kind, OutcomeKind::accepted);
  EXPECT_EQ(out[1].provider_message_id, "faccb7a5-8a28-4e9a-ac64-8da1cc3bc1cb");
}

TEST(Resend, BatchSuccessWithMissingIdsStaysAccepted) {
  // Invariant: a 200 never turns into a failure (that would resend delivered mail); missing
  // ids are empty and events are matched by the herald_message_id tag instead.
  const auto out = resend().classify_send(response(200, R"({"data":[{"id":"only-one"}]})"), 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].provider_message_id, "only-one");
  for (const auto& o : out) EXPECT_EQ(o.kind, OutcomeKind::accepted);
  EXPECT_EQ(out[2].provider_message_id, "");
  EXPECT_EQ(resend().classify_send(response(200, "not json"), 1)[0].kind, OutcomeKind::accepted);
}

TEST(Resend, RejectedKeysAreBadCredentials) {
  // Invariant: 403 invalid_api_key and 401 missing/restricted key mark the integration failing.
  const auto invalid =
      resend().classify_send(resend_error(403, "invalid_api_key", "API key is invalid"), 2);
  ASSERT_EQ(invalid.size(), 2u);
  for (const auto& o : invalid) {
    EXPECT_EQ(o.kind, OutcomeKind::bad_credentials);
    EXPECT_EQ(o.reason, "API key is invalid");
    EXPECT_EQ(o.http_status, 403);
  }
  EXPECT_EQ(resend()
                .classify_send(resend_error(401, "missing_api_key",
                                            "Missing API key in the authorization header."),
                               1)[0]
                .kind,
            OutcomeKind::bad_credentials);
  EXPECT_EQ(resend()
                .classify_send(resend_error(401, "restricted_api_key",
                                            "This API key is restricted to only send emails"),
                               1)[0]
                .kind,
            OutcomeKind::bad_credentials);
}

TEST(Resend, UnverifiedDomain403IsPermanentNotBadCredentials) {
  // Invariant: Resend's 403 validation_error (unverified domain) fails the message with the
  // reason; it does not mark the key bad (README: branch on name, not status).
  const auto out = resend().classify_send(
      resend_error(403, "validation_error",
                   "The wrightrealty.com domain is not verified. Please, add and verify your "
                   "domain on https://resend.com/domains"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(out[0].reason,
            "The wrightrealty.com domain is not verified. Please, add and verify your domain on "
            "https://resend.com/domains");
  EXPECT_EQ(out[0].http_status, 403);
}

TEST(Resend, ValidationErrorsArePermanentWithMessage) {
  // Invariant: 4xx request errors fail fast with the provider's message.
  const auto out = resend().classify_send(
      resend_error(422, "invalid_from_address",
                   "Invalid `from` field. The email address needs to follow the "
                   "`email@example.com` or `Name <email@example.com>` format."),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(out[0].reason,
            "Invalid `from` field. The email address needs to follow the `email@example.com` or "
            "`Name <email@example.com>` format.");
  EXPECT_EQ(resend()
                .classify_send(resend_error(400, "validation_error", "Invalid `to` field."), 1)[0]
                .kind,
            OutcomeKind::permanent);
  EXPECT_EQ(resend()
                .classify_send(resend_error(409, "invalid_idempotent_request",
                                            "Same idempotency key used with a different request "
                                            "payload."),
                               1)[0]
                .kind,
            OutcomeKind::permanent);
}

TEST(Resend, RateLimitIsRetryableWithRetryAfter) {
  // Invariant: 429 rate_limit_exceeded retries after the server's Retry-After.
  const auto out = resend().classify_send(
      resend_error(429, "rate_limit_exceeded",
                   "Too many requests. You can only make 2 requests per second.",
                   {{"ratelimit-limit", "2"},
                    {"ratelimit-remaining", "0"},
                    {"ratelimit-reset", "1"},
                    {"retry-after", "1"}}),
      2);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_EQ(o.kind, OutcomeKind::retryable);
    EXPECT_EQ(o.retry_after, std::chrono::seconds(1));
    EXPECT_EQ(o.http_status, 429);
  }
  const auto quota = resend().classify_send(
      resend_error(429, "daily_quota_exceeded", "You have reached your daily email sending quota.",
                   {{"Retry-After", "3600"}}),
      1);
  EXPECT_EQ(quota[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(quota[0].retry_after, std::chrono::seconds(3600));
}

TEST(Resend, ConcurrentIdempotentRequestIsRetryable) {
  // Invariant: 409 concurrent_idempotent_requests (first try still running) is retried.
  const auto out = resend().classify_send(
      resend_error(409, "concurrent_idempotent_requests",
                   "Same idempotency key used while original request is still in progress."),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::retryable);
  EXPECT_FALSE(out[0].retry_after.has_value());
}

TEST(Resend, ServerErrorsAndNoResponseAreRetryable) {
  // Invariant: 5xx (JSON or not) and no response (status 0) are retried.
  EXPECT_EQ(
      resend()
          .classify_send(
              resend_error(500, "internal_server_error", "An unexpected error occurred."), 1)[0]
          .kind,
      OutcomeKind::retryable);
  const auto gateway = resend().classify_send(
      response(502, "<html><body>Bad Gateway</body></html>", {{"Retry-After", "5"}}), 1);
  EXPECT_EQ(gateway[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(gateway[0].retry_after, std::chrono::seconds(5));
  const auto none = resend().classify_send(response(0), 3);
  ASSERT_EQ(none.size(), 3u);
  for (const auto& o : none) {
    EXPECT_EQ(o.kind, OutcomeKind::retryable);
    EXPECT_EQ(o.reason, "no response from Resend");
  }
}

TEST(Resend, UserAgentBlockIsPermanentNotBadCredentials) {
  // Invariant: Cloudflare's 403 "error code: 1010" (no User-Agent) is our bug, not the key's.
  const auto out = resend().classify_send(response(403, "error code: 1010"), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(out[0].reason, "Resend refused the request for this account: error code: 1010");
}

TEST(Resend, ReasonNeverCarriesAKey) {
  // Invariant: a secret echoed by a provider never reaches a reason string.
  const auto out = resend().classify_send(
      resend_error(403, "invalid_api_key", "API key re_TestKey_4f9a8b7c6d5e is invalid"), 1);
  EXPECT_EQ(out[0].reason, "API key [redacted] is invalid");
}

TEST(Resend, VerifyClassification) {
  // Invariant: 200 and 401 restricted_api_key prove a real key; 403 invalid_api_key rejects
  // it; 429/5xx/no response mean try later.
  const auto full = resend().classify_verify(response(200, R"({"object":"list","data":[]})"));
  EXPECT_TRUE(full.ok);
  EXPECT_FALSE(full.bad_credentials);
  const auto send_only = resend().classify_verify(
      resend_error(401, "restricted_api_key", "This API key is restricted to only send emails"));
  EXPECT_TRUE(send_only.ok);
  EXPECT_EQ(send_only.detail, "key is valid (send-only)");
  EXPECT_EQ(send_only.http_status, 401);
  const auto invalid =
      resend().classify_verify(resend_error(403, "invalid_api_key", "API key is invalid"));
  EXPECT_FALSE(invalid.ok);
  EXPECT_TRUE(invalid.bad_credentials);
  EXPECT_EQ(invalid.detail, "API key is invalid");
  EXPECT_TRUE(resend()
                  .classify_verify(resend_error(401, "missing_api_key", "Missing API key"))
                  .bad_credentials);
  for (int status : {0, 429, 500, 503}) {
    const auto v = resend().classify_verify(response(status));
    EXPECT_FALSE(v.ok) << status;
    EXPECT_TRUE(v.retryable) << status;
    EXPECT_FALSE(v.bad_credentials) << status;
  }
  const auto other = resend().classify_verify(resend_error(405, "method_not_allowed", "nope"));
  EXPECT_FALSE(other.ok || other.bad_credentials || other.retryable);
}

}  // namespace
}  // namespace herald::providers
