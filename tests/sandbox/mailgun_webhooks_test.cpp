// Protects the Mailgun webhook emulation: the domain webhooks API and the account's signing
// key as Herald's twin drives them, and body-signed posts, one event each, to the URLs of the
// event's webhook type, which the twin verifies and reads.
#include "sandbox/webhook_loop_fixture.h"

namespace herald::sandbox::testing {
namespace {

const std::string kHooks = "/v3/domains/mg.example.com/webhooks";
const std::string kAuth = "api:key-mailgun-1234";

class MailgunWebhooksTest : public WebhookLoopTest {};

TEST_F(MailgunWebhooksTest, EveryOutcomeArrivesSignedAndCorrelated) {
  // Invariant: each local-part rule yields its Mailgun events (failed permanent is a hard
  // bounce, temporary a deferral), verified with the account's signing key, in order, carrying
  // user-variables' Herald id and the Message-Id.
  expect_email_outcomes("mailgun");
}

TEST_F(MailgunWebhooksTest, RegistrationSetsEveryTypeOnceAndKeepsOthersUrls) {
  // Invariant: registration POSTs each type Herald needs, appends to a type that has someone
  // else's URL (PUT keeps it), changes nothing the second time, and the key is the account's.
  auto theirs = client_.post_form(
      url(kHooks), {{"id", "delivered"}, {"url", "https://crm.example/mg"}}, {}, kAuth);
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  Credentials c = credentials("mailgun");
  const std::string key = register_receiver(c);
  ASSERT_TRUE(key.starts_with("key-"));
  std::size_t puts = 0;
  for (const HttpRequest& r : requests_) puts += r.method == "PUT";
  EXPECT_EQ(puts, 1u);
  EXPECT_EQ(requests_.size(), 1u + 7u + 1u);  // list, 7 types, the signing key

  json hooks = json::parse(client_.request("GET", url(kHooks), {}, {}, kAuth).body)["webhooks"];
  EXPECT_EQ(hooks["delivered"]["urls"],
            json::array({"https://crm.example/mg", receiver_url("mailgun")}));
  EXPECT_EQ(hooks["permanent_fail"]["urls"], json::array({receiver_url("mailgun")}));
  EXPECT_FALSE(hooks.contains("accepted"));

  requests_.clear();
  EXPECT_EQ(register_receiver(c), key);
  EXPECT_EQ(requests_.size(), 2u);  // the list and the key: nothing left to change
}

TEST_F(MailgunWebhooksTest, EachUrlOfTheTypeGetsTheEvent) {
  // Invariant: an event goes to every URL of its type, each post with its own token.
  Credentials c = credentials("mailgun");
  const std::string key = register_receiver(c);
  const std::vector<FormPart> urls = {{"url", receiver_url("mailgun")},
                                      {"url", receiver_.url("/second")}};
  auto put = client_.request("PUT", url(kHooks + "/delivered"), {}, {}, kAuth, &urls);
  ASSERT_EQ(put.status, 200) << put.body;
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_NE(twin("mailgun").replay_key(posts[0]), twin("mailgun").replay_key(posts[1]));
  auto events = seen("mailgun", key);
  EXPECT_EQ(events["m-1"].size(), 2u);
}

TEST_F(MailgunWebhooksTest, A406IsNeverRetried) {
  // Invariant: Mailgun stops at 406 (WEBHOOKS.md): one attempt, counted as failed.
  SandboxOptions options;
  options.events.backoff = std::chrono::milliseconds(1);
  start(options);
  Credentials c = credentials("mailgun");
  register_receiver(c);
  receiver_.answer(406);
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  EXPECT_EQ(receiver_.posts().size(), 1u);
  EXPECT_EQ(stats()["events"]["failed"], 1);
  EXPECT_EQ(stats()["events"]["retried"], 0);
}

TEST_F(MailgunWebhooksTest, WebhookErrorsInMailgunsShape) {
  // Invariant: a type that exists is 400 "already exists", a bad URL 400 with Reason, an
  // unknown type 404, a domain without a dot 404, a bad login 401 Forbidden.
  ASSERT_EQ(
      client_.post_form(url(kHooks), {{"id", "opened"}, {"url", "https://h.example"}}, {}, kAuth)
          .status,
      200);
  auto again =
      client_.post_form(url(kHooks), {{"id", "opened"}, {"url", "https://i.example"}}, {}, kAuth);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(json::parse(again.body)["message"].get<std::string>().find("already exists"),
            std::string::npos);
  auto bad = client_.post_form(url(kHooks), {{"id", "clicked"}, {"url", "nope"}}, {}, kAuth);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["Reason"], "nope is not a valid url");
  EXPECT_EQ(client_.request("GET", url(kHooks + "/clicked"), {}, {}, kAuth).status, 404);
  EXPECT_EQ(client_.request("GET", url("/v3/domains/localhost/webhooks"), {}, {}, kAuth).status,
            404);
  EXPECT_EQ(client_.request("GET", url(kHooks), {}, {}, "api:revoked-key").status, 401);
}

}  // namespace
}  // namespace herald::sandbox::testing
