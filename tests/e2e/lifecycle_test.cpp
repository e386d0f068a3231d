// The seed's request lifecycle end to end: real `herald serve` and `herald sandbox`
// processes over real HTTP, a real SQLite file or PostgreSQL database, the providers' real
// request shapes.
#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace herald::e2e {
namespace {

// The provider took the message: sent, or already reported delivered (the sandbox posts its
// delivery events back).
bool accepted(const json& m) {
  return m["status"] == "sent" || m["status"] == "delivered";
}

const std::string kWrightKey = "SG.wright-secret-key-WRGT";
const std::string kWrightToken = "wrighttwilioauthtoken0001";
const std::string kWrightSid = "AC11111111111111111111111111111111";

json listing(const std::string& email, const std::string& phone = "") {
  json seller = {{"name", "Seller " + email}, {"email", email}};
  if (!phone.empty()) seller["phone"] = phone;
  return {{"address", "742 Evergreen Terrace"}, {"price", 650000}, {"seller", seller}};
}

std::string create_agent(Client& api, const std::string& name, const std::string& email) {
  auto r = api.post("/api/v1/agents", {{"name", name}, {"email", email}});
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.body["id"];
}

// Scenario 1: Wright Realty with its own SendGrid and Twilio.
std::string wright(Client& api, const std::string& key = kWrightKey) {
  std::string id = create_agent(api, "Matt Wright", "matt-" + new_id() + "@wrightrealty.com");
  auto b = api.put("/api/v1/agents/" + id + "/branding",
                   {{"companyName", "Wright Realty"}, {"replyEmail", "matt@wrightrealty.com"}});
  EXPECT_EQ(b.status, 200) << b.raw;
  auto e =
      api.put("/api/v1/agents/" + id + "/integrations/email",
              {{"provider", "sendgrid"}, {"apiKey", key}, {"fromEmail", "matt@wrightrealty.com"}});
  EXPECT_EQ(e.status, 200) << e.raw;
  auto s = api.put("/api/v1/agents/" + id + "/integrations/sms", {{"provider", "twilio"},
                                                                  {"accountSid", kWrightSid},
                                                                  {"authToken", kWrightToken},
                                                                  {"phoneNumber", "+13105551234"}});
  EXPECT_EQ(s.status, 200) << s.raw;
  return id;
}

// Each test runs on both stores (SQLite, PostgreSQL): the parameter names the store.
class Lifecycle : public ::testing::TestWithParam<std::string> {};

TEST_P(Lifecycle, SeedScenariosGoOutThroughTheRightAccountsWithTheRightSender) {
  // Invariant: the seed's three scenarios produce exactly the seed's From, provider and payer.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string w = wright(api);
  std::string s = create_agent(api, "Lisa Park", "lisa@sunsetprops.com");
  api.put("/api/v1/agents/" + s + "/branding",
          {{"companyName", "Sunset Properties"}, {"replyEmail", "lisa@sunsetprops.com"}});
  std::string d = create_agent(api, "Pat Jones", "pat@example.com");

  ASSERT_EQ(api.post("/api/v1/agents/" + w + "/listings", listing("w@example.com", "+14155552671"))
                .status,
            201);
  ASSERT_EQ(api.post("/api/v1/agents/" + s + "/listings", listing("s@example.com", "+14155552672"))
                .status,
            201);
  ASSERT_EQ(api.post("/api/v1/agents/" + d + "/listings", listing("d@example.com")).status, 201);
  stack.settled_messages(w, 2);
  stack.settled_messages(s, 2);
  stack.settled_messages(d, 1);

  auto w_email = stack.received("w@example.com");
  ASSERT_EQ(w_email.size(), 1u);
  EXPECT_EQ(w_email[0]["provider"], "sendgrid");
  EXPECT_EQ(w_email[0]["from"], "Wright Realty <matt@wrightrealty.com>");
  EXPECT_EQ(w_email[0]["account"], "…WRGT");
  EXPECT_NE(w_email[0]["text"].get<std::string>().find("Wright Realty"), std::string::npos);
  auto w_sms = stack.received("+14155552671");
  ASSERT_EQ(w_sms.size(), 1u);
  EXPECT_EQ(w_sms[0]["provider"], "twilio");
  EXPECT_EQ(w_sms[0]["account"], kWrightSid);
  EXPECT_EQ(w_sms[0]["from"], "+13105551234");

  auto s_email = stack.received("s@example.com");
  ASSERT_EQ(s_email.size(), 1u);
  EXPECT_EQ(s_email[0]["provider"], "resend");
  EXPECT_EQ(s_email[0]["from"], "Sunset Properties <noreply@platform.com>");
  EXPECT_EQ(s_email[0]["replyTo"], "lisa@sunsetprops.com");
  auto s_sms = stack.received("+14155552672");
  ASSERT_EQ(s_sms.size(), 1u);
  EXPECT_EQ(s_sms[0]["account"], "AC00000000000000000000000000000000");
  EXPECT_EQ(s_sms[0]["from"], "+14155550100");

  auto d_email = stack.received("d@example.com");
  ASSERT_EQ(d_email.size(), 1u);
  EXPECT_EQ(d_email[0]["provider"], "resend");
  EXPECT_EQ(d_email[0]["from"], "RealtorAI <noreply@platform.com>");

  // The log shows route and payer, and the routes endpoint agrees.
  auto log = stack.settled_messages(w, 2);
  for (const auto& m : log) {
    EXPECT_TRUE(accepted(m)) << m.dump();
    EXPECT_EQ(m["payer"], "agent");
    EXPECT_FALSE(m["providerMessageId"].is_null());
  }
  auto routes = api.get("/api/v1/agents/" + s + "/routes").body;
  EXPECT_EQ(routes["email"]["from"], "Sunset Properties <noreply@platform.com>");
  EXPECT_EQ(routes["email"]["via"], "platform");
  EXPECT_EQ(routes["email"]["payer"], "platform");
  EXPECT_EQ(routes["sms"]["provider"], "twilio");
  // Resend calls carry an Idempotency-Key: the message id when it went alone, its batch's key
  // when it shared a /emails/batch call with other platform mail of the same pass.
  auto d_log = stack.settled_messages(d, 1);
  std::string key = d_email[0]["idempotencyKey"].get<std::string>();
  EXPECT_TRUE(key == d_log[0]["id"].get<std::string>() || key.starts_with("batch-")) << key;
}

TEST_P(Lifecycle, ApiNeverReturnsSecrets) {
  // Invariant: keys and tokens never come back from the API, only hints.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string w = wright(api);
  for (const std::string& path : {"/api/v1/agents/" + w, "/api/v1/agents/" + w + "/integrations",
                                  "/api/v1/agents/" + w + "/routes"}) {
    auto r = api.get(path);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.raw.find(kWrightKey), std::string::npos) << path;
    EXPECT_EQ(r.raw.find(kWrightToken), std::string::npos) << path;
  }
  auto integrations = api.get("/api/v1/agents/" + w + "/integrations").body;
  EXPECT_EQ(integrations["email"]["apiKeyHint"], "…WRGT");
  EXPECT_EQ(integrations["email"]["status"], "connected");
  EXPECT_EQ(integrations["sms"]["accountSid"], kWrightSid);
  EXPECT_EQ(stack.herald_log().find(kWrightKey), std::string::npos);
}

TEST_P(Lifecycle, RejectedAgentKeyFallsBackToPlatformAndMarksIntegrationFailing) {
  // Invariant: a revoked agent key re-routes through the platform, branded, both attempts logged.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string w = wright(api, "revoked-SG.wright-key");
  ASSERT_EQ(api.post("/api/v1/agents/" + w + "/listings", listing("fb@example.com")).status, 201);
  auto log = stack.settled_messages(w, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(accepted(log[0])) << log[0].dump();
  EXPECT_EQ(log[0]["route"]["via"], "platform");
  EXPECT_EQ(log[0]["payer"], "platform");
  auto detail = api.get("/api/v1/messages/" + log[0]["id"].get<std::string>()).body;
  ASSERT_EQ(detail["attemptLog"].size(), 2u);
  EXPECT_EQ(detail["attemptLog"][0]["outcome"], "bad_credentials");
  EXPECT_EQ(detail["attemptLog"][0]["route"]["provider"], "sendgrid");
  EXPECT_EQ(detail["attemptLog"][0]["route"]["payer"], "agent");
  EXPECT_EQ(detail["attemptLog"][1]["outcome"], "accepted");
  EXPECT_EQ(detail["attemptLog"][1]["route"]["provider"], "resend");
  auto received = stack.received("fb@example.com");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["from"], "Wright Realty <noreply@platform.com>");
  EXPECT_EQ(received[0]["replyTo"], "matt@wrightrealty.com");
  auto integrations = api.get("/api/v1/agents/" + w + "/integrations").body;
  EXPECT_EQ(integrations["email"]["status"], "failing");
}

TEST_P(Lifecycle, RejectedAgentKeyWithoutFallbackFailsWithTheReason) {
  // Invariant: with fallbackToPlatform off, a rejected key fails the message, visibly.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string w = wright(api, "revoked-SG.wright-key");
  ASSERT_EQ(api.patch("/api/v1/agents/" + w, {{"fallbackToPlatform", false}}).status, 200);
  ASSERT_EQ(api.post("/api/v1/agents/" + w + "/listings", listing("nf@example.com")).status, 201);
  auto log = stack.settled_messages(w, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["status"], "failed");
  EXPECT_NE(log[0]["lastError"].get<std::string>().find("did not accept"), std::string::npos);
  EXPECT_TRUE(stack.received("nf@example.com").empty());
}

TEST_P(Lifecycle, RateLimitedSendsAreRetriedHonouringRetryAfter) {
  // Invariant: 429s are retried (Retry-After honoured) until accepted; attempts are logged.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string d = create_agent(api, "Pat", "pat@example.com");
  auto f = stack.sandbox().post(
      "/sandbox/faults",
      {{"provider", "resend"}, {"status", 429}, {"count", 2}, {"retryAfter", 1}});
  ASSERT_LT(f.status, 300) << f.raw;
  ASSERT_EQ(api.post("/api/v1/agents/" + d + "/listings", listing("rl@example.com")).status, 201);
  auto log = stack.settled_messages(d, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(accepted(log[0])) << log[0].dump();
  EXPECT_EQ(log[0]["attempts"], 3);
  auto detail = api.get("/api/v1/messages/" + log[0]["id"].get<std::string>()).body;
  ASSERT_EQ(detail["attemptLog"].size(), 3u);
  EXPECT_EQ(detail["attemptLog"][0]["httpStatus"], 429);
  EXPECT_EQ(detail["attemptLog"][2]["outcome"], "accepted");
  EXPECT_EQ(stack.received("rl@example.com").size(), 1u);
}

TEST_P(Lifecycle, MessagesSurviveAKillMidSendAndResendIsDeduplicated) {
  // Invariant: nothing accepted is lost across a crash; Resend's idempotency key prevents
  // duplicates.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  std::string d = create_agent(api, "Pat", "pat@example.com");
  // Every Resend call hangs for 3 s, so the kill lands while requests are in flight.
  stack.sandbox().post("/sandbox/faults",
                       {{"provider", "resend"}, {"delayMs", 3000}, {"count", 100}});
  const int n = 6;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(api.post("/api/v1/agents/" + d + "/listings",
                       listing("crash" + std::to_string(i) + "@example.com"))
                  .status,
              201);
  }
  ASSERT_TRUE(eventually([&] {
    auto items = api.get("/api/v1/agents/" + d + "/messages?status=sending").body["items"];
    return items.size() >= 1;
  })) << "no message was ever in flight";
  stack.kill_herald();
  stack.sandbox().call("DELETE", "/sandbox/faults");
  stack.start_herald();
  auto log = stack.settled_messages(d, n);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(n));
  for (const auto& m : log) EXPECT_TRUE(accepted(m)) << m.dump();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(stack.received("crash" + std::to_string(i) + "@example.com").size(), 1u) << i;
  }
}

TEST_P(Lifecycle, BadInputGetsAClearErrorNamingTheField) {
  // Invariant: malformed, oversized, unauthenticated and invalid requests get precise 4xx answers.
  Stack stack(GetParam(), {});
  Client api = stack.api();
  auto anon = stack.anonymous().post("/api/v1/agents", {{"name", "x"}, {"email", "x@example.com"}});
  EXPECT_EQ(anon.status, 401);
  auto wrong = Client(stack.api()).call("POST", "/api/v1/agents", "{not json");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.body["errors"][0]["field"], "body");
  auto big = api.call("POST", "/api/v1/agents", std::string(2 << 20, 'x'));
  EXPECT_EQ(big.status, 413);
  auto invalid = api.post("/api/v1/agents", {{"name", 42}, {"email", "nope"}});
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.body["errors"][0]["field"], "name");
  auto ct = find_header(invalid.headers, "Content-Type");
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(*ct, "application/problem+json");
  std::string d = create_agent(api, "Pat", "pat@example.com");
  auto phone = api.put("/api/v1/agents/" + d + "/integrations/sms",
                       {{"accountSid", "AC0123"}, {"authToken", "t"}, {"phoneNumber", "555-1234"}});
  EXPECT_EQ(phone.status, 422);
  EXPECT_EQ(phone.body["errors"].size(), 2u);
  auto provider = api.put("/api/v1/agents/" + d + "/integrations/email",
                          {{"provider", "postmark"}, {"apiKey", "k"}, {"fromEmail", "a@b.com"}});
  EXPECT_EQ(provider.status, 422);
  EXPECT_EQ(provider.body["errors"][0]["field"], "provider");
  EXPECT_EQ(api.get("/api/v1/agents/" + new_id()).status, 404);
  EXPECT_EQ(api.get("/api/v1/messages/" + new_id()).status, 404);
  auto seller = api.post(
      "/api/v1/agents/" + d + "/listings",
      {{"address", "1 A St"}, {"price", "cheap"}, {"seller", {{"name", "S"}, {"email", "bad"}}}});
  EXPECT_EQ(seller.status, 422);
  EXPECT_EQ(seller.body["errors"][0]["field"], "price");
  EXPECT_TRUE(api.get("/api/v1/agents/" + d + "/messages").body["items"].empty());
  EXPECT_EQ(stack.anonymous().get("/healthz").status, 200);
}

HERALD_E2E_STORES(Lifecycle);

}  // namespace
}  // namespace herald::e2e
