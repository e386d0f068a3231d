// Mailgun adapter: exact requests and classification of Mailgun's real response shapes
// (provider-specs/README.md § Mailgun; spec mailgun-openapi.yaml).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>

#include "providers/provider.h"
#include "providers/test_support.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

const Provider& mailgun() {
  return provider_for("mailgun");
}

TEST(Mailgun, CapabilitiesBatchUpTo1000SharingContent) {
  // Invariant: up to 1,000 recipients per request sharing one content, personalized with
  // %recipient.x% tags; no idempotency key.
  const Capabilities c = mailgun().capabilities();
  EXPECT_EQ(c.channel, Channel::email);
  EXPECT_EQ(c.max_batch, 1000u);
  EXPECT_FALSE(c.idempotency_keys);
  EXPECT_TRUE(c.shared_content);
  EXPECT_EQ(mailgun().placeholder("t1"), "%recipient.t1%");
}

TEST(Mailgun, SendIsExactMultipartRequest) {
  // Invariant: POST /v3/{domain}/messages on the region's host, Basic api:<key>, UA, and
  // multipart fields from, to, subject, text, html, h:Reply-To, h:<headers>, v:herald_message_id.
  const OutboundMessage m = email_message();
  const HttpRequest r = mailgun().build_send(mailgun_credentials(), std::span(&m, 1));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.eu.mailgun.test/v3/mg.wrightrealty.com/messages");
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].first, "Authorization");
  EXPECT_EQ(basic_credentials(r.headers[0].second), "api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
  EXPECT_EQ(r.headers[1],
            (std::pair<std::string, std::string>{"User-Agent", std::string(kUserAgent)}));
  EXPECT_EQ(r.headers[2].first, "Content-Type");
  EXPECT_TRUE(r.headers[2].second.starts_with("multipart/form-data; boundary="));
  EXPECT_EQ(parse_multipart(r), (Fields{{"from", "Wright Realty <matt@wrightrealty.com>"},
                                        {"to", "Jane Buyer <buyer@example.com>"},
                                        {"subject", "New listing: 12 Oak St"},
                                        {"text", "A new home just listed."},
                                        {"html", "<p>A new home just listed.</p>"},
                                        {"h:Reply-To", "office@wrightrealty.com"},
                                        {"h:List-Unsubscribe", "<https://herald.example/u/abc>"},
                                        {"h:List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
                                        {"v:herald_message_id", m.id}}));
}

TEST(Mailgun, EmptyOptionalFieldsAreOmitted) {
  // Invariant: absent text/html/reply-to/headers are not sent as empty fields.
  OutboundMessage m = email_message();
  m.html.clear();
  m.reply_to.clear();
  m.headers.clear();
  m.to.name.clear();
  const HttpRequest r = mailgun().build_send(mailgun_credentials(), std::span(&m, 1));
  EXPECT_EQ(parse_multipart(r), (Fields{{"from", "Wright Realty <matt@wrightrealty.com>"},
                                        {"to", "buyer@example.com"},
                                        {"subject", "New listing: 12 Oak St"},
                                        {"text", "A new home just listed."},
                                        {"v:herald_message_id", m.id}}));
}

TEST(Mailgun, BoundaryIsFreshAndNeverInsideAValue) {
  // Invariant: each request gets its own random boundary that no field contains.
  const OutboundMessage m = email_message();
  const HttpRequest a = mailgun().build_send(mailgun_credentials(), std::span(&m, 1));
  const HttpRequest b = mailgun().build_send(mailgun_credentials(), std::span(&m, 1));
  EXPECT_NE(*a.header("Content-Type"), *b.header("Content-Type"));
  const std::string boundary(
      a.header("Content-Type")->substr(std::string_view("multipart/form-data; boundary=").size()));
  EXPECT_GE(boundary.size(), 16u);
  for (const auto& [name, value] : parse_multipart(a))
    EXPECT_EQ(value.find(boundary), std::string::npos);
}

TEST(Mailgun, ValuesSurviveMultipartVerbatim) {
  // Invariant: values with CRLF, quotes, '<' and '@' (which curl -F would treat as files) and
  // non-ASCII text reach Mailgun unchanged.
  OutboundMessage m = email_message();
  m.subject = "Café \"open\" house";
  m.text = "line 1\r\nline 2\r\n--not-a-boundary\r\n@file <inline>";
  const HttpRequest r = mailgun().build_send(mailgun_credentials(), std::span(&m, 1));
  const Fields fields = parse_multipart(r);
  EXPECT_EQ(values_of(fields, "subject"), std::vector<std::string>{"Café \"open\" house"});
  EXPECT_EQ(values_of(fields, "text"), std::vector<std::string>{m.text});
}

TEST(Mailgun, SharedContentBatchUsesRecipientVariables) {
  // Invariant: the batch shape sends each recipient an individual copy (recipient-variables)
  // carrying its own message id.
  const std::array<OutboundMessage, 2> ms = {email_message("id-1", "a@example.com"),
                                             email_message("id-2", "b@example.com")};
  const Fields fields = parse_multipart(mailgun().build_send(mailgun_credentials(), ms));
  EXPECT_EQ(values_of(fields, "to"),
            (std::vector<std::string>{"Jane Buyer <a@example.com>", "Jane Buyer <b@example.com>"}));
  const auto variables = values_of(fields, "recipient-variables");
  ASSERT_EQ(variables.size(), 1u);
  EXPECT_EQ(json::parse(variables[0]), (json{{"a@example.com", {{"herald_message_id", "id-1"}}},
                                             {"b@example.com", {{"herald_message_id", "id-2"}}}}));
  EXPECT_EQ(values_of(fields, "v:herald_message_id"),
            std::vector<std::string>{"%recipient.herald_message_id%"});
}

TEST(Mailgun, PersonalizedBatchPutsValuesAndDifferingHeadersInRecipientVariables) {
  // Invariant: each recipient's substitutions and the header values that differ per
  // recipient (List-Unsubscribe) travel in recipient-variables; shared headers stay plain.
  std::array<OutboundMessage, 2> ms = {email_message("id-1", "a@example.com"),
                                       email_message("id-2", "b@example.com")};
  for (auto& m : ms) m.subject = "Hi %recipient.t0%";
  ms[0].substitutions = {{"t0", "Ann"}};
  ms[1].substitutions = {{"t0", "Cy"}};
  ms[1].headers[0].second = "<https://herald.example/u/other>";
  const Fields fields = parse_multipart(mailgun().build_send(mailgun_credentials(), ms));
  EXPECT_EQ(values_of(fields, "subject"), std::vector<std::string>{"Hi %recipient.t0%"});
  EXPECT_EQ(values_of(fields, "h:List-Unsubscribe"),
            std::vector<std::string>{"%recipient.header0%"});
  EXPECT_EQ(values_of(fields, "h:List-Unsubscribe-Post"),
            std::vector<std::string>{"List-Unsubscribe=One-Click"});
  const auto variables = values_of(fields, "recipient-variables");
  ASSERT_EQ(variables.size(), 1u);
  EXPECT_EQ(json::parse(variables[0]), (json{{"a@example.com",
                                              {{"herald_message_id", "id-1"},
                                               {"t0", "Ann"},
                                               {"header0", "<https://herald.example/u/abc>"}}},
                                             {"b@example.com",
                                              {{"herald_message_id", "id-2"},
                                               {"t0", "Cy"},
                                               {"header0", "<https://herald.example/u/other>"}}}}));
}

TEST(Mailgun, VerifyIsGetDomainOnRegionHost) {
  // Invariant: the credential check reads the sending domain on the region's host.
  const HttpRequest r = mailgun().build_verify(mailgun_credentials());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api.eu.mailgun.test/v4/domains/mg.wrightrealty.com");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(basic_credentials(*r.header("Authorization")),
            "api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
  EXPECT_EQ(*r.header("User-Agent"), kUserAgent);
  EXPECT_TRUE(r.body.empty());
}

TEST(Mailgun, AcceptedIdHasAngleBracketsStripped) {
  // Invariant: 200 → accepted with the Message-Id as webhooks spell it (no <>).
  const auto out = mailgun().classify_send(
      response(
          200,
          R"({"id":"<20260203101010.1.ABCDEF@mg.wrightrealty.com>","message":"Queued. Thank you."})"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(out[0].provider_message_id, "20260203101010.1.ABCDEF@mg.wrightrealty.com");
  EXPECT_EQ(mailgun()
                .classify_send(
                    response(200, R"({"id":"message-id","message":"Queued. Thank you."})"), 1)[0]
                .provider_message_id,
            "message-id");
}

TEST(Mailgun, UnauthorizedBareForbiddenIsBadCredentials) {
  // Invariant: 401 with the non-JSON body `Forbidden` (or the JSON string) is bad credentials.
  const auto bare = mailgun().classify_send(response(401, "Forbidden"), 1);
  EXPECT_EQ(bare[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(bare[0].reason, "Mailgun did not accept the credentials: Forbidden");
  const auto quoted = mailgun().classify_send(response(401, R"("Forbidden")"), 1);
  EXPECT_EQ(quoted[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(quoted[0].reason, "Forbidden");
}

TEST(Mailgun, ForbiddenAndUnknownDomainAreBadCredentials) {
  // Invariant: 403 (key without access) and 404 (no such domain in this account/region) mark
  // the integration failing rather than failing messages one by one.
  const auto forbidden = mailgun().classify_send(
      response(403, R"({"message":"Domain mg.wrightrealty.com is not allowed to send"})"), 1);
  EXPECT_EQ(forbidden[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(forbidden[0].reason, "Domain mg.wrightrealty.com is not allowed to send");
  const auto not_found =
      mailgun().classify_send(response(404, R"({"message":"Domain not found"})"), 1);
  EXPECT_EQ(not_found[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(not_found[0].reason, "Domain not found");
}

TEST(Mailgun, RateLimitParsesTryAgainAfter) {
  // Invariant: 429 retries after Retry-After, else after the "try again after N seconds" text.
  const auto out = mailgun().classify_send(
      response(
          429,
          R"({"message":"Domain example.com is not allowed to send: account-requests-per-sec limit exceeded, try again after 120 seconds"})"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(out[0].retry_after, std::chrono::seconds(120));
  const auto header = mailgun().classify_send(
      response(429, R"({"message":"try again after 120 seconds"})", {{"Retry-After", "3"}}), 1);
  EXPECT_EQ(header[0].retry_after, std::chrono::seconds(3));
  const auto neither =
      mailgun().classify_send(response(429, R"({"message":"Too many requests"})"), 1);
  EXPECT_EQ(neither[0].kind, OutcomeKind::retryable);
  EXPECT_FALSE(neither[0].retry_after.has_value());
}

TEST(Mailgun, ServerErrorsAndNoResponseAreRetryable) {
  // Invariant: 5xx and no response are retried.
  const auto out =
      mailgun().classify_send(response(500, R"({"message":"Internal Server Error"})"), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(out[0].reason, "Internal Server Error");
  EXPECT_EQ(mailgun().classify_send(response(0), 1)[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(mailgun().classify_send(response(0), 1)[0].reason, "no response from Mailgun");
}

TEST(Mailgun, BadRequestIsPermanentWithMessage) {
  // Invariant: 400 fails fast with Mailgun's message.
  const auto out = mailgun().classify_send(
      response(400,
               R"({"message":"to parameter is not a valid address. please check documentation"})"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(out[0].reason, "to parameter is not a valid address. please check documentation");
}

TEST(Mailgun, VerifyClassification) {
  // Invariant: 200 proves key+domain+region; 401/403/404 reject them; 429/5xx/0 retry later.
  EXPECT_TRUE(mailgun()
                  .classify_verify(response(
                      200, R"({"domain":{"name":"mg.wrightrealty.com","state":"active"}})"))
                  .ok);
  const auto invalid =
      mailgun().classify_verify(response(401, R"({"message":"Invalid private key"})"));
  EXPECT_TRUE(invalid.bad_credentials);
  EXPECT_EQ(invalid.detail, "Invalid private key");
  EXPECT_TRUE(mailgun().classify_verify(response(403, "Forbidden")).bad_credentials);
  const auto missing =
      mailgun().classify_verify(response(404, R"({"message":"Domain not found"})"));
  EXPECT_TRUE(missing.bad_credentials);
  EXPECT_EQ(missing.detail, "domain not found in this account and region: Domain not found");
  for (int status : {0, 429, 500})
    EXPECT_TRUE(mailgun().classify_verify(response(status)).retryable) << status;
}

TEST(Mailgun, ReasonNeverCarriesAKey) {
  // Invariant: a key echoed in an error is redacted from the reason.
  const auto out = mailgun().classify_send(
      response(401, R"({"message":"Invalid private key key-3ax6xnjp29jd6fds4gc373sgvjxteol0"})"),
      1);
  EXPECT_EQ(out[0].reason, "Invalid private key [redacted]");
}

}  // namespace
}  // namespace herald::providers
