// SendGrid's webhook twin: the ECDSA signature (the vector from @sendgrid/eventwebhook, posts
// signed here with a fresh P-256 key, and every tampered copy), the event mapping on events
// shaped like SendGrid's Event Webhook reference, batch correlation, and the Event Webhook
// settings requests (tsg_webhooks_v3.json) that register and unregister against scripted
// answers.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include <array>
#include <memory>

#include "providers/encoding.h"
#include "providers/test_support.h"
#include "providers/webhook_fixtures.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

// "sendgrid_signed_event_webhook" in provider-specs/webhook-signature-vectors.json, taken from
// @sendgrid/eventwebhook 8.0.0's own tests. The body ends with CRLF, which is signed.
constexpr std::string_view kPublicKey =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+"
    "2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
constexpr std::string_view kSignature =
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+"
    "luQAbPIqHh89M15TluLtEZtM=";
constexpr std::string_view kTimestamp = "1600112502";
constexpr std::string_view kBody =
    "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced "
    "Address\",\"sg_event_"
    "id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_"
    "NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<"
    "LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";
constexpr const char* kReceiver = "https://herald.example/webhooks/sendgrid/platform";
constexpr const char* kSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
constexpr const char* kTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";

const WebhookTwin& sendgrid() {
  return twin_of("sendgrid");
}

Headers signed_headers(std::string_view signature, std::string_view timestamp) {
  return {{kSignatureHeader, std::string(signature)}, {kTimestampHeader, std::string(timestamp)}};
}

WebhookRequest vector_request() {
  return post(kReceiver, signed_headers(kSignature, kTimestamp), std::string(kBody));
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// A P-256 key pair made here, signing as SendGrid signs: ECDSA SHA-256 over timestamp + body,
// DER, base64; its public key as SendGrid shows it (base64 DER SubjectPublicKeyInfo).
class SigningKey {
 public:
  SigningKey() : key_(EVP_EC_gen("P-256")) {}

  std::string public_key() const {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key_.get(), &der);
    std::string out = base64_encode(std::string_view(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    return out;
  }

  std::string sign(std::string_view content) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get());
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(content.data()),
                   content.size());
    std::string signature(n, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &n,
                   reinterpret_cast<const unsigned char*>(content.data()), content.size());
    EVP_MD_CTX_free(ctx);
    signature.resize(n);
    return base64_encode(signature);
  }

  WebhookRequest post_events(const json& events, std::string_view timestamp = "1700000000") const {
    const std::string body = events.dump();
    return post(kReceiver, signed_headers(sign(std::string(timestamp) + body), timestamp), body);
  }

 private:
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

TEST(SendGridWebhook, VectorVerifiesWithinFiveMinutes) {
  // Invariant: the signature from SendGrid's own verifier tests verifies with its key near
  // its timestamp.
  for (long long offset : {0, 120, -300, 300}) {
    EXPECT_TRUE(
        sendgrid().verify(vector_request(), kPublicKey, at(1600112502 + offset)).has_value())
        << offset;
  }
}

TEST(SendGridWebhook, VectorAgreesWithTheSharedFile) {
  // Invariant: the vector copied above is the one in provider-specs (when that folder exists).
  const auto vectors = signature_vectors();
  if (!vectors) GTEST_SKIP() << "provider-specs not found";
  const json& v = vectors->at("sendgrid_signed_event_webhook");
  EXPECT_EQ(v.at("public_key_b64_spki_der"), kPublicKey);
  EXPECT_EQ(v.at(kSignatureHeader), kSignature);
  EXPECT_EQ(v.at(kTimestampHeader), kTimestamp);
  EXPECT_EQ(v.at("raw_body"), kBody);
}

TEST(SendGridWebhook, EveryTamperedCopyIsRefused) {
  // Invariant: a changed body byte, the CRLF stripped, another timestamp, another key, a cut
  // signature or a stale timestamp is forbidden; a missing header is unauthorized.
  const TimePoint now = at(1600112502);
  WebhookRequest body = vector_request();
  body.body[body.body.find("dropped")] = 'D';
  EXPECT_TRUE(failed_with(sendgrid().verify(body, kPublicKey, now), Errc::forbidden));
  WebhookRequest stripped = vector_request();
  stripped.body.resize(stripped.body.size() - 2);
  EXPECT_TRUE(failed_with(sendgrid().verify(stripped, kPublicKey, now), Errc::forbidden));
  WebhookRequest timestamp =
      post(kReceiver, signed_headers(kSignature, "1600112503"), std::string(kBody));
  EXPECT_TRUE(failed_with(sendgrid().verify(timestamp, kPublicKey, now), Errc::forbidden));
  EXPECT_TRUE(failed_with(sendgrid().verify(vector_request(), SigningKey().public_key(), now),
                          Errc::forbidden));
  WebhookRequest truncated =
      post(kReceiver, signed_headers(kSignature.substr(0, kSignature.size() - 8), kTimestamp),
           std::string(kBody));
  EXPECT_TRUE(failed_with(sendgrid().verify(truncated, kPublicKey, now), Errc::forbidden));
  const auto stale = sendgrid().verify(vector_request(), kPublicKey, at(1600112502 + 301));
  EXPECT_TRUE(failed_with(stale, Errc::forbidden));
  EXPECT_NE(stale.error().message.find("stale"), std::string::npos);
  for (const char* header : {kSignatureHeader, kTimestampHeader}) {
    WebhookRequest missing = vector_request();
    std::erase_if(missing.headers, [&](const auto& h) { return h.first == header; });
    EXPECT_TRUE(failed_with(sendgrid().verify(missing, kPublicKey, now), Errc::unauthorized))
        << header;
  }
  EXPECT_TRUE(failed_with(sendgrid().verify(vector_request(), "not a key", now), Errc::forbidden));
  EXPECT_TRUE(
      failed_with(sendgrid().verify(vector_request(), "c29tZSBieXRlcw==", now), Errc::forbidden));
}

TEST(SendGridWebhook, FreshlySignedPostsVerifyAndForgeriesDoNot) {
  // Invariant: a post signed with a P-256 key verifies with that key's SendGrid-style public
  // key (also with PEM armour pasted around it), and not with another's.
  const SigningKey key;
  const WebhookRequest r = key.post_events(json::array({{{"event", "delivered"}}}));
  EXPECT_TRUE(sendgrid().verify(r, key.public_key(), at(1700000000)).has_value());
  const std::string pem =
      "-----BEGIN PUBLIC KEY-----\n" + key.public_key() + "\n-----END PUBLIC KEY-----\n";
  EXPECT_TRUE(sendgrid().verify(r, pem, at(1700000000)).has_value());
  EXPECT_TRUE(failed_with(sendgrid().verify(r, SigningKey().public_key(), at(1700000000)),
                          Errc::forbidden));
  WebhookRequest forged = r;
  forged.body = json::array({{{"event", "bounce"}}}).dump();
  EXPECT_TRUE(
      failed_with(sendgrid().verify(forged, key.public_key(), at(1700000000)), Errc::forbidden));
}

// An event as SendGrid posts it (Event Webhook reference), with Herald's custom arg.
json event(std::string_view name, json extra = json::object()) {
  json e = {{"email", "buyer@example.com"},
            {"timestamp", 1513299569},
            {"smtp-id", "<14c5d75ce93.dfd.64b469@ismtpd-555>"},
            {"event", name},
            {"category", "cat facts"},
            {"sg_event_id", "sg_event_id_" + std::string(name)},
            {"sg_message_id", "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
            {"herald_message_id", "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81"}};
  e.update(extra);
  return e;
}

std::vector<DeliveryEvent> parse_events(const json& events) {
  const auto parsed = sendgrid().parse(post(kReceiver, {}, events.dump()));
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
  return parsed.value_or(std::vector<DeliveryEvent>{});
}

DeliveryEvent parse_one(const json& e) {
  const auto events = parse_events(json::array({e}));
  if (events.size() != 1) {
    ADD_FAILURE() << "expected one event";
    return {};
  }
  return events.front();
}

TEST(SendGridWebhook, MapsEveryEventName) {
  // Invariant: SendGrid's event names map onto Herald's vocabulary as the table says; names
  // Herald does not track are unknown, never an error.
  const std::vector<std::pair<std::string, EventType>> cases = {
      {"processed", EventType::queued},
      {"dropped", EventType::rejected},
      {"delivered", EventType::delivered},
      {"deferred", EventType::deferred},
      {"open", EventType::opened},
      {"click", EventType::clicked},
      {"spamreport", EventType::complained},
      {"unsubscribe", EventType::unsubscribed},
      {"group_unsubscribe", EventType::unsubscribed},
      {"group_resubscribe", EventType::unknown},
      {"account_status_change", EventType::unknown},
  };
  for (const auto& [name, expected] : cases) {
    const DeliveryEvent e = parse_one(event(name));
    EXPECT_EQ(e.type, expected) << name;
    EXPECT_EQ(e.provider_event, name);
  }
}

TEST(SendGridWebhook, EventCarriesIdsRecipientTimeAndRaw) {
  // Invariant: sg_event_id keys the event, the top-level herald_message_id names Herald's
  // message, sg_message_id up to its first dot is the send's X-Message-Id, email is the
  // recipient, timestamp the time, and the event's own JSON is kept.
  const json e = event("delivered", {{"response", "250 OK"}});
  const DeliveryEvent d = parse_one(e);
  EXPECT_EQ(d.event_key, "sg_event_id_delivered");
  EXPECT_EQ(d.message_id, "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81");
  EXPECT_EQ(d.provider_message_id, "14c5d75ce93");
  EXPECT_EQ(d.recipient, "buyer@example.com");
  ASSERT_TRUE(d.occurred_at.has_value());
  EXPECT_EQ(*d.occurred_at, at(1513299569));
  EXPECT_EQ(json::parse(d.raw), e);
}

TEST(SendGridWebhook, BounceIsHardBlockedIsSoft) {
  // Invariant: a bounce of type "bounce" is hard (suppress now); of type "blocked" (the
  // receiver refused this message, not the address) soft; the reason is SendGrid's.
  const DeliveryEvent hard =
      parse_one(event("bounce", {{"reason", "500 unknown recipient"},
                                 {"status", "5.0.0"},
                                 {"type", "bounce"},
                                 {"bounce_classification", "Invalid Address"}}));
  EXPECT_EQ(hard.type, EventType::bounced);
  EXPECT_EQ(hard.bounce, BounceKind::hard);
  EXPECT_EQ(hard.reason, "500 unknown recipient");
  const DeliveryEvent blocked = parse_one(event(
      "bounce", {{"reason", "550 5.7.1 Service unavailable; client host blocked using Spamhaus"},
                 {"status", "5.7.1"},
                 {"type", "blocked"},
                 {"bounce_classification", "Reputation"}}));
  EXPECT_EQ(blocked.type, EventType::bounced);
  EXPECT_EQ(blocked.bounce, BounceKind::soft);
}

TEST(SendGridWebhook, DeferredDroppedAndClickCarryTheirDetails) {
  // Invariant: deferred carries the server's response, dropped its reason, click its url.
  EXPECT_EQ(
      parse_one(event("deferred", {{"response", "400 try again later"}, {"attempt", "5"}})).reason,
      "400 try again later");
  EXPECT_EQ(
      parse_one(event("dropped", {{"reason", "Bounced Address"}, {"status", "5.0.0"}})).reason,
      "Bounced Address");
  EXPECT_EQ(parse_one(event("click", {{"url", "https://wrightrealty.com/l/12-oak"},
                                      {"url_offset", {{"index", 0}, {"type", "html"}}}}))
                .url,
            "https://wrightrealty.com/l/12-oak");
}

TEST(SendGridWebhook, EventsWithoutAnIdAreKeyedByTheirContent) {
  // Invariant: an event without sg_event_id (reported on asynchronous bounces) is keyed by a
  // hash of its JSON: the same event twice is one key, two different events two keys.
  json a = event("bounce", {{"reason", "550 no such user"}});
  a.erase("sg_event_id");
  json b = a;
  b["email"] = "other@example.com";
  const auto events = parse_events(json::array({a, a, b}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(events[0].event_key.starts_with("sha256:"));
  EXPECT_EQ(events[0].event_key, events[1].event_key);
  EXPECT_NE(events[0].event_key, events[2].event_key);
}

TEST(SendGridWebhook, BatchOfThreeGivesEachRecipientItsOwnMessageId) {
  // Invariant: in a 3-recipient batch each personalization's custom_args (merged by SendGrid
  // into that recipient's events) brings back that recipient's own Herald id.
  const std::array<OutboundMessage, 3> batch = {email_message("id-a", "a@example.com"),
                                                email_message("id-b", "b@example.com"),
                                                email_message("id-c", "c@example.com")};
  const HttpRequest send = provider_for("sendgrid").build_send(sendgrid_credentials(), batch);
  const json mail = json::parse(send.body);
  json events = json::array();
  for (const json& p : mail.at("personalizations")) {
    json e = {{"email", p.at("to")[0].at("email")},
              {"event", "delivered"},
              {"timestamp", 1700000000},
              {"sg_event_id", "ev-" + p.at("to")[0].at("email").get<std::string>()},
              {"sg_message_id", "14c5d75ce93.filter0001.0"}};
    e.update(p.at("custom_args"));
    events.push_back(e);
  }
  // SendGrid delivers a recipient's events in any order and mixed with others'.
  std::swap(events[0], events[2]);
  const auto parsed = parse_events(events);
  ASSERT_EQ(parsed.size(), 3u);
  for (const DeliveryEvent& e : parsed) {
    const std::string expected = "id-" + e.recipient.substr(0, 1);
    EXPECT_EQ(e.message_id, expected) << e.recipient;
  }
}

TEST(SendGridWebhook, MalformedBodiesAreInvalidInputNamingTheEvent) {
  // Invariant: a body that is not an array of event objects is invalid_input naming where.
  auto parse = [](std::string body) { return sendgrid().parse(post(kReceiver, {}, body)); };
  const auto object = parse(R"({"event":"delivered"})");
  ASSERT_TRUE(failed_with(object, Errc::invalid_input));
  EXPECT_EQ(object.error().fields.front().field, "body");
  const auto element = parse(R"([{"event":"delivered"}, 7])");
  ASSERT_TRUE(failed_with(element, Errc::invalid_input));
  EXPECT_EQ(element.error().fields.front().field, "[1]");
  const auto nameless = parse(R"([{"email":"a@example.com"}])");
  ASSERT_TRUE(failed_with(nameless, Errc::invalid_input));
  EXPECT_EQ(nameless.error().fields.front().field, "[0].event");
  EXPECT_TRUE(parse("[]").has_value());
}

constexpr const char* kWebhookId = "77d4a5da-7015-11ed-a1eb-0242ac120002";

// Answers as tsg_webhooks_v3.json describes them.
HttpResponse sendgrid_answer(const HttpRequest& r, bool exists) {
  if (r.method == "POST") {
    if (exists) {
      return response(400,
                      json{{"errors",
                            {{{"id", kWebhookId},
                              {"message", std::string("Webhook at '") + kReceiver +
                                              "' already exists. Please provide a unique URL."},
                              {"url", kReceiver}}}}}
                          .dump());
    }
    return response(201, json{{"enabled", true}, {"url", kReceiver}, {"id", kWebhookId}}.dump());
  }
  if (r.url.find("/signed/") != std::string::npos) {
    return response(200, json{{"id", kWebhookId}, {"public_key", kPublicKey}}.dump());
  }
  return response(200, json{{"enabled", true}, {"url", kReceiver}, {"id", kWebhookId}}.dump());
}

const json kSettings = {
    {"enabled", true},
    {"url", kReceiver},
    {"friendly_name", "Herald delivery tracking"},
    {"processed", true},
    {"dropped", true},
    {"delivered", true},
    {"deferred", true},
    {"bounce", true},
    {"open", true},
    {"click", true},
    {"spam_report", true},
    {"unsubscribe", true},
    {"group_unsubscribe", true},
    {"group_resubscribe", false},
};

TEST(SendGridWebhook, RegistrationCreatesTheWebhookThenTurnsSigningOn) {
  // Invariant: POST …/event/settings with the receiver and every delivery event, then PATCH
  // …/settings/signed/{id} {"enabled": true}; the answer's public_key is the key.
  const Registration r =
      register_with(sendgrid(), sendgrid_credentials(), kReceiver,
                    [](const HttpRequest& q) { return sendgrid_answer(q, false); });
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].method, "POST");
  EXPECT_EQ(r.requests[0].url, "https://api.sendgrid.test/v3/user/webhooks/event/settings");
  EXPECT_EQ(r.requests[0].headers,
            (Headers{{"Authorization", "Bearer SG.testKeyId123.testSecretPart456789"},
                     {"Content-Type", "application/json"},
                     {"User-Agent", std::string(kUserAgent)}}));
  EXPECT_EQ(json::parse(r.requests[0].body), kSettings);
  EXPECT_EQ(r.requests[1].method, "PATCH");
  EXPECT_EQ(r.requests[1].url, std::string("https://api.sendgrid.test/v3/user/webhooks/event/"
                                           "settings/signed/") +
                                   kWebhookId);
  EXPECT_EQ(json::parse(r.requests[1].body), (json{{"enabled", true}}));
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, kPublicKey);
}

TEST(SendGridWebhook, RegistrationUpdatesAWebhookThatAlreadyPostsThere) {
  // Invariant: a 400 "already exists" naming the webhook's id is followed by PATCH
  // …/settings/{id} with the same settings, then signing as before.
  const Registration r =
      register_with(sendgrid(), sendgrid_credentials(), kReceiver,
                    [](const HttpRequest& q) { return sendgrid_answer(q, true); });
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_EQ(r.requests[1].method, "PATCH");
  EXPECT_EQ(r.requests[1].url,
            std::string("https://api.sendgrid.test/v3/user/webhooks/event/settings/") + kWebhookId);
  EXPECT_EQ(json::parse(r.requests[1].body), kSettings);
  EXPECT_TRUE(r.requests[2].url.ends_with(std::string("/signed/") + kWebhookId));
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, kPublicKey);
}

TEST(SendGridWebhook, RegistrationFailuresSayWhy) {
  // Invariant: refused credentials read in plain words; other refusals carry SendGrid's
  // message; a signing answer without a public key is an error.
  auto fail_with = [](HttpResponse answer) {
    return register_with(sendgrid(), sendgrid_credentials(), kReceiver,
                         [&](const HttpRequest&) { return answer; })
        .last;
  };
  const auto forbidden =
      fail_with(response(403, R"({"errors":[{"field":null,"message":"access forbidden"}]})"));
  ASSERT_TRUE(forbidden.error.has_value());
  EXPECT_TRUE(
      forbidden.error->message.starts_with("SendGrid did not accept your account's credentials"));
  const auto limit = fail_with(response(
      400,
      R"({"errors":[{"message":"You have reached the maximum number of webhooks per your current billing plan."}]})"));
  ASSERT_TRUE(limit.error.has_value());
  EXPECT_EQ(limit.error->message,
            "SendGrid refused to set up delivery tracking: You have reached the maximum number of "
            "webhooks per your current billing plan.");
  const Registration unsigned_answer =
      register_with(sendgrid(), sendgrid_credentials(), kReceiver, [](const HttpRequest& q) {
        return q.method == "POST"
                   ? sendgrid_answer(q, false)
                   : response(200, json{{"id", kWebhookId}, {"public_key", ""}}.dump());
      });
  ASSERT_TRUE(unsigned_answer.last.error.has_value());
  EXPECT_FALSE(unsigned_answer.last.key.has_value());
}

constexpr const char* kOtherWebhookId = "77d4a5da-7015-11ed-a1eb-0242ac120003";

// GET …/settings/all (spec EventWebhookAllResponse) with webhooks at `urls` (ids in order:
// kOtherWebhookId for "https://crm.example/hook", kWebhookId and then "dup-<n>" for the
// receiver), and DELETE …/settings/{id} answered `deleted` (204: No Content).
struct FakeSendGrid {
  std::vector<std::string> urls;
  int deleted = 204;

  HttpResponse operator()(const HttpRequest& r) const {
    if (r.method == "DELETE") {
      return deleted == 204
                 ? response(204)
                 : response(deleted, R"({"errors":[{"message":"Invalid id provided."}]})");
    }
    json webhooks = json::array();
    int receivers = 0;
    for (const std::string& url : urls) {
      std::string id = kOtherWebhookId;
      if (url == kReceiver) id = receivers++ == 0 ? kWebhookId : "dup-" + std::to_string(receivers);
      webhooks.push_back({{"enabled", true}, {"url", url}, {"id", id}, {"delivered", true}});
    }
    return response(200, json{{"max_allowed", 5}, {"webhooks", webhooks}}.dump());
  }
};

TEST(SendGridWebhook, UnregistrationDeletesTheWebhookAtTheReceiverAndNoOther) {
  // Invariant: GET …/event/settings/all, then DELETE …/settings/{id} of the webhook whose url is
  // the receiver, with the account's key and no body; the account's other webhook stays.
  const Registration r = unregister_with(sendgrid(), sendgrid_credentials(), kReceiver,
                                         FakeSendGrid{{"https://crm.example/hook", kReceiver}});
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].method, "GET");
  EXPECT_EQ(r.requests[0].url, "https://api.sendgrid.test/v3/user/webhooks/event/settings/all");
  EXPECT_EQ(r.requests[0].headers,
            (Headers{{"Authorization", "Bearer SG.testKeyId123.testSecretPart456789"},
                     {"User-Agent", std::string(kUserAgent)}}));
  EXPECT_EQ(r.requests[0].body, "");
  EXPECT_EQ(r.requests[1].method, "DELETE");
  EXPECT_EQ(r.requests[1].url,
            std::string("https://api.sendgrid.test/v3/user/webhooks/event/settings/") + kWebhookId);
  EXPECT_EQ(r.requests[1].headers, r.requests[0].headers);
  EXPECT_EQ(r.requests[1].body, "");
  EXPECT_TRUE(removed(r));
}

TEST(SendGridWebhook, UnregistrationRemovesEveryWebhookAtTheReceiverOrNone) {
  // Invariant: each webhook posting to the receiver is deleted (two, on an account that had one
  // before SendGrid refused duplicates); none there is done after the listing alone.
  const Registration two =
      unregister_with(sendgrid(), sendgrid_credentials(), kReceiver,
                      FakeSendGrid{{kReceiver, "https://crm.example/hook", kReceiver}});
  ASSERT_EQ(two.requests.size(), 3u);
  EXPECT_TRUE(two.requests[1].url.ends_with(std::string("/settings/") + kWebhookId));
  EXPECT_TRUE(two.requests[2].url.ends_with("/settings/dup-2"));
  EXPECT_TRUE(removed(two));

  const Registration none = unregister_with(sendgrid(), sendgrid_credentials(), kReceiver,
                                            FakeSendGrid{{"https://crm.example/hook"}});
  ASSERT_EQ(none.requests.size(), 1u);
  EXPECT_TRUE(removed(none));
}

TEST(SendGridWebhook, UnregistrationTakesA404AsAlreadyGone) {
  // Invariant: a DELETE answered 404 "Invalid id provided." (removed since the listing) counts
  // as removed.
  const Registration r = unregister_with(sendgrid(), sendgrid_credentials(), kReceiver,
                                         FakeSendGrid{{kReceiver}, 404});
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_TRUE(removed(r));
}

TEST(SendGridWebhook, UnregistrationFailuresSayWhy) {
  // Invariant: refused credentials read in plain words, a refused DELETE carries SendGrid's
  // message, no answer is a network error; each says it was about removing delivery tracking.
  auto list_answer = [](HttpResponse answer) {
    return unregister_with(sendgrid(), sendgrid_credentials(), kReceiver, always(std::move(answer)))
        .last;
  };
  const auto unauthorized = list_answer(
      response(401, R"({"errors":[{"field":null,"message":"authorization required"}]})"));
  ASSERT_TRUE(unauthorized.error.has_value());
  EXPECT_EQ(unauthorized.error->message, "SendGrid did not accept your account's credentials");
  const auto forbidden =
      list_answer(response(403, R"({"errors":[{"field":null,"message":"access forbidden"}]})"));
  ASSERT_TRUE(forbidden.error.has_value());
  EXPECT_EQ(forbidden.error->message,
            "SendGrid did not accept your account's credentials for removing webhooks (the key "
            "may lack that permission)");
  const auto unreachable = list_answer(response(0));
  ASSERT_TRUE(unreachable.error.has_value());
  EXPECT_EQ(unreachable.error->code, Errc::network);

  const Registration refused = unregister_with(sendgrid(), sendgrid_credentials(), kReceiver,
                                               FakeSendGrid{{kReceiver}, 500});
  ASSERT_EQ(refused.requests.size(), 2u);
  ASSERT_TRUE(refused.last.error.has_value());
  EXPECT_EQ(refused.last.error->message,
            "SendGrid refused to remove delivery tracking: Invalid id provided.");
}

}  // namespace
}  // namespace herald::providers
