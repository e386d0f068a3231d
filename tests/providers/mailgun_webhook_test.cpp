// Mailgun's webhook twin: the body signature (the shared vector and every tampered copy), the
// replay key, the event mapping on payloads shaped like Mailgun's webhook payload docs, batch
// correlation through recipient-variables, and the domain webhook requests that register and
// unregister (mailgun-openapi.yaml) against scripted answers.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <map>

#include "providers/test_support.h"
#include "providers/webhook_fixtures.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

// "mailgun" in provider-specs/webhook-signature-vectors.json.
constexpr std::string_view kSigningKey = "key-0123456789abcdef0123456789abcdef";
constexpr std::string_view kTimestamp = "1700000000";
constexpr std::string_view kToken = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
constexpr std::string_view kSignature =
    "8eca04bed63975049c9a26a326d5625dad24439c7dc94e19844a6c482592f784";
constexpr const char* kReceiver = "https://herald.example/webhooks/mailgun/platform";

const WebhookTwin& mailgun() {
  return twin_of("mailgun");
}

// A delivered event as Mailgun's webhook payload docs show it (event-data trimmed of fields
// Herald does not read).
json delivered_data() {
  return {{"tags", {"campaign"}},
          {"timestamp", 1521472262.908181},
          {"envelope",
           {{"transport", "smtp"},
            {"sender", "matt@mg.wrightrealty.com"},
            {"targets", "buyer@example.com"}}},
          {"recipient-domain", "example.com"},
          {"id", "CPgfbmQMTCKtHW6uIWtuVe"},
          {"user-variables", {{"herald_message_id", "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81"}}},
          {"log-level", "info"},
          {"message",
           {{"headers",
             {{"to", "Jane Buyer <buyer@example.com>"},
              {"message-id", "20130503182626.18666.16540@mg.wrightrealty.com"},
              {"from", "Wright Realty <matt@mg.wrightrealty.com>"},
              {"subject", "New listing: 12 Oak St"}}},
            {"attachments", json::array()},
            {"size", 111}}},
          {"recipient", "buyer@example.com"},
          {"event", "delivered"},
          {"delivery-status",
           {{"tls", true},
            {"mx-host", "smtp-in.example.com"},
            {"attempt-no", 1},
            {"description", ""},
            {"code", 250},
            {"message", "OK"}}}};
}

json signature(std::string_view timestamp = kTimestamp, std::string_view token = kToken,
               std::string_view sig = kSignature) {
  return {{"timestamp", timestamp}, {"token", token}, {"signature", sig}};
}

WebhookRequest body_request(const json& body) {
  return post(kReceiver, {{"Content-Type", "application/json"}}, body.dump());
}

WebhookRequest vector_request() {
  return body_request({{"signature", signature()}, {"event-data", delivered_data()}});
}

TEST(MailgunWebhook, VectorVerifiesWithinFiveMinutes) {
  // Invariant: the shared vector verifies with the signing key near its timestamp.
  for (long long offset : {0, 60, -300, 300}) {
    EXPECT_TRUE(
        mailgun().verify(vector_request(), kSigningKey, at(1700000000 + offset)).has_value())
        << offset;
  }
}

TEST(MailgunWebhook, VectorAgreesWithTheSharedFile) {
  // Invariant: the vector copied above is the one in provider-specs (when that folder exists).
  const auto vectors = signature_vectors();
  if (!vectors) GTEST_SKIP() << "provider-specs not found";
  const json& v = vectors->at("mailgun");
  EXPECT_EQ(v.at("webhook_signing_key"), kSigningKey);
  EXPECT_EQ(v.at("signature"), signature());
}

TEST(MailgunWebhook, EveryTamperedCopyIsRefused) {
  // Invariant: a changed token byte or timestamp, another key, a cut signature or a stale
  // timestamp is forbidden; a missing signature (object or field) is unauthorized. (Mailgun
  // signs only timestamp + token, not event-data: the freshness window and the replay key
  // are what keep a captured token from carrying other events.)
  const TimePoint now = at(1700000000);
  std::string token(kToken);
  token[10] = token[10] == 'a' ? 'b' : 'a';
  auto with = [](const json& sig) {
    return body_request({{"signature", sig}, {"event-data", delivered_data()}});
  };
  EXPECT_TRUE(failed_with(mailgun().verify(with(signature(kTimestamp, token)), kSigningKey, now),
                          Errc::forbidden));
  EXPECT_TRUE(failed_with(mailgun().verify(with(signature("1700000001")), kSigningKey, now),
                          Errc::forbidden));
  EXPECT_TRUE(
      failed_with(mailgun().verify(vector_request(), "key-ffffffffffffffffffffffffffffffff", now),
                  Errc::forbidden));
  EXPECT_TRUE(
      failed_with(mailgun().verify(with(signature(kTimestamp, kToken, kSignature.substr(0, 63))),
                                   kSigningKey, now),
                  Errc::forbidden));
  const auto stale = mailgun().verify(vector_request(), kSigningKey, at(1700000301));
  EXPECT_TRUE(failed_with(stale, Errc::forbidden));
  EXPECT_NE(stale.error().message.find("stale"), std::string::npos);
  EXPECT_TRUE(failed_with(
      mailgun().verify(body_request({{"event-data", delivered_data()}}), kSigningKey, now),
      Errc::unauthorized));
  for (const char* field : {"timestamp", "token", "signature"}) {
    json sig = signature();
    sig.erase(field);
    EXPECT_TRUE(failed_with(mailgun().verify(with(sig), kSigningKey, now), Errc::unauthorized))
        << field;
  }
  EXPECT_TRUE(failed_with(mailgun().verify(post(kReceiver, {}, "not json"), kSigningKey, now),
                          Errc::unauthorized));
  EXPECT_TRUE(failed_with(mailgun().verify(vector_request(), "", now), Errc::forbidden));
}

TEST(MailgunWebhook, ReplayKeyIsTheSignedToken) {
  // Invariant: the token is the request's replay key (a token seen before is refused).
  EXPECT_EQ(mailgun().replay_key(vector_request()), kToken);
  EXPECT_EQ(mailgun().replay_key(post(kReceiver, {}, "[]")), "");
}

DeliveryEvent parse_one(const json& data, std::string_view token = kToken) {
  const auto events = mailgun().parse(
      body_request({{"signature", signature(kTimestamp, token)}, {"event-data", data}}));
  EXPECT_TRUE(events.has_value()) << (events ? "" : events.error().message);
  if (!events || events->size() != 1) {
    ADD_FAILURE() << "expected one event";
    return {};
  }
  return events->front();
}

json with_event(std::string_view name, json extra = json::object()) {
  json data = delivered_data();
  data["event"] = name;
  data.update(extra);
  return data;
}

TEST(MailgunWebhook, MapsEveryEventName) {
  // Invariant: Mailgun's event names map onto Herald's vocabulary as the table says; names
  // Herald does not track are unknown, never an error.
  const std::vector<std::pair<std::string, EventType>> cases = {
      {"accepted", EventType::queued},
      {"rejected", EventType::rejected},
      {"delivered", EventType::delivered},
      {"opened", EventType::opened},
      {"clicked", EventType::clicked},
      {"unsubscribed", EventType::unsubscribed},
      {"complained", EventType::complained},
      {"stored", EventType::unknown},
      {"list_member_uploaded", EventType::unknown},
  };
  for (const auto& [name, expected] : cases) {
    const DeliveryEvent e = parse_one(with_event(name));
    EXPECT_EQ(e.type, expected) << name;
    EXPECT_EQ(e.provider_event, name);
  }
}

TEST(MailgunWebhook, ARedeliveryWithAFreshTokenIsTheSameEventAndAnIdlessOneKeysByToken) {
  json first = {{"signature", signature()}, {"event-data", delivered_data()}};
  json again = first;
  again["signature"]["token"] = "a-fresh-token-for-the-redelivery-0123456789abcdefgh";
  EXPECT_EQ(mailgun().parse(body_request(first))->front().event_key,
            mailgun().parse(body_request(again))->front().event_key);
  json next_day = first;
  next_day["event-data"]["timestamp"] = 1521472262.908181 + 86400;
  EXPECT_NE(mailgun().parse(body_request(next_day))->front().event_key,
            mailgun().parse(body_request(first))->front().event_key)
      << "ids repeat across days";
  json idless = first;
  idless["event-data"].erase("id");
  EXPECT_EQ(mailgun().parse(body_request(idless))->front().event_key, kToken);
}

TEST(MailgunWebhook, EventCarriesIdsRecipientTimeAndRaw) {
  // Invariant: event-data.id and its day key the event, user-variables.herald_message_id names
  // Herald's message, the Message-Id (without brackets) is the provider's id, and the
  // recipient, time and raw body are kept.
  const WebhookRequest r = vector_request();
  const DeliveryEvent e = mailgun().parse(r)->front();
  EXPECT_EQ(e.type, EventType::delivered);
  EXPECT_EQ(e.event_key, "id:CPgfbmQMTCKtHW6uIWtuVe@17609");  // 2018-03-19
  EXPECT_EQ(e.message_id, "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81");
  EXPECT_EQ(e.provider_message_id, "20130503182626.18666.16540@mg.wrightrealty.com");
  EXPECT_EQ(e.recipient, "buyer@example.com");
  ASSERT_TRUE(e.occurred_at.has_value());
  EXPECT_EQ(to_millis(*e.occurred_at), 1521472262908);
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(e.raw, r.body);
  json bracketed = delivered_data();
  bracketed["message"]["headers"]["message-id"] =
      "<20130503182626.18666.16540@mg.wrightrealty.com>";
  EXPECT_EQ(parse_one(bracketed).provider_message_id,
            "20130503182626.18666.16540@mg.wrightrealty.com");
}

TEST(MailgunWebhook, FailedIsSplitBySeverityAndReason) {
  // Invariant: failed + permanent is a hard bounce with the server's words; failed +
  // temporary is a deferral, not a bounce; a permanent failure for an address already on
  // Mailgun's suppression list is a rejection.
  const DeliveryEvent hard = parse_one(with_event(
      "failed", {{"severity", "permanent"},
                 {"reason", "bounce"},
                 {"delivery-status",
                  {{"attempt-no", 1},
                   {"code", 550},
                   {"message", "5.1.1 The email account that you tried to reach does not exist."},
                   {"description", ""}}}}));
  EXPECT_EQ(hard.type, EventType::bounced);
  EXPECT_EQ(hard.bounce, BounceKind::hard);
  EXPECT_EQ(hard.reason, "550 5.1.1 The email account that you tried to reach does not exist.");
  const DeliveryEvent temporary =
      parse_one(with_event("failed", {{"severity", "temporary"},
                                      {"reason", "greylisted"},
                                      {"delivery-status",
                                       {{"attempt-no", 1},
                                        {"code", 452},
                                        {"message", "4.2.2 Mailbox full"},
                                        {"description", ""}}}}));
  EXPECT_EQ(temporary.type, EventType::deferred);
  EXPECT_EQ(temporary.bounce, BounceKind::none);
  EXPECT_EQ(temporary.reason, "452 4.2.2 Mailbox full");
  const DeliveryEvent suppressed = parse_one(
      with_event("failed", {{"severity", "permanent"},
                            {"reason", "suppress-bounce"},
                            {"delivery-status",
                             {{"attempt-no", 1},
                              {"code", 605},
                              {"message", ""},
                              {"description", "Not delivering to previously bounced address"}}}}));
  EXPECT_EQ(suppressed.type, EventType::rejected);
  EXPECT_EQ(suppressed.reason, "605 Not delivering to previously bounced address");
}

TEST(MailgunWebhook, ClickCarriesItsUrl) {
  // Invariant: a click carries event-data.url.
  EXPECT_EQ(parse_one(with_event("clicked", {{"url", "https://wrightrealty.com/l/12-oak"}})).url,
            "https://wrightrealty.com/l/12-oak");
}

TEST(MailgunWebhook, BatchOfThreeGivesEachRecipientItsOwnMessageId) {
  // Invariant: in a 3-recipient batch, v:herald_message_id=%recipient.herald_message_id% with
  // recipient-variables gives each recipient's events that recipient's own Herald id.
  const std::array<OutboundMessage, 3> batch = {email_message("id-a", "a@example.com"),
                                                email_message("id-b", "b@example.com"),
                                                email_message("id-c", "c@example.com")};
  const Fields fields =
      parse_multipart(provider_for("mailgun").build_send(mailgun_credentials(), batch));
  ASSERT_EQ(values_of(fields, "v:herald_message_id"),
            std::vector<std::string>{"%recipient.herald_message_id%"});
  const json variables = json::parse(values_of(fields, "recipient-variables").at(0));
  // What Mailgun does with them: each recipient's user-variables take its own values.
  int n = 0;
  for (const auto& [address, values] : variables.items()) {
    json data = delivered_data();
    data["recipient"] = address;
    data["user-variables"] = {{"herald_message_id", values.at("herald_message_id")}};
    const DeliveryEvent e = parse_one(data, "token" + std::to_string(n++));
    EXPECT_EQ(e.message_id, "id-" + address.substr(0, 1)) << address;
    EXPECT_EQ(e.recipient, address);
  }
  EXPECT_EQ(n, 3);
}

TEST(MailgunWebhook, MalformedBodiesAreInvalidInputNamingTheField) {
  // Invariant: a body that is not Mailgun's shape is invalid_input naming what is wrong.
  auto parse = [](std::string body) { return mailgun().parse(post(kReceiver, {}, body)); };
  const auto not_json = parse("event=delivered");
  ASSERT_TRUE(failed_with(not_json, Errc::invalid_input));
  EXPECT_EQ(not_json.error().fields.front().field, "body");
  const auto no_data = parse(json{{"signature", signature()}}.dump());
  ASSERT_TRUE(failed_with(no_data, Errc::invalid_input));
  EXPECT_EQ(no_data.error().fields.front().field, "event-data");
  const auto no_event =
      parse(json{{"signature", signature()}, {"event-data", {{"id", "x"}}}}.dump());
  ASSERT_TRUE(failed_with(no_event, Errc::invalid_input));
  EXPECT_EQ(no_event.error().fields.front().field, "event-data.event");
}

constexpr std::array<const char*, 7> kHooks = {"delivered",   "permanent_fail", "temporary_fail",
                                               "opened",      "clicked",        "complained",
                                               "unsubscribed"};

// A scripted Mailgun: the domain's webhooks as `listing` says, answering as the spec does.
struct FakeMailgun {
  std::map<std::string, std::vector<std::string>> listing;
  std::map<std::string, std::vector<std::string>> actual;  // what a POST finds (races)
  int deleted = 200;                                       // the answer to a DELETE

  HttpResponse operator()(const HttpRequest& r) const {
    const std::string base = "https://api.eu.mailgun.test/v3/domains/mg.wrightrealty.com/webhooks";
    if (r.method == "GET" && r.url == base) {
      json hooks = json::object();
      for (const auto& [hook, urls] : listing) hooks[hook] = {{"urls", urls}};
      return response(200, json{{"webhooks", hooks}}.dump());
    }
    if (r.method == "GET" && r.url.starts_with(base + "/")) {
      const auto it = actual.find(r.url.substr(base.size() + 1));
      return response(
          200, json{{"webhook",
                     {{"urls", it == actual.end() ? std::vector<std::string>{} : it->second}}}}
                   .dump());
    }
    if (r.method == "POST") {
      const auto id = values_of(parse_multipart(r), "id").at(0);
      if (actual.contains(id)) return response(400, R"({"message":"Webhook already exists"})");
      return response(
          200, json{{"message", "Webhook has been created"}, {"webhook", {{"urls", {kReceiver}}}}}
                   .dump());
    }
    if (r.method == "PUT") {
      return response(
          200, json{{"message", "Webhook has been updated"}, {"webhook", {{"urls", {kReceiver}}}}}
                   .dump());
    }
    if (r.method == "DELETE") {
      if (deleted != 200) return response(deleted, R"({"message":"Webhook not found"})");
      return response(
          200, json{{"message", "Webhook has been deleted"}, {"webhook", {{"urls", {kReceiver}}}}}
                   .dump());
    }
    return response(200, R"({"http_signing_key":"key-55c5c5c5c55f55ca5cd5f55d5c555c55"})");
  }
};

TEST(MailgunWebhook, RegistrationCreatesEachWebhookTypeThenReadsTheSigningKey) {
  // Invariant: on a domain without webhooks Herald GETs the list, POSTs each of the seven
  // types with its receiver (multipart id + url on the region's host), then GETs
  // /v5/accounts/http_signing_key, which is the key.
  const Registration r = register_with(mailgun(), mailgun_credentials(), kReceiver, FakeMailgun{});
  ASSERT_EQ(r.requests.size(), 9u);
  EXPECT_EQ(r.requests[0].method, "GET");
  EXPECT_EQ(r.requests[0].url,
            "https://api.eu.mailgun.test/v3/domains/mg.wrightrealty.com/webhooks");
  EXPECT_EQ(basic_credentials(*r.requests[0].header("Authorization")),
            "api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
  for (std::size_t i = 0; i < kHooks.size(); ++i) {
    const HttpRequest& q = r.requests[1 + i];
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.url, "https://api.eu.mailgun.test/v3/domains/mg.wrightrealty.com/webhooks");
    EXPECT_EQ(parse_multipart(q), (Fields{{"id", kHooks[i]}, {"url", kReceiver}}));
  }
  EXPECT_EQ(r.requests[8].method, "GET");
  EXPECT_EQ(r.requests[8].url, "https://api.eu.mailgun.test/v5/accounts/http_signing_key");
  ASSERT_TRUE(r.last.key.has_value());
  EXPECT_EQ(*r.last.key, "key-55c5c5c5c55f55ca5cd5f55d5c555c55");
}

TEST(MailgunWebhook, RegistrationKeepsTheAccountsOtherWebhookUrls) {
  // Invariant: a type that already posts to Herald is left alone; a type with other URLs is
  // PUT with those URLs plus Herald's (PUT replaces the list); a type with Mailgun's maximum
  // of 3 other URLs stops registration with words saying what to do.
  FakeMailgun fake;
  fake.listing = {{"delivered", {kReceiver}}, {"opened", {"https://crm.example/hook"}}};
  fake.actual = fake.listing;
  const Registration r = register_with(mailgun(), mailgun_credentials(), kReceiver, fake);
  ASSERT_EQ(r.requests.size(), 1u + 5u + 1u + 1u);
  std::vector<std::string> methods;
  for (const auto& q : r.requests) methods.push_back(q.method);
  EXPECT_EQ(methods, (std::vector<std::string>{"GET", "POST", "POST", "PUT", "POST", "POST", "POST",
                                               "GET"}));
  EXPECT_EQ(r.requests[3].url,
            "https://api.eu.mailgun.test/v3/domains/mg.wrightrealty.com/webhooks/opened");
  EXPECT_EQ(parse_multipart(r.requests[3]),
            (Fields{{"url", "https://crm.example/hook"}, {"url", kReceiver}}));
  EXPECT_TRUE(r.last.key.has_value());

  FakeMailgun full;
  full.listing = {{"clicked", {"https://a.example", "https://b.example", "https://c.example"}}};
  const Registration stopped = register_with(mailgun(), mailgun_credentials(), kReceiver, full);
  ASSERT_TRUE(stopped.last.error.has_value());
  EXPECT_NE(stopped.last.error->message.find("clicked"), std::string::npos);
  EXPECT_NE(stopped.last.error->message.find("3 URLs"), std::string::npos);
}

TEST(MailgunWebhook, RegistrationMergesWhenAPostFindsTheTypeTaken) {
  // Invariant: a POST answered "already exists" (a URL added since the listing) reads that
  // type's URLs and PUTs them plus Herald's, never dropping the other URL.
  FakeMailgun fake;
  fake.actual = {{"complained", {"https://crm.example/hook"}}};
  const Registration r = register_with(mailgun(), mailgun_credentials(), kReceiver, fake);
  ASSERT_TRUE(r.last.key.has_value()) << (r.last.error ? r.last.error->message : "");
  const auto put =
      std::ranges::find_if(r.requests, [](const HttpRequest& q) { return q.method == "PUT"; });
  ASSERT_NE(put, r.requests.end());
  EXPECT_TRUE(put->url.ends_with("/webhooks/complained"));
  EXPECT_EQ(parse_multipart(*put),
            (Fields{{"url", "https://crm.example/hook"}, {"url", kReceiver}}));
  const auto read = std::prev(put);
  EXPECT_EQ(read->method, "GET");
  EXPECT_TRUE(read->url.ends_with("/webhooks/complained"));
}

TEST(MailgunWebhook, RegistrationFailuresSayWhy) {
  // Invariant: refused credentials read in plain words, an unknown domain says so, and a
  // signing-key answer without a key is an error.
  auto fail_with = [](HttpResponse answer) {
    return register_with(mailgun(), mailgun_credentials(), kReceiver,
                         [&](const HttpRequest&) { return answer; })
        .last;
  };
  const auto unauthorized = fail_with(response(401, R"({"message":"Invalid private key"})"));
  ASSERT_TRUE(unauthorized.error.has_value());
  EXPECT_EQ(unauthorized.error->message, "Mailgun did not accept your account's credentials");
  const auto unknown = fail_with(response(404, R"({"message":"Domain not found"})"));
  ASSERT_TRUE(unknown.error.has_value());
  EXPECT_EQ(unknown.error->message,
            "Mailgun refused to set up delivery tracking: Mailgun has no domain "
            "mg.wrightrealty.com in this account and region");
  const Registration keyless =
      register_with(mailgun(), mailgun_credentials(), kReceiver, [](const HttpRequest& q) {
        if (q.url.ends_with("http_signing_key"))
          return response(400, R"({"message":"could not get HSK for account"})");
        return FakeMailgun{}(q);
      });
  ASSERT_TRUE(keyless.last.error.has_value());
  EXPECT_EQ(keyless.last.error->message,
            "Mailgun refused to set up delivery tracking: could not get HSK for account");
}

TEST(MailgunWebhook, UnregistrationTakesTheReceiverOutOfEveryTypeKeepingOtherUrls) {
  // Invariant: after GET of the domain's webhooks, a type whose only URL is the receiver is
  // DELETEd, a type with other URLs too is PUT with those others alone (never dropping the
  // agent's own), and a type without the receiver is left alone; on the region's host, with
  // the account's key.
  FakeMailgun fake;
  fake.listing = {{"clicked", {"https://crm.example/hook"}},
                  {"delivered", {kReceiver}},
                  {"opened", {"https://crm.example/hook", kReceiver, "https://bi.example/in"}},
                  {"permanent_fail", {kReceiver}}};
  const Registration r = unregister_with(mailgun(), mailgun_credentials(), kReceiver, fake);
  ASSERT_EQ(r.requests.size(), 4u);
  const std::string base = "https://api.eu.mailgun.test/v3/domains/mg.wrightrealty.com/webhooks";
  EXPECT_EQ(r.requests[0].method, "GET");
  EXPECT_EQ(r.requests[0].url, base);
  EXPECT_EQ(r.requests[1].method, "DELETE");
  EXPECT_EQ(r.requests[1].url, base + "/delivered");
  EXPECT_EQ(r.requests[1].body, "");
  EXPECT_EQ(basic_credentials(*r.requests[1].header("Authorization")),
            "api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
  EXPECT_EQ(r.requests[2].method, "PUT");
  EXPECT_EQ(r.requests[2].url, base + "/opened");
  EXPECT_EQ(parse_multipart(r.requests[2]),
            (Fields{{"url", "https://crm.example/hook"}, {"url", "https://bi.example/in"}}));
  EXPECT_EQ(r.requests[3].method, "DELETE");
  EXPECT_EQ(r.requests[3].url, base + "/permanent_fail");
  EXPECT_TRUE(removed(r));

  FakeMailgun others;
  others.listing = {{"clicked", {"https://crm.example/hook"}}};
  const Registration untouched =
      unregister_with(mailgun(), mailgun_credentials(), kReceiver, others);
  ASSERT_EQ(untouched.requests.size(), 1u);
  EXPECT_TRUE(removed(untouched));
}

TEST(MailgunWebhook, UnregistrationTakesA404AsAlreadyGone) {
  // Invariant: a DELETE answered 404 (the type removed since the listing) counts as removed and
  // the next type is still taken care of.
  FakeMailgun fake;
  fake.listing = {{"delivered", {kReceiver}}, {"opened", {kReceiver}}};
  fake.deleted = 404;
  const Registration r = unregister_with(mailgun(), mailgun_credentials(), kReceiver, fake);
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_TRUE(r.requests[2].url.ends_with("/webhooks/opened"));
  EXPECT_TRUE(removed(r));
}

TEST(MailgunWebhook, UnregistrationFailuresSayWhy) {
  // Invariant: refused credentials read in plain words, an unknown domain says so, a refused
  // PUT carries Mailgun's reason; each says it was about removing delivery tracking.
  auto list_answer = [](HttpResponse answer) {
    return unregister_with(mailgun(), mailgun_credentials(), kReceiver, always(std::move(answer)))
        .last;
  };
  const auto unauthorized = list_answer(response(401, R"({"message":"Invalid private key"})"));
  ASSERT_TRUE(unauthorized.error.has_value());
  EXPECT_EQ(unauthorized.error->message, "Mailgun did not accept your account's credentials");
  const auto unknown = list_answer(response(404, R"({"message":"Domain not found"})"));
  ASSERT_TRUE(unknown.error.has_value());
  EXPECT_EQ(unknown.error->message,
            "Mailgun refused to remove delivery tracking: Mailgun has no domain "
            "mg.wrightrealty.com in this account and region");

  FakeMailgun fake;
  fake.listing = {{"opened", {"https://crm.example/hook", kReceiver}}};
  const Registration refused =
      unregister_with(mailgun(), mailgun_credentials(), kReceiver, [&](const HttpRequest& q) {
        if (q.method == "PUT") {
          return response(400, R"({"Reason":"https://crm.example/hook is not a valid url"})");
        }
        return fake(q);
      });
  ASSERT_TRUE(refused.last.error.has_value());
  EXPECT_EQ(refused.last.error->message,
            "Mailgun refused to remove delivery tracking: https://crm.example/hook is not a "
            "valid url");
}

}  // namespace
}  // namespace herald::providers
