// Protects the Mailgun emulation: multipart (and url-encoded) sends with repeated and
// comma-separated `to`, Basic auth as user `api`, Mailgun's error texts, domain checks.
#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

const std::string kAuth = "api:key-test-5678";

class MailgunTest : public SandboxTest {
 protected:
  HttpResult send(const std::vector<FormPart>& form, const std::string& auth = kAuth,
                  const std::string& domain = "mg.example.com") {
    return client_.post_form(url("/v3/" + domain + "/messages"), form, {}, auth);
  }
  static std::vector<FormPart> form() {
    return {{"from", "Wright Realty <matt@mg.example.com>"},
            {"to", "buyer@example.com"},
            {"to", "seller@example.com, \"Doe, Jane\" <jane@example.com>"},
            {"subject", "Welcome"},
            {"text", "Hi"},
            {"html", "<p>Hi</p>"},
            {"h:Reply-To", "matt@wrightrealty.com"},
            {"h:List-Unsubscribe", "<https://x/u/1>"},
            {"v:herald_message_id", "m-1"},
            {"o:tag", "welcome"}};
  }
  static std::vector<FormPart> without(std::vector<FormPart> f, const std::string& name) {
    std::erase_if(f, [&](const FormPart& p) { return p.name == name; });
    return f;
  }
  static std::string message(const HttpResult& r) {
    return json::parse(r.body)["message"].get<std::string>();
  }
};

TEST_F(MailgunTest, AcceptsMultipartAndRecordsEachRecipient) {
  // Invariant: repeated and comma-separated `to` give one record each; the answer is Mailgun's.
  auto r = send(form());
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["message"], "Queued. Thank you.");
  std::string id = j["id"];
  EXPECT_TRUE(id.starts_with("<") && id.ends_with("@mg.example.com>")) << id;
  json items = messages();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["provider"], "mailgun");
  EXPECT_EQ(items[0]["account"], "\u20265678");
  EXPECT_EQ(items[0]["from"], "Wright Realty <matt@mg.example.com>");
  EXPECT_EQ(items[0]["to"], "buyer@example.com");
  EXPECT_EQ(items[1]["to"], "seller@example.com");
  EXPECT_EQ(items[2]["to"], "\"Doe, Jane\" <jane@example.com>");
  EXPECT_EQ(items[0]["replyTo"], "matt@wrightrealty.com");
  EXPECT_EQ(items[0]["subject"], "Welcome");
  EXPECT_EQ(items[0]["text"], "Hi");
  EXPECT_EQ(items[0]["html"], "<p>Hi</p>");
  EXPECT_EQ(items[0]["headers"]["List-Unsubscribe"], "<https://x/u/1>");
  EXPECT_EQ(items[0]["heraldMessageId"], "m-1");
  EXPECT_EQ(items[0]["providerMessageId"], id);
}

TEST_F(MailgunTest, AcceptsUrlEncodedForms) {
  // Invariant: x-www-form-urlencoded (as many clients send) works like multipart.
  auto r = client_.post(url("/v3/mg.example.com/messages"),
                        "from=a%40mg.example.com&to=b%40example.com&to=c%40example.com&subject=Hi"
                        "&text=Hello+there",
                        {{"Content-Type", "application/x-www-form-urlencoded"}}, kAuth);
  ASSERT_EQ(r.status, 200) << r.body;
  json items = messages();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["text"], "Hello there");
}

TEST_F(MailgunTest, BatchSubstitutesRecipientVariables) {
  // Invariant: with recipient-variables, each record gets its own %recipient.x% values.
  auto r = send(
      {{"from", "a@mg.example.com"},
       {"to", "b@example.com, c@example.com"},
       {"subject", "Hi %recipient.first%"},
       {"text", "Hello"},
       {"v:herald_message_id", "%recipient.hm%"},
       {"recipient-variables",
        R"({"b@example.com":{"first":"Bea","hm":"m-b"},"c@example.com":{"first":"Cy","hm":"m-c"}})"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json items = messages();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["subject"], "Hi Bea");
  EXPECT_EQ(items[0]["heraldMessageId"], "m-b");
  EXPECT_EQ(items[1]["subject"], "Hi Cy");
  EXPECT_EQ(items[1]["heraldMessageId"], "m-c");
}

TEST_F(MailgunTest, NamesTheMissingParameter) {
  // Invariant: Mailgun's own texts name the missing parameter; nothing is recorded.
  EXPECT_EQ(message(send(without(form(), "from"))), "'from' parameter is missing");
  EXPECT_EQ(message(send(without(form(), "to"))), "'to' parameter is missing");
  EXPECT_EQ(message(send(without(form(), "subject"))), "'subject' parameter is missing");
  auto r = send(without(without(form(), "text"), "html"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(message(r).find("'text', 'html'"), std::string::npos);
  auto tmpl = without(without(form(), "text"), "html");
  tmpl.push_back({"template", "welcome"});
  EXPECT_EQ(send(tmpl).status, 200);
  auto bad = form();
  bad[1].value = "not-an-address";
  EXPECT_EQ(send(bad).status, 400);
  EXPECT_EQ(messages().size(), 3u);  // only the template send
}

TEST_F(MailgunTest, UnauthorizedIsPlainForbidden) {
  // Invariant: no auth, a user other than `api`, or a revoked key → 401 with body "Forbidden".
  for (const std::string& auth :
       {std::string(), std::string("user:key-x"), std::string("api:revoked-key-1")}) {
    auto r = send(form(), auth);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, "Forbidden");
  }
  EXPECT_TRUE(messages().empty());
}

TEST_F(MailgunTest, TestModeAnswersButDoesNotRecord) {
  // Invariant: o:testmode=yes is accepted and not delivered.
  auto f = form();
  f.push_back({"o:testmode", "yes"});
  EXPECT_EQ(send(f).status, 200);
  EXPECT_TRUE(messages().empty());
}

TEST_F(MailgunTest, DomainEndpointsCheckCredentials) {
  // Invariant: GET /v3/domains/{d} and /v4/domains are 200 with the key and 401 without (US and EU
  // alike).
  auto one = client_.request("GET", url("/v3/domains/mg.example.com"), {}, {}, kAuth);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body)["domain"]["name"], "mg.example.com");
  auto list = client_.request("GET", url("/v4/domains"), {}, {}, kAuth);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body)["total_count"], 1);
  EXPECT_EQ(client_.get(url("/v4/domains")).status, 401);
  EXPECT_EQ(client_.request("GET", url("/v3/domains/nodots"), {}, {}, kAuth).status, 404);
}

}  // namespace
}  // namespace herald::sandbox::testing
