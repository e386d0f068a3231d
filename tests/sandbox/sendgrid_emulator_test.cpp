// Protects the SendGrid emulation: 202 + X-Message-Id, one record per personalization
// recipient, and SendGrid's {"errors":[{message, field, help}]} naming every bad field.
#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

class SendGridTest : public SandboxTest {
 protected:
  HttpResult send(const json& body, const std::string& key = "SG.test.key-wxyz") {
    herald::Headers h{{"Content-Type", "application/json"}};
    if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
    return client_.post(url("/v3/mail/send"), body.dump(), h);
  }
  static json mail() {
    return {{"personalizations",
             {{{"to", {{{"email", "buyer@example.com"}, {"name", "Buyer"}}}},
               {"custom_args", {{"herald_message_id", "m-1"}}}},
              {{"to", {{{"email", "seller@example.com"}}}},
               {"subject", "Just for you"},
               {"headers", {{"X-Extra", "2"}}},
               {"custom_args", {{"herald_message_id", "m-2"}}}}}},
            {"from", {{"email", "matt@wrightrealty.com"}, {"name", "Wright Realty"}}},
            {"reply_to", {{"email", "matt@wrightrealty.com"}}},
            {"subject", "Welcome"},
            {"headers", {{"List-Unsubscribe", "<https://x/u/1>"}}},
            {"content",
             {{{"type", "text/plain"}, {"value", "Hi"}},
              {{"type", "text/html"}, {"value", "<p>Hi</p>"}}}}};
  }
  // The `field` of every error in a SendGrid error body.
  static std::vector<std::string> fields(const HttpResult& r) {
    std::vector<std::string> out;
    json body = json::parse(r.body);
    for (const json& e : body["errors"]) {
      out.push_back(e["field"].is_null() ? "null" : e["field"].get<std::string>());
      EXPECT_TRUE(e["message"].is_string());
      EXPECT_TRUE(e.contains("help"));
    }
    return out;
  }
};

TEST_F(SendGridTest, AcceptsWith202AndMessageIdHeader) {
  // Invariant: a valid send is 202, empty body, X-Message-Id; one record per personalization
  // recipient.
  auto r = send(mail());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.body.empty());
  std::string id(r.header("X-Message-Id").value_or(""));
  EXPECT_FALSE(id.empty());
  json items = messages();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["provider"], "sendgrid");
  EXPECT_EQ(items[0]["account"], "\u2026wxyz");
  EXPECT_EQ(items[0]["from"], "Wright Realty <matt@wrightrealty.com>");
  EXPECT_EQ(items[0]["to"], "Buyer <buyer@example.com>");
  EXPECT_EQ(items[0]["subject"], "Welcome");
  EXPECT_EQ(items[0]["text"], "Hi");
  EXPECT_EQ(items[0]["html"], "<p>Hi</p>");
  EXPECT_EQ(items[0]["replyTo"], "matt@wrightrealty.com");
  EXPECT_EQ(items[0]["headers"]["List-Unsubscribe"], "<https://x/u/1>");
  EXPECT_EQ(items[0]["heraldMessageId"], "m-1");
  EXPECT_EQ(items[0]["providerMessageId"], id);
  EXPECT_EQ(items[1]["to"], "seller@example.com");
  EXPECT_EQ(items[1]["subject"], "Just for you");
  EXPECT_EQ(items[1]["headers"]["X-Extra"], "2");
  EXPECT_EQ(items[1]["heraldMessageId"], "m-2");
}

TEST_F(SendGridTest, NamesEveryMissingField) {
  // Invariant: all validation errors come back at once, each naming its field.
  auto r = send(json{{"subject", "x"}});
  EXPECT_EQ(r.status, 400);
  auto f = fields(r);
  EXPECT_NE(std::find(f.begin(), f.end(), "personalizations"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "from.email"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "content"), f.end());
  EXPECT_TRUE(messages().empty());
}

TEST_F(SendGridTest, ValidatesPersonalizationsSubjectAndContent) {
  // Invariant: per-personalization `to`, addresses, subject and content rules name the exact field.
  json m = mail();
  m["personalizations"][1].erase("to");
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"personalizations.1.to"});

  m = mail();
  m["personalizations"][0]["to"][0]["email"] = "nope";
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"personalizations.0.to.0.email"});

  m = mail();
  m.erase("subject");  // personalization 0 has no subject of its own
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"subject"});
  m["template_id"] = "d-123";  // a template supplies the subject and the content
  m.erase("content");
  EXPECT_EQ(send(m).status, 202);

  m = mail();
  m["content"][0]["value"] = "";
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"content.0.value"});

  m = mail();
  m["personalizations"][0]["cc"] = {{{"email", "BUYER@example.com"}}};
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"personalizations.0.cc"});
}

TEST_F(SendGridTest, EnforcesThePersonalizationLimit) {
  // Invariant: at most 1000 personalizations (spec maxItems).
  json m = mail();
  m["personalizations"] = json::array();
  for (int i = 0; i < 1001; ++i) {
    m["personalizations"].push_back(
        {{"to", {{{"email", "r" + std::to_string(i) + "@example.com"}}}}});
  }
  EXPECT_EQ(fields(send(m)), std::vector<std::string>{"personalizations"});
  m["personalizations"].erase(1000);
  EXPECT_EQ(send(m).status, 202);
  EXPECT_EQ(stats()["byProvider"]["sendgrid"], 1000);
}

TEST_F(SendGridTest, RefusesMissingAndRevokedKeys) {
  // Invariant: no key and a revoked key are both 401 in SendGrid's error shape.
  auto none = send(mail(), "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["errors"][0]["message"], "authorization required");
  auto revoked = send(mail(), "revoked.SG.key");
  EXPECT_EQ(revoked.status, 401);
  EXPECT_TRUE(json::parse(revoked.body)["errors"][0]["field"].is_null());
  EXPECT_TRUE(messages().empty());
}

TEST_F(SendGridTest, BadJsonIs400) {
  // Invariant: an unparsable body is a 400 in SendGrid's shape, never a crash.
  auto r = client_.post(url("/v3/mail/send"), "{oops", {{"Authorization", "Bearer SG.k"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["errors"].size(), 1u);
}

TEST_F(SendGridTest, SandboxModeValidatesWithoutSending) {
  // Invariant: mail_settings.sandbox_mode.enable → 200 and nothing recorded.
  json m = mail();
  m["mail_settings"] = {{"sandbox_mode", {{"enable", true}}}};
  EXPECT_EQ(send(m).status, 200);
  EXPECT_TRUE(messages().empty());
}

TEST_F(SendGridTest, ScopesIsTheCredentialCheck) {
  // Invariant: GET /v3/scopes lists mail.send for a good key and is 401 for a revoked one.
  auto ok = client_.get(url("/v3/scopes"), {{"Authorization", "Bearer SG.good.key"}});
  ASSERT_EQ(ok.status, 200);
  json scopes = json::parse(ok.body)["scopes"];
  EXPECT_NE(std::find(scopes.begin(), scopes.end(), "mail.send"), scopes.end());
  EXPECT_EQ(client_.get(url("/v3/scopes"), {{"Authorization", "Bearer revoked"}}).status, 401);
}

}  // namespace
}  // namespace herald::sandbox::testing
