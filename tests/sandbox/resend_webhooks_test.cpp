// Protects the Resend webhook emulation: the /webhooks registration API as Herald's twin
// drives it, and Svix-signed event posts, one event each, that the twin verifies and reads.
#include "sandbox/webhook_loop_fixture.h"

namespace herald::sandbox::testing {
namespace {

const Headers kAuth = {{"Authorization", "Bearer re_test_1234"}, {"User-Agent", "test"}};

class ResendWebhooksTest : public WebhookLoopTest {};

TEST_F(ResendWebhooksTest, EveryOutcomeArrivesSignedAndCorrelated) {
  // Invariant: each local-part rule yields its Resend events, verified with the whsec_ secret
  // registration returned, in order, carrying Herald's id (tag) and Resend's email id.
  expect_email_outcomes("resend");
}

TEST_F(ResendWebhooksTest, RegistrationCreatesThenReusesOneWebhook) {
  // Invariant: the first registration lists then creates (secret whsec_ + 24+ random bytes);
  // a second finds the webhook, re-enables it and reads the same secret, so events post once.
  Credentials c = credentials("resend");
  const std::string first = register_receiver(c);
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0].method, "GET");
  EXPECT_EQ(requests_[1].method, "POST");
  ASSERT_TRUE(first.starts_with("whsec_"));
  EXPECT_GE(base64_decode(first.substr(6)).value_or("").size(), 24u);

  requests_.clear();
  EXPECT_EQ(register_receiver(c), first);
  ASSERT_EQ(requests_.size(), 3u);
  EXPECT_EQ(requests_[1].method, "PATCH");
  EXPECT_EQ(requests_[2].method, "GET");

  json list = json::parse(client_
                              .get(url("/webhooks"), {{"Authorization", "Bearer key-resend-1234"},
                                                      {"User-Agent", "test"}})
                              .body);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["endpoint"], receiver_url("resend"));
  EXPECT_EQ(list["data"][0]["status"], "enabled");
  EXPECT_FALSE(list["data"][0].contains("signing_secret"));

  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  EXPECT_EQ(receiver_.posts().size(), 1u);
}

TEST_F(ResendWebhooksTest, WebhooksBelongToTheirAccount) {
  // Invariant: another API key sees none of this account's webhooks, and its sends post nothing.
  register_receiver(credentials("resend"));
  auto other = client_.get(url("/webhooks"), kAuth);
  ASSERT_EQ(other.status, 200);
  EXPECT_TRUE(json::parse(other.body)["data"].empty());
  send(credentials("resend", "re_test_1234"), email("m-1", "dana@example.com"));
  wait_for_events();
  EXPECT_TRUE(receiver_.posts().empty());
}

TEST_F(ResendWebhooksTest, SvixHeadersAndPayloadShape) {
  // Invariant: a post has svix-id / svix-timestamp / svix-signature (v1,<base64>) and the
  // {type, created_at, data{email_id, to[], tags{herald_message_id}}} payload.
  Credentials c = credentials("resend");
  register_receiver(c);
  const std::string id = send(c, email("m-1", "bounce@example.com"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(std::string(posts[0].header("svix-id").value_or("")).starts_with("msg_"));
  EXPECT_TRUE(std::string(posts[0].header("svix-signature").value_or("")).starts_with("v1,"));
  auto ts = std::stoll(std::string(posts[0].header("svix-timestamp").value_or("0")));
  EXPECT_LT(std::abs(ts - std::chrono::duration_cast<std::chrono::seconds>(
                              Clock::now().time_since_epoch())
                              .count()),
            60);
  json body = json::parse(posts[0].body);
  EXPECT_EQ(body["type"], "email.bounced");
  EXPECT_EQ(body["data"]["email_id"], id);
  EXPECT_EQ(body["data"]["to"], json::array({"bounce@example.com"}));
  EXPECT_EQ(body["data"]["tags"]["herald_message_id"], "m-1");
  EXPECT_EQ(body["data"]["bounce"]["type"], "Permanent");
}

TEST_F(ResendWebhooksTest, DisabledOrUnsubscribedWebhooksGetNothing) {
  // Invariant: a webhook receives only the event types it subscribed to, and none while
  // disabled.
  json created = json::parse(
      client_
          .post(url("/webhooks"),
                json{{"endpoint", receiver_url("resend")}, {"events", {"email.bounced"}}}.dump(),
                kAuth)
          .body);
  Credentials c = credentials("resend", "re_test_1234");
  send(c, email("m-1", "dana@example.com"));  // delivered: not subscribed
  wait_for_events();
  EXPECT_TRUE(receiver_.posts().empty());
  auto patched = client_.request("PATCH", url("/webhooks/" + created["id"].get<std::string>()),
                                 json{{"status", "disabled"}}.dump(), kAuth);
  ASSERT_EQ(patched.status, 200) << patched.body;
  send(c, email("m-2", "bounce@example.com"));
  wait_for_events();
  EXPECT_TRUE(receiver_.posts().empty());
}

TEST_F(ResendWebhooksTest, TheListComesAPageAtATime) {
  // Invariant: GET /webhooks honours limit and after (oldest first) and has_more says whether
  // another page follows, as Herald's twin reads it; a limit outside 1-100 is refused.
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto made = client_.post(
        url("/webhooks"),
        json{{"endpoint", "https://h" + std::to_string(i) + ".example"}, {"events", {"email.sent"}}}
            .dump(),
        kAuth);
    ASSERT_EQ(made.status, 201);
    ids.push_back(json::parse(made.body)["id"]);
  }
  json first = json::parse(client_.get(url("/webhooks?limit=2"), kAuth).body);
  ASSERT_EQ(first["data"].size(), 2u);
  EXPECT_EQ(first["data"][0]["id"], ids[0]);
  EXPECT_EQ(first["data"][1]["id"], ids[1]);
  EXPECT_EQ(first["has_more"], true);
  json last = json::parse(client_.get(url("/webhooks?limit=2&after=" + ids[1]), kAuth).body);
  ASSERT_EQ(last["data"].size(), 1u);
  EXPECT_EQ(last["data"][0]["id"], ids[2]);
  EXPECT_EQ(last["has_more"], false);
  EXPECT_EQ(json::parse(client_.get(url("/webhooks?limit=3"), kAuth).body)["has_more"], false);
  EXPECT_EQ(client_.get(url("/webhooks?limit=0"), kAuth).status, 422);
  EXPECT_EQ(client_.get(url("/webhooks?limit=101"), kAuth).status, 422);
}

TEST_F(ResendWebhooksTest, RegistrationErrorsInResendsShape) {
  // Invariant: bad bodies are 422 with Resend's names, unknown ids 404 not_found, no key 401.
  auto missing = client_.post(url("/webhooks"), json{{"events", {"email.sent"}}}.dump(), kAuth);
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(json::parse(missing.body)["name"], "missing_required_field");
  auto bad_event = client_.post(
      url("/webhooks"), json{{"endpoint", "https://h.example"}, {"events", {"email.nope"}}}.dump(),
      kAuth);
  EXPECT_EQ(bad_event.status, 422);
  EXPECT_EQ(json::parse(bad_event.body)["name"], "validation_error");
  auto bad_url = client_.post(
      url("/webhooks"), json{{"endpoint", "ftp://h"}, {"events", {"email.sent"}}}.dump(), kAuth);
  EXPECT_EQ(bad_url.status, 422);
  auto unknown = client_.get(url("/webhooks/479e3145-dd38-476b-932c-529ceb705947"), kAuth);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["name"], "not_found");
  EXPECT_EQ(client_.get(url("/webhooks"), {{"User-Agent", "test"}}).status, 401);
  auto removed =
      client_.request("DELETE", url("/webhooks/479e3145-dd38-476b-932c-529ceb705947"), {}, kAuth);
  EXPECT_EQ(removed.status, 404);
}

}  // namespace
}  // namespace herald::sandbox::testing
