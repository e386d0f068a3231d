// Resend's webhook twin: the Svix signature (the shared vector and every tampered copy), the
// event mapping on payloads shaped like the spec's Email*Event schemas (resend.yaml), and the
// registration and unregistration requests against scripted answers.
#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include "providers/encoding.h"
#include "providers/test_support.h"
#include "providers/webhook_fixtures.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

// "resend_svix" in provider-specs/webhook-signature-vectors.json (copied so the test is
// hermetic; VectorAgreesWithTheSharedFile checks the copy).
constexpr std::string_view kSecret = "whsec_cmVzZW5kLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=";
constexpr std::string_view kSvixId = "msg_2Nq3Zb2xYjGvKQYfV0g3jzLqQ1A";
constexpr std::string_view kTimestamp = "1700000000";
constexpr std::string_view kSignature = "v1,dVIY0xSeKTFvLhpwXEEnCfpLNTx2Ehz3rxPq1e4Uvl4=";
constexpr std::string_view kBody =
    R"({"type":"email.delivered","created_at":"2023-11-14T22:13:20.000Z","data":{"email_id":"4ef9a417-02e9-4d39-ad75-9611e0fcc33c","created_at":"2023-11-14T22:13:19.000Z","from":"Agent <agent@example.com>","to":["buyer@example.com"],"subject":"Hi"}})";
constexpr const char* kReceiver = "https://herald.example/webhooks/resend/platform";

const WebhookTwin& resend() {
  return twin_of("resend");
}

Headers svix_headers(std::string_view id = kSvixId, std::string_view timestamp = kTimestamp,
                     std::string_view signature = kSignature) {
  return {{"svix-id", std::string(id)},
          {"svix-timestamp", std::string(timestamp)},
          {"svix-signature", std::string(signature)}};
}

WebhookRequest vector_request() {
  return post(kReceiver, svix_headers(), std::string(kBody));
}

// A request signed as Svix signs: base64 HMAC-SHA256 over id.timestamp.body with the secret.
WebhookRequest signed_request(const std::string& body, std::string_view id = "msg_test1") {
  const std::string key = fixtures::base64_decode(kSecret.substr(6));
  const std::string content = std::string(id) + "." + std::string(kTimestamp) + "." + body;
  unsigned char mac[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &n);
  const std::string signature =
      "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), n));
  return post(kReceiver, svix_headers(id, kTimestamp, signature), body);
}

TEST(ResendWebhook, VectorVerifiesWithinFiveMinutes) {
  // Invariant: the shared Svix vector verifies at any time within 300 s of its timestamp.
  for (long long offset : {0, 10, -300, 300}) {
    EXPECT_TRUE(resend().verify(vector_request(), kSecret, at(1700000000 + offset)).has_value())
        << offset;
  }
}

TEST(ResendWebhook, VectorAgreesWithTheSharedFile) {
  // Invariant: the vector copied above is the one in provider-specs (when that folder exists).
  const auto vectors = signature_vectors();
  if (!vectors) GTEST_SKIP() << "provider-specs not found";
  const json& v = vectors->at("resend_svix");
  EXPECT_EQ(v.at("secret"), kSecret);
  EXPECT_EQ(v.at("headers").at("svix-id"), kSvixId);
  EXPECT_EQ(v.at("headers").at("svix-timestamp"), kTimestamp);
  EXPECT_EQ(v.at("headers").at("svix-signature"), kSignature);
  EXPECT_EQ(v.at("raw_body"), kBody);
}

TEST(ResendWebhook, EveryTamperedCopyIsRefused) {
  // Invariant: a changed body byte, id or timestamp, another key, a cut signature or a stale
  // timestamp is forbidden; a missing header is unauthorized.
  const TimePoint now = at(1700000010);
  WebhookRequest body = vector_request();
  body.body[body.body.find("delivered")] = 'D';
  EXPECT_TRUE(failed_with(resend().verify(body, kSecret, now), Errc::forbidden));
  WebhookRequest timestamp =
      post(kReceiver, svix_headers(kSvixId, "1700000001"), std::string(kBody));
  EXPECT_TRUE(failed_with(resend().verify(timestamp, kSecret, now), Errc::forbidden));
  WebhookRequest id = post(kReceiver, svix_headers("msg_other"), std::string(kBody));
  EXPECT_TRUE(failed_with(resend().verify(id, kSecret, now), Errc::forbidden));
  EXPECT_TRUE(failed_with(
      resend().verify(vector_request(), "whsec_b3RoZXItc2VjcmV0LW9mLWFub3RoZXItYWNjb3VudA==", now),
      Errc::forbidden));
  WebhookRequest truncated = post(
      kReceiver, svix_headers(kSvixId, kTimestamp, kSignature.substr(0, kSignature.size() - 2)),
      std::string(kBody));
  EXPECT_TRUE(failed_with(resend().verify(truncated, kSecret, now), Errc::forbidden));
  WebhookRequest bare =
      post(kReceiver, svix_headers(kSvixId, kTimestamp, kSignature.substr(3)), std::string(kBody));
  EXPECT_TRUE(failed_with(resend().verify(bare, kSecret, now), Errc::forbidden));
  const auto stale = resend().verify(vector_request(), kSecret, at(1700000301));
  EXPECT_TRUE(failed_with(stale, Errc::forbidden));
  EXPECT_NE(stale.error().message.find("stale"), std::string::npos);
  EXPECT_TRUE(
      failed_with(resend().verify(vector_request(), kSecret, at(1699999699)), Errc::forbidden));
  for (const char* header : {"svix-id", "svix-timestamp", "svix-signature"}) {
    WebhookRequest missing = vector_request();
    std::erase_if(missing.headers, [&](const auto& h) { return h.first == header; });
    EXPECT_TRUE(failed_with(resend().verify(missing, kSecret, now), Errc::unauthorized)) << header;
  }
  EXPECT_TRUE(
      failed_with(resend().verify(vector_request(), "whsec_!!not-base64!!", now), Errc::forbidden));
}

TEST(ResendWebhook, AnyOfSeveralSignaturesMayMatch) {
  // Invariant: while a secret rotates the header holds several "v1," entries; one matching is
  // enough, and entries of another scheme never match.
  const std::string both =
      "v1,Zm9yZ2VkLXNpZ25hdHVyZS1vZi1hbm90aGVyLXNlY3JldA== " + std::string(kSignature);
  EXPECT_TRUE(
      resend()
          .verify(post(kReceiver, svix_headers(kSvixId, kTimestamp, both), std::string(kBody)),
                  kSecret, at(1700000000))
          .has_value());
  const std::string other_scheme = "v1a," + std::string(kSignature.substr(3));
  EXPECT_TRUE(failed_with(
      resend().verify(
          post(kReceiver, svix_headers(kSvixId, kTimestamp, other_scheme), std::string(kBody)),
          kSecret, at(1700000000)),
      Errc::forbidden));
  // The secret's base64 without the whsec_ prefix is the same key (as in the svix SDK).
  EXPECT_TRUE(resend().verify(vector_request(), kSecret.substr(6), at(1700000000)).has_value());
}

// An event as Resend posts it (spec Email*Event: {type, created_at, data}).
json event(std::string_view type, json extra = json::object()) {
  json data = {{"email_id", "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"},
               {"created_at", "2023-10-06T23:47:50.000Z"},
               {"from", "Wright Realty <matt@wrightrealty.com>"},
               {"to", {"buyer@example.com"}},
               {"subject", "New listing: 12 Oak St"},
               {"tags", {{"herald_message_id", "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81"}}}};
  data.update(extra);
  return {{"type", type}, {"created_at", "2023-10-06T23:47:56.678Z"}, {"data", data}};
}

DeliveryEvent parse_one(const json& payload, std::string_view id = "msg_1") {
  const auto events = resend().parse(post(kReceiver, svix_headers(id), payload.dump()));
  EXPECT_TRUE(events.has_value()) << (events ? "" : events.error().message);
  if (!events || events->size() != 1) {
    ADD_FAILURE() << "expected one event";
    return {};
  }
  return events->front();
}

TEST(ResendWebhook, MapsEveryEmailEventType) {
  // Invariant: Resend's email.* types map onto Herald's vocabulary as the table says, and
  // types Herald does not track are unknown, never an error.
  const std::vector<std::pair<std::string, EventType>> cases = {
      {"email.sent", EventType::sent},
      {"email.delivered", EventType::delivered},
      {"email.delivery_delayed", EventType::deferred},
      {"email.complained", EventType::complained},
      {"email.opened", EventType::opened},
      {"email.failed", EventType::failed},
      {"email.suppressed", EventType::rejected},
      {"email.scheduled", EventType::unknown},
      {"email.received", EventType::unknown},
      {"contact.created", EventType::unknown},
  };
  for (const auto& [type, expected] : cases) {
    const DeliveryEvent e = parse_one(event(type));
    EXPECT_EQ(e.type, expected) << type;
    EXPECT_EQ(e.provider_event, type);
    EXPECT_EQ(e.bounce, BounceKind::none) << type;
  }
}

TEST(ResendWebhook, EventCarriesIdsRecipientTimeAndRaw) {
  // Invariant: the svix-id keys the event, the herald_message_id tag names Herald's message,
  // email_id is the provider's id, to[0] the recipient, created_at the time, and the raw
  // payload is kept.
  const json payload = event("email.delivered");
  const DeliveryEvent e = parse_one(payload, "msg_2Nq3Zb");
  EXPECT_EQ(e.event_key, "msg_2Nq3Zb");
  EXPECT_EQ(e.message_id, "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81");
  EXPECT_EQ(e.provider_message_id, "4ef9a417-02e9-4d39-ad75-9611e0fcc33c");
  EXPECT_EQ(e.recipient, "buyer@example.com");
  ASSERT_TRUE(e.occurred_at.has_value());
  EXPECT_EQ(to_millis(*e.occurred_at), 1696636076678);
  EXPECT_EQ(e.raw, payload.dump());
}

TEST(ResendWebhook, PermanentBounceIsHardOthersSoft) {
  // Invariant: bounce.type Permanent is a hard bounce; Transient and Undetermined are soft;
  // the reason is Resend's message.
  auto bounce = [](std::string_view type) {
    return event("email.bounced", {{"bounce",
                                    {{"diagnosticCode", {"smtp; 550 5.1.1 user unknown"}},
                                     {"message", "The recipient's email address does not exist."},
                                     {"subType", "NoEmail"},
                                     {"type", type}}}});
  };
  const DeliveryEvent hard = parse_one(bounce("Permanent"));
  EXPECT_EQ(hard.type, EventType::bounced);
  EXPECT_EQ(hard.bounce, BounceKind::hard);
  EXPECT_EQ(hard.reason, "The recipient's email address does not exist.");
  EXPECT_EQ(parse_one(bounce("Transient")).bounce, BounceKind::soft);
  EXPECT_EQ(parse_one(bounce("Undetermined")).bounce, BounceKind::soft);
}

TEST(ResendWebhook, ClickFailureAndSuppressionCarryTheirDetails) {
  // Invariant: a click carries click.link; failed and suppressed carry their reasons.
  const DeliveryEvent click =
      parse_one(event("email.clicked", {{"click",
                                         {{"ipAddress", "122.115.53.11"},
                                          {"link", "https://wrightrealty.com/listings/12-oak"},
                                          {"timestamp", "2023-10-06T23:48:01.000Z"},
                                          {"userAgent", "Mozilla/5.0"}}}}));
  EXPECT_EQ(click.type, EventType::clicked);
  EXPECT_EQ(click.url, "https://wrightrealty.com/listings/12-oak");
  EXPECT_EQ(
      parse_one(event("email.failed", {{"failed", {{"reason", "reached_daily_quota"}}}})).reason,
      "reached_daily_quota");
  const DeliveryEvent suppressed = parse_one(
      event("email.suppressed", {{"suppressed",
                                  {{"diagnosticCode", json::array()},
                                   {"message", "Resend has previously seen this address bounce."},
                                   {"reason", "previous_bounce"},
                                   {"type", "OnAccountSuppressionList"}}}}));
  EXPECT_EQ(suppressed.type, EventType::rejected);
  EXPECT_EQ(suppressed.reason, "Resend has previously seen this address bounce.");
}

TEST(ResendWebhook, TheSendsTagComesBackAsTheMessageId) {
  // Invariant: the tag build_send writes is the one parse reads, whether the webhook gives
  // tags as {name: value} (the spec) or as the send's [{name, value}].
  const OutboundMessage m = email_message();
  const HttpRequest send =
      provider_for("resend").build_send(resend_credentials(), std::span(&m, 1));
  const json tags = json::parse(send.body).at("tags");
  ASSERT_EQ(tags.size(), 1u);
  json as_map = json::object();
  as_map[tags[0].at("name").get<std::string>()] = tags[0].at("value");
  EXPECT_EQ(parse_one(event("email.delivered", {{"tags", as_map}})).message_id, m.id);
  EXPECT_EQ(parse_one(event("email.delivered", {{"tags", tags}})).message_id, m.id);
}

TEST(ResendWebhook, SignedPayloadRoundTrips) {
  // Invariant: a payload signed afresh verifies and parses (what the sandbox will post).
  const WebhookRequest r = signed_request(event("email.opened").dump());
  ASSERT_TRUE(resend().verify(r, kSecret, at(1700000000)).has_value());
  EXPECT_EQ(resend().parse(r)->front().type, EventType::opened);
}

TEST(ResendWebhook, MalformedBodiesAreInvalidInputNamingTheField) {
  // Invariant: a body that is not Resend's shape is invalid_input naming what is wrong.
  auto parse = [](std::string body) {
    return resend().parse(post(kReceiver, svix_headers(), body));
  };
  const auto not_json = parse("type=email.sent");
  ASSERT_TRUE(failed_with(not_json, Errc::invalid_input));
  EXPECT_EQ(not_json.error().fields.front().field, "body");
  const auto no_type = parse(R"({"data":{}})");
  ASSERT_TRUE(failed_with(no_type, Errc::invalid_input));
  EXPECT_EQ(no_type.error().fields.front().field, "type");
  const auto no_data = parse(R"({"type":"email.sent","data":"x"})");
  ASSERT_TRUE(failed_with(no_data, Errc::invalid_input));
  EXPECT_EQ(no_data.error().fields.front().field, "data");
}

// Answers as resend.yaml describes them (CreateWebhookResponse, ListWebhooksResponse, …).
HttpResponse resend_answer(const HttpRequest& r, bool already_registered) {
  if (r.method == "GET" && r.url.ends_with("/webhooks?limit=100")) {
    json data = json::array();
    data.push_back({{"id", "11111111-dd38-476b-932c-529ceb705947"},
                    {"endpoint", "https://other.example/hook"}});
    if (already_registered) {
      data.push_back({{"id", "479e3145-dd38-476b-932c-529ceb705947"}, {"endpoint", kReceiver}});
    }
    return response(200, json{{"object", "list"}, {"has_more", false}, {"data", data}}.dump());
  }
  if (r.method == "POST") {
    return response(
        201,
        R"({"object":"webhook","id":"479e3145-dd38-476b-932c-529ceb705947","signing_secret":"whsec_new"})");
  }
  if (r.method == "PATCH")
    return response(200, R"({"object":"webhook","id":"479e3145-dd38-476b-932c-529ceb705947"})");
  return response(
      200,
      R"({"object":"webhook","id":"479e3145-dd38-476b-932c-529ceb705947","signing_secret":"whsec_kept"})");
}

TEST(ResendWebhook, RegistrationCreatesAWebhookForTheDeliveryEvents) {
  // Invariant: with no webhook at the receiver yet, Herald lists, then POSTs /webhooks with its
  // endpoint and the nine email delivery events, and keeps the answer's signing_secret.
  const Registration r =
      register_with(resend(), resend_credentials(), kReceiver,
                    [](const HttpRequest& q) { return resend_answer(q, false); });
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].method, "GET");
  EXPECT_EQ(r.requests[0].url, "https://api.resend.test/webhooks?limit=100");
  EXPECT_EQ(*r.requests[0].header("Authorization"), "Bearer re_TestKey_4f9a8b7c6d5e");
  EXPECT_EQ(r.requests[1].method, "POST");
  EXPECT_EQ(r.requests[1].url, "https://api.resend.test/webhooks");
  EXPECT_EQ(*r.requests[1].header("Content-Type"), "application/json");
  EXPECT_EQ(*r.requests[1].header("User-Agent"), kUserAgent);
  EXPECT_EQ(json::parse(r.requests[1].body),
            (json{{"endpoint", kReceiver},
                  {"events",
                   {"email.sent", "email.delivered", "email.delivery_delayed", "email.bounced",
                    "email.complained", "email.opened", "email.clicked", "email.failed",
                    "email.suppressed"}}}));
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, "whsec_new");
  EXPECT_FALSE(r.last.error.has_value());
}

TEST(ResendWebhook, RegistrationReusesTheReceiversExistingWebhook) {
  // Invariant: when a webhook already posts to the receiver (a reconnect), Herald re-enables
  // it with its events and reads its secret instead of creating a second one.
  const Registration r = register_with(resend(), resend_credentials(), kReceiver,
                                       [](const HttpRequest& q) { return resend_answer(q, true); });
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_EQ(r.requests[1].method, "PATCH");
  EXPECT_EQ(r.requests[1].url,
            "https://api.resend.test/webhooks/479e3145-dd38-476b-932c-529ceb705947");
  const json patch = json::parse(r.requests[1].body);
  EXPECT_EQ(patch.at("status"), "enabled");
  EXPECT_EQ(patch.at("events").size(), 9u);
  EXPECT_EQ(r.requests[2].method, "GET");
  EXPECT_EQ(r.requests[2].url, r.requests[1].url);
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, "whsec_kept");
}

// A GET /webhooks answer: `count` webhooks from `first` on (ids "hook-<n>"), the receiver's
// at `receiver` if it is in range, and has_more as given.
HttpResponse hook_page(int first, int count, int receiver, bool has_more) {
  json data = json::array();
  for (int n = first; n < first + count; ++n) {
    data.push_back({{"id", "hook-" + std::to_string(n)},
                    {"endpoint", n == receiver ? kReceiver : "https://other.example/hook"}});
  }
  return response(200, json{{"object", "list"}, {"has_more", has_more}, {"data", data}}.dump());
}

TEST(ResendWebhook, RegistrationReadsEveryPageOfWebhooksForTheReceiversOwn) {
  // Invariant: the account's webhooks are read a page at a time (after the last id) while
  // Resend says there are more, so the receiver's webhook on page 3 is reused, not doubled.
  const Registration r =
      register_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.method == "GET" && q.url.ends_with("/webhooks?limit=100")) {
          return hook_page(0, 100, 250, true);
        }
        if (q.method == "GET" && q.url.ends_with("&after=hook-99")) {
          return hook_page(100, 100, 250, true);
        }
        if (q.method == "GET" && q.url.ends_with("&after=hook-199")) {
          return hook_page(200, 60, 250, false);
        }
        if (q.method == "PATCH") return response(200, R"({"object":"webhook","id":"hook-250"})");
        return response(200, R"({"object":"webhook","id":"hook-250","signing_secret":"whsec_p3"})");
      });
  ASSERT_EQ(r.requests.size(), 5u);
  EXPECT_EQ(r.requests[1].url, "https://api.resend.test/webhooks?limit=100&after=hook-99");
  EXPECT_EQ(r.requests[2].url, "https://api.resend.test/webhooks?limit=100&after=hook-199");
  EXPECT_EQ(r.requests[3].method, "PATCH");
  EXPECT_EQ(r.requests[3].url, "https://api.resend.test/webhooks/hook-250");
  EXPECT_EQ(r.requests[4].method, "GET");
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, "whsec_p3");
}

TEST(ResendWebhook, RegistrationStopsListingAtTheReceiverOrTheLastPage) {
  // Invariant: a match ends the listing even when more pages follow; a last page without one
  // (or an endless list, past 20 pages) leads to a new webhook; a refused page is an error.
  const Registration found_early =
      register_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.method == "GET" && q.url.ends_with("/webhooks?limit=100")) {
          return hook_page(0, 100, 7, true);
        }
        return response(200, R"({"object":"webhook","id":"hook-7","signing_secret":"whsec_7"})");
      });
  ASSERT_EQ(found_early.requests.size(), 3u);
  EXPECT_EQ(found_early.requests[1].method, "PATCH");

  int pages = 0;
  const Registration endless =
      register_with(resend(), resend_credentials(), kReceiver, [&](const HttpRequest& q) {
        if (q.method == "GET") return hook_page(100 * pages++, 100, -1, true);
        return response(201, R"({"object":"webhook","id":"new","signing_secret":"whsec_new"})");
      });
  EXPECT_EQ(pages, 20);
  ASSERT_EQ(endless.requests.size(), 21u);
  EXPECT_EQ(endless.requests.back().method, "POST");
  ASSERT_TRUE(endless.last.key.has_value());
  EXPECT_EQ(*endless.last.key, "whsec_new");

  const Registration refused =
      register_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.url.ends_with("/webhooks?limit=100")) return hook_page(0, 100, -1, true);
        return response(500, R"({"statusCode":500,"name":"internal_server_error","message":"x"})");
      });
  ASSERT_EQ(refused.requests.size(), 2u);
  EXPECT_TRUE(refused.last.error.has_value());
  EXPECT_FALSE(refused.last.key.has_value());
}

TEST(ResendWebhook, RegistrationFailuresSayWhyWithoutSecrets) {
  // Invariant: refused credentials read in plain words; other refusals carry Resend's message
  // with anything key-shaped redacted; no answer is a retryable network error; an answer
  // without a secret is an error, never an empty key.
  auto fail_with = [](HttpResponse answer) {
    return register_with(resend(), resend_credentials(), kReceiver,
                         [&](const HttpRequest&) { return answer; })
        .last;
  };
  const auto unauthorized = fail_with(response(
      401,
      R"({"statusCode":401,"name":"restricted_api_key","message":"This API key is restricted to only send emails"})"));
  ASSERT_TRUE(unauthorized.error.has_value());
  EXPECT_EQ(unauthorized.error->message, "Resend did not accept your account's credentials");
  EXPECT_EQ(unauthorized.error->http_status, 401);
  EXPECT_EQ(unauthorized.error->provider, "resend");
  const auto invalid = fail_with(response(
      422,
      R"({"statusCode":422,"name":"validation_error","message":"Invalid endpoint for key re_TestKey_4f9a8b7c6d5e"})"));
  ASSERT_TRUE(invalid.error.has_value());
  EXPECT_EQ(invalid.error->message,
            "Resend refused to set up delivery tracking: Invalid endpoint for key [redacted]");
  EXPECT_FALSE(invalid.error->retryable);
  const auto unreachable = fail_with(response(0));
  ASSERT_TRUE(unreachable.error.has_value());
  EXPECT_EQ(unreachable.error->code, Errc::network);
  EXPECT_TRUE(unreachable.error->retryable);
  const Registration no_secret =
      register_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        return q.method == "GET" ? response(200, R"({"data":[]})") : response(201, R"({"id":"x"})");
      });
  ASSERT_TRUE(no_secret.last.error.has_value());
  EXPECT_FALSE(no_secret.last.key.has_value());
}

// The answer to DELETE /webhooks/{id} (spec DeleteWebhookResponse).
HttpResponse deleted(const HttpRequest& q) {
  const std::string id = q.url.substr(q.url.rfind('/') + 1);
  return response(200, json{{"object", "webhook"}, {"id", id}, {"deleted", true}}.dump());
}

TEST(ResendWebhook, UnregistrationDeletesTheReceiversWebhookAndNoOther) {
  // Invariant: Herald lists the account's webhooks and DELETEs /webhooks/{id} of the one whose
  // endpoint is its receiver, with the account's key and no body; the other one stays.
  const Registration r =
      unregister_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        return q.method == "DELETE" ? deleted(q) : resend_answer(q, true);
      });
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].method, "GET");
  EXPECT_EQ(r.requests[0].url, "https://api.resend.test/webhooks?limit=100");
  EXPECT_EQ(r.requests[1].method, "DELETE");
  EXPECT_EQ(r.requests[1].url,
            "https://api.resend.test/webhooks/479e3145-dd38-476b-932c-529ceb705947");
  EXPECT_EQ(r.requests[1].headers, (Headers{{"Authorization", "Bearer re_TestKey_4f9a8b7c6d5e"},
                                            {"User-Agent", std::string(kUserAgent)}}));
  EXPECT_EQ(r.requests[1].body, "");
  EXPECT_TRUE(removed(r));
}

TEST(ResendWebhook, UnregistrationReadsThePagesAsRegistrationDoes) {
  // Invariant: the receiver's webhook on page 3 is found by reading `after` the last id while
  // has_more, then deleted; no webhook at the receiver on any page (or past 20 pages) is done
  // without a DELETE, since there is nothing of Herald's to remove.
  const Registration third =
      unregister_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.method == "DELETE") return deleted(q);
        if (q.url.ends_with("/webhooks?limit=100")) return hook_page(0, 100, 250, true);
        if (q.url.ends_with("&after=hook-99")) return hook_page(100, 100, 250, true);
        return hook_page(200, 60, 250, false);
      });
  ASSERT_EQ(third.requests.size(), 4u);
  EXPECT_EQ(third.requests[1].url, "https://api.resend.test/webhooks?limit=100&after=hook-99");
  EXPECT_EQ(third.requests[2].url, "https://api.resend.test/webhooks?limit=100&after=hook-199");
  EXPECT_EQ(third.requests[3].method, "DELETE");
  EXPECT_EQ(third.requests[3].url, "https://api.resend.test/webhooks/hook-250");
  EXPECT_TRUE(removed(third));

  const Registration none =
      unregister_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.url.ends_with("/webhooks?limit=100")) return hook_page(0, 100, -1, true);
        return hook_page(100, 3, -1, false);
      });
  ASSERT_EQ(none.requests.size(), 2u);
  EXPECT_EQ(none.requests[1].method, "GET");
  EXPECT_TRUE(removed(none));

  int pages = 0;
  const Registration endless =
      unregister_with(resend(), resend_credentials(), kReceiver,
                      [&](const HttpRequest&) { return hook_page(100 * pages++, 100, -1, true); });
  EXPECT_EQ(pages, 20);
  EXPECT_EQ(endless.requests.size(), 20u);
  EXPECT_TRUE(removed(endless));
}

TEST(ResendWebhook, UnregistrationTakesA404AsAlreadyGone) {
  // Invariant: a DELETE answered 404 (the webhook was removed since the listing) ends the
  // unregistration as done, not as an error.
  const Registration r =
      unregister_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.method == "DELETE") {
          return response(404,
                          R"({"statusCode":404,"name":"not_found","message":"Webhook not found"})");
        }
        return resend_answer(q, true);
      });
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_TRUE(removed(r));
}

TEST(ResendWebhook, UnregistrationFailuresSayWhyWithoutSecrets) {
  // Invariant: refused credentials read in plain words (no key), a refused DELETE carries
  // Resend's message with anything key-shaped redacted, and no answer is a network error; each
  // says it was about removing delivery tracking.
  auto list_answer = [](HttpResponse answer) {
    return unregister_with(resend(), resend_credentials(), kReceiver, always(std::move(answer)))
        .last;
  };
  const auto unauthorized = list_answer(response(
      401, R"({"statusCode":401,"name":"missing_api_key","message":"API key is invalid"})"));
  ASSERT_TRUE(unauthorized.error.has_value());
  EXPECT_EQ(unauthorized.error->message, "Resend did not accept your account's credentials");
  EXPECT_EQ(unauthorized.error->http_status, 401);
  const auto forbidden = list_answer(response(
      403,
      R"({"statusCode":403,"name":"restricted_api_key","message":"This API key is restricted to only send emails"})"));
  ASSERT_TRUE(forbidden.error.has_value());
  EXPECT_EQ(forbidden.error->message,
            "Resend did not accept your account's credentials for removing webhooks (the key "
            "may lack that permission)");
  const auto unreachable = list_answer(response(0));
  ASSERT_TRUE(unreachable.error.has_value());
  EXPECT_EQ(unreachable.error->code, Errc::network);
  EXPECT_EQ(unreachable.error->message, "could not reach Resend to remove delivery tracking");

  const Registration refused =
      unregister_with(resend(), resend_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.method == "DELETE") {
          return response(
              500,
              R"({"statusCode":500,"name":"application_error","message":"Failed for key re_TestKey_4f9a8b7c6d5e"})");
        }
        return resend_answer(q, true);
      });
  ASSERT_TRUE(refused.last.error.has_value());
  EXPECT_EQ(refused.last.error->message,
            "Resend refused to remove delivery tracking: Failed for key [redacted]");
  EXPECT_FALSE(refused.last.key.has_value());
}

}  // namespace
}  // namespace herald::providers
