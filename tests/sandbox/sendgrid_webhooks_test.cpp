// Protects the SendGrid Event Webhook emulation: the settings API as Herald's twin drives it
// (create or "already exists", then signing on with a P-256 public key), and ECDSA-signed
// posts of event arrays that the twin verifies and reads.
#include "sandbox/webhook_loop_fixture.h"

namespace herald::sandbox::testing {
namespace {

const std::string kSettings = "/v3/user/webhooks/event/settings";
const Headers kAuth = {{"Authorization", "Bearer SG.other"}, {"Content-Type", "application/json"}};

class SendGridWebhooksTest : public WebhookLoopTest {};

TEST_F(SendGridWebhooksTest, EveryOutcomeArrivesSignedAndCorrelated) {
  // Invariant: each local-part rule yields its SendGrid events, verified with the public key
  // registration returned, in order, carrying custom_args' Herald id and the X-Message-Id.
  expect_email_outcomes("sendgrid");
}

TEST_F(SendGridWebhooksTest, RegistrationCreatesThenFindsTheExistingWebhook) {
  // Invariant: the first registration creates (201) and turns signing on; a second is told the
  // URL exists (400 with the id), updates that webhook and gets the same public key.
  Credentials c = credentials("sendgrid");
  const std::string first = register_receiver(c);
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0].method, "POST");
  EXPECT_TRUE(requests_[1].url.find("/settings/signed/") != std::string::npos);
  ASSERT_FALSE(first.empty());
  // A DER SubjectPublicKeyInfo of a P-256 key is 91 bytes.
  EXPECT_EQ(base64_decode(first).value_or("").size(), 91u);

  requests_.clear();
  EXPECT_EQ(register_receiver(c), first);
  ASSERT_EQ(requests_.size(), 3u);
  EXPECT_EQ(requests_[1].method, "PATCH");
  EXPECT_NE(requests_[1].url.find(kSettings + "/"), std::string::npos);
  EXPECT_EQ(requests_[1].url.find("/signed/"), std::string::npos);

  auto all = client_.get(url(kSettings + "/all"), {{"Authorization", "Bearer key-sendgrid-1234"}});
  json list = json::parse(all.body);
  ASSERT_EQ(list["webhooks"].size(), 1u);
  EXPECT_EQ(list["webhooks"][0]["url"], receiver_url("sendgrid"));
  EXPECT_EQ(list["webhooks"][0]["enabled"], true);
  EXPECT_EQ(list["webhooks"][0]["delivered"], true);
  EXPECT_EQ(list["webhooks"][0]["public_key"], first);
}

TEST_F(SendGridWebhooksTest, ABatchPostsOneArrayWithEveryRecipientsEvent) {
  // Invariant: the events of a batch's recipients go out together, one JSON array per post,
  // each event with its own recipient's Herald id.
  Credentials c = credentials("sendgrid");
  const std::string key = register_receiver(c);
  std::vector<OutboundMessage> batch = {email("m-1", "a@example.com"),
                                        email("m-2", "b@example.com"),
                                        email("m-3", "bounce@example.com")};
  send_all(c, batch);
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 1u);
  json events = json::parse(posts[0].body);
  ASSERT_TRUE(events.is_array());
  ASSERT_EQ(events.size(), 3u);
  auto seen_events = seen("sendgrid", key);
  EXPECT_EQ(types(seen_events["m-1"]), std::vector<EventType>{EventType::delivered});
  EXPECT_EQ(types(seen_events["m-3"]), std::vector<EventType>{EventType::bounced});
  EXPECT_EQ(stats()["events"]["posted"], 3);
}

TEST_F(SendGridWebhooksTest, UnsignedUntilSigningIsTurnedOn) {
  // Invariant: a webhook created without the signed step posts without signature headers, and
  // a disabled one posts nothing.
  json created = json::parse(
      client_
          .post(url(kSettings),
                json{{"enabled", true}, {"url", receiver_url("sendgrid")}, {"delivered", true}}
                    .dump(),
                kAuth)
          .body);
  ASSERT_TRUE(created.contains("id"));
  Credentials c = credentials("sendgrid", "SG.other");
  send(c, email("m-1", "a@example.com"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_FALSE(posts[0].header("X-Twilio-Email-Event-Webhook-Signature").has_value());
  auto off = client_.request("PATCH", url(kSettings + "/" + created["id"].get<std::string>()),
                             json{{"enabled", false}}.dump(), kAuth);
  ASSERT_EQ(off.status, 200) << off.body;
  send(c, email("m-2", "a@example.com"));
  wait_for_events();
  EXPECT_EQ(receiver_.posts().size(), 1u);
}

TEST_F(SendGridWebhooksTest, SettingsErrorsInSendGridsShape) {
  // Invariant: a bad URL and a duplicate URL are 400 (the duplicate naming the existing id),
  // unknown ids 404 "Invalid id provided.", no key 401.
  auto bad = client_.post(url(kSettings), json{{"url", "nope"}}.dump(), kAuth);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["errors"][0]["message"], "'nope' is not a valid url");
  json created = json::parse(
      client_.post(url(kSettings), json{{"url", "https://h.example/e"}}.dump(), kAuth).body);
  auto again = client_.post(url(kSettings), json{{"url", "https://h.example/e"}}.dump(), kAuth);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(json::parse(again.body)["errors"][0]["id"], created["id"]);
  auto unknown = client_.request("PATCH", url(kSettings + "/signed/nope"),
                                 json{{"enabled", true}}.dump(), kAuth);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["errors"][0]["message"], "Invalid id provided.");
  EXPECT_EQ(client_.post(url(kSettings), "{}").status, 401);
}

}  // namespace
}  // namespace herald::sandbox::testing
