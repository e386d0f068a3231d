// The templates API over real HTTP against a real SQLite file: defaults and overrides,
// save-time validation naming field and variable, escaping, branded previews, isolation.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/agents.h"
#include "core/id.h"
#include "http/api/api.h"
#include "net/http_client.h"

namespace herald::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reply {
  int status = 0;
  json body;
  Headers headers;
  std::string header(const std::string& name) const {
    auto h = find_header(headers, name);
    return h ? std::string(*h) : std::string();
  }
};

constexpr const char* kToken = "platform-token-templates-0123";

class TemplatesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-tpl-api-" + new_id());
    app::Config config;
    config.database_url = dir_.string();
    config.platform_token = Secret(kToken);
    config.public_url = "https://herald.example";
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    auto make_client = [] { return net::make_curl_client(); };
    server_ =
        std::make_unique<http::Server>(http::ServerOptions{}, make_handler(*app_, make_client));
    base_ = "http://127.0.0.1:" + std::to_string(server_->start());
    http_ = net::make_curl_client();
    alice_ = agent("Lisa Park", "lisa@sunsetprops.com");
    bob_ = agent("Matt Wright", "matt@wrightrealty.com");
    auto b = call("PUT", "/api/v1/agents/" + alice_ + "/branding",
                  {{"companyName", "Sunset Properties"},
                   {"postalAddress", "1 Beach Rd, Santa Cruz, CA 95060"},
                   {"website", "https://sunsetprops.com"},
                   {"emailSignature", "Lisa Park\nSunset Properties"}});
    ASSERT_EQ(b.status, 200) << b.body.dump();
  }
  void TearDown() override {
    server_->stop();
    app_.reset();
    fs::remove_all(dir_);
  }

  std::string agent(const std::string& name, const std::string& email) {
    auto r = call("POST", "/api/v1/agents", {{"name", name}, {"email", email}});
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body["id"];
  }

  Reply call(const std::string& method, const std::string& path, const json& body = nullptr) {
    HttpRequest req{method, base_ + path, {{"Authorization", std::string("Bearer ") + kToken}}, ""};
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto res = http_->perform(req);
    EXPECT_TRUE(res.has_value());
    if (!res) return {};
    return Reply{res->status, json::parse(res->body, nullptr, false), res->headers};
  }

  std::string templates(const std::string& agent_id) {
    return "/api/v1/agents/" + agent_id + "/templates";
  }

  // The first error's field and message of a problem+json reply.
  static std::pair<std::string, std::string> first_error(const Reply& r) {
    if (!r.body.contains("errors") || r.body["errors"].empty()) return {};
    return {r.body["errors"][0]["field"], r.body["errors"][0]["message"]};
  }

  static const json* find(const json& items, const std::string& id) {
    for (const auto& t : items)
      if (t["id"] == id) return &t;
    return nullptr;
  }

  SystemTime clock_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::string base_;
  std::string alice_;
  std::string bob_;
};

TEST_F(TemplatesApiTest, ListShowsPlatformDefaultsAndTheAgentsOverrides) {
  // Invariant: every agent sees the platform defaults; its own templates are marked "agent" and
  // the default they override is marked overridden.
  auto list = call("GET", templates(alice_));
  ASSERT_EQ(list.status, 200) << list.body.dump();
  const json* def = find(list.body["items"], "default:new_listing:email");
  ASSERT_NE(def, nullptr) << list.body.dump();
  EXPECT_EQ((*def)["source"], "platform");
  EXPECT_EQ((*def)["overridden"], false);
  EXPECT_EQ((*def)["campaignReady"], true);
  EXPECT_NE(find(list.body["items"], "default:market_update:email"), nullptr);
  EXPECT_NE(find(list.body["items"], "default:open_house:sms"), nullptr);
  EXPECT_NE(find(list.body["items"], "default:seller_welcome:email"), nullptr);
  EXPECT_NE(list.body["variables"]["email"].dump().find("unsubscribeUrl"), std::string::npos);
  EXPECT_EQ(list.body["variables"]["sms"].dump().find("unsubscribeUrl"), std::string::npos);

  auto created = call("POST", templates(alice_),
                      {{"key", "new_listing"},
                       {"channel", "email"},
                       {"name", "My listing email"},
                       {"subject", "Just listed: {{listing.address}}"},
                       {"html", "<p>{{listing.address}}</p>"}});
  ASSERT_EQ(created.status, 201) << created.body.dump();
  std::string id = created.body["id"];
  EXPECT_EQ(created.header("Location"), templates(alice_) + "/" + id);
  EXPECT_EQ(created.body["source"], "agent");
  EXPECT_EQ(created.body["overrides"], "default:new_listing:email");
  EXPECT_EQ(created.body["campaignReady"], false);
  EXPECT_EQ(created.body["campaignGaps"].size(), 2u);

  list = call("GET", templates(alice_) + "?channel=email");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ((*find(list.body["items"], "default:new_listing:email"))["overridden"], true);
  ASSERT_NE(find(list.body["items"], id), nullptr);
  EXPECT_EQ(find(list.body["items"], "default:open_house:sms"), nullptr);
  // Bob's list is untouched.
  auto bobs = call("GET", templates(bob_));
  EXPECT_EQ(find(bobs.body["items"], id), nullptr);
  EXPECT_EQ((*find(bobs.body["items"], "default:new_listing:email"))["overridden"], false);
  EXPECT_EQ(call("GET", templates(alice_) + "?channel=fax").status, 422);
}

TEST_F(TemplatesApiTest, InvalidTemplatesAreRefusedAtSaveTimeNamingFieldAndVariable) {
  // Invariant: an unknown variable, a syntax error, unescaped HTML output or an oversized part
  // is a 422 naming the field (and the variable), never a failure at send time.
  auto typo = call("POST", templates(alice_),
                   {{"key", "promo"},
                    {"channel", "email"},
                    {"subject", "Hi"},
                    {"html", "<p>Hi {{contact.nmae}}</p>"}});
  ASSERT_EQ(typo.status, 422) << typo.body.dump();
  EXPECT_EQ(typo.header("Content-Type"), "application/problem+json");
  auto [field, message] = first_error(typo);
  EXPECT_EQ(field, "html");
  EXPECT_NE(message.find("contact.nmae"), std::string::npos);
  EXPECT_NE(message.find("contact.name"), std::string::npos);

  auto syntax = call("POST", templates(alice_),
                     {{"key", "promo"},
                      {"channel", "email"},
                      {"subject", "{{#agent.website}}Visit us"},
                      {"text", "x"}});
  ASSERT_EQ(syntax.status, 422);
  EXPECT_EQ(first_error(syntax).first, "subject");
  EXPECT_NE(first_error(syntax).second.find("syntax error"), std::string::npos);

  auto section = call("POST", templates(alice_),
                      {{"key", "promo"},
                       {"channel", "email"},
                       {"subject", "s"},
                       {"text", "{{^listing.prise}}call us{{/listing.prise}}"}});
  ASSERT_EQ(section.status, 422);
  EXPECT_EQ(first_error(section).first, "text");
  EXPECT_NE(first_error(section).second.find("listing.prise"), std::string::npos);

  auto triple = call("POST", templates(alice_),
                     {{"key", "promo"},
                      {"channel", "email"},
                      {"subject", "s"},
                      {"html", "<p>{{{contact.name}}}</p>"}});
  ASSERT_EQ(triple.status, 422);
  EXPECT_EQ(first_error(triple).first, "html");

  auto long_sms = call("POST", templates(alice_),
                       {{"key", "promo"}, {"channel", "sms"}, {"body", std::string(1601, 'x')}});
  ASSERT_EQ(long_sms.status, 422);
  EXPECT_EQ(first_error(long_sms).first, "body");

  auto long_subject = call(
      "POST", templates(alice_),
      {{"key", "promo"}, {"channel", "email"}, {"subject", std::string(201, 's')}, {"text", "x"}});
  ASSERT_EQ(long_subject.status, 422);
  EXPECT_EQ(first_error(long_subject).first, "subject");

  auto wrong_type =
      call("POST", templates(alice_), {{"key", "promo"}, {"channel", "sms"}, {"body", 5}});
  ASSERT_EQ(wrong_type.status, 422);
  EXPECT_EQ(first_error(wrong_type).first, "body");

  EXPECT_EQ(call("POST", templates(alice_), "not an object").status, 400);

  // Replacing is held to the same rules.
  auto ok = call("POST", templates(alice_),
                 {{"key", "promo"}, {"channel", "sms"}, {"body", "Hi {{contact.firstName}}"}});
  ASSERT_EQ(ok.status, 201) << ok.body.dump();
  auto bad_put = call("PUT", templates(alice_) + "/" + ok.body["id"].get<std::string>(),
                      {{"body", "Hi {{contact.frist}}"}});
  ASSERT_EQ(bad_put.status, 422);
  EXPECT_EQ(first_error(bad_put).first, "body");
  auto dup = call("POST", templates(alice_), {{"key", "promo"}, {"channel", "sms"}, {"body", "x"}});
  EXPECT_EQ(dup.status, 409);
}

TEST_F(TemplatesApiTest, PreviewEscapesHtmlButNotTextOrSms) {
  // Invariant: the same hostile sample value is escaped in HTML and verbatim in text and SMS.
  auto t = call("POST", templates(alice_),
                {{"key", "escape"},
                 {"channel", "email"},
                 {"subject", "Hi {{contact.name}}"},
                 {"html", "<p>{{contact.name}}</p>"},
                 {"text", "Hi {{contact.name}}"}});
  ASSERT_EQ(t.status, 201) << t.body.dump();
  json sample = {{"sample", {{"contact", {{"name", "<script>alert(1)</script> & Co"}}}}}};
  auto p =
      call("POST", templates(alice_) + "/" + t.body["id"].get<std::string>() + "/preview", sample);
  ASSERT_EQ(p.status, 200) << p.body.dump();
  EXPECT_EQ(p.body["html"], "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</p>");
  EXPECT_EQ(p.body["text"], "Hi <script>alert(1)</script> & Co");
  EXPECT_EQ(p.body["subject"], "Hi <script>alert(1)</script> & Co");
  EXPECT_TRUE(p.body["body"].is_null());

  auto sms = call("POST", templates(alice_) + "/preview",
                  {{"channel", "sms"}, {"body", "{{contact.name}}"}, {"sample", sample["sample"]}});
  ASSERT_EQ(sms.status, 200) << sms.body.dump();
  EXPECT_EQ(sms.body["body"], "<script>alert(1)</script> & Co");
  EXPECT_EQ(sms.body["sms"]["encoding"], "GSM-7");
}

TEST_F(TemplatesApiTest, OverrideThenDeleteFallsBackToTheDefault) {
  // Invariant: PUT on a default creates the agent's override; deleting it restores the
  // default; the default itself cannot be deleted.
  auto put =
      call("PUT", templates(alice_) + "/default:open_house:sms",
           {{"body",
             "{{agent.companyName}} open house at {{listing.address}}! Reply STOP to opt out."}});
  ASSERT_EQ(put.status, 201) << put.body.dump();
  std::string id = put.body["id"];
  EXPECT_EQ(put.header("Location"), templates(alice_) + "/" + id);
  EXPECT_EQ(put.body["source"], "agent");
  EXPECT_EQ(put.body["version"], 1);

  auto effective = call("GET", templates(alice_) + "/open_house");
  ASSERT_EQ(effective.status, 200);
  EXPECT_EQ(effective.body["id"], id);
  auto again = call("PUT", templates(alice_) + "/" + id,
                    {{"name", "Open house v2"}, {"body", "v2 {{listing.address}}"}});
  ASSERT_EQ(again.status, 200) << again.body.dump();
  EXPECT_EQ(again.body["version"], 2);
  EXPECT_EQ(again.body["name"], "Open house v2");
  EXPECT_EQ(again.body["body"], "v2 {{listing.address}}");

  EXPECT_EQ(call("DELETE", templates(alice_) + "/default:open_house:sms").status, 409);
  EXPECT_EQ(call("DELETE", templates(alice_) + "/" + id).status, 204);
  EXPECT_EQ(call("GET", templates(alice_) + "/" + id).status, 404);
  auto fallback = call("GET", templates(alice_) + "/open_house:sms");
  ASSERT_EQ(fallback.status, 200);
  EXPECT_EQ(fallback.body["source"], "platform");
  EXPECT_EQ(fallback.body["id"], "default:open_house:sms");
  EXPECT_NE(fallback.body["body"].get<std::string>().find("Reply STOP"), std::string::npos);
  EXPECT_EQ(call("GET", templates(alice_) + "/default:nope:sms").status, 404);
  EXPECT_EQ(call("GET", templates(alice_) + "/not%20a%20template").status, 404);
}

TEST_F(TemplatesApiTest, PreviewRendersWithTheAgentsBrandingAndSampleData) {
  // Invariant: the preview is what the agent's contacts would get: their branding, sample
  // contact and listing data (caller's values first), the unsubscribe link and postal address.
  auto p = call("POST", templates(alice_) + "/default:new_listing:email/preview");
  ASSERT_EQ(p.status, 200) << p.body.dump();
  EXPECT_EQ(p.body["subject"], "New listing: 123 Maple Street, Springfield at $675,000");
  std::string html = p.body["html"];
  EXPECT_NE(html.find("Hi Jordan,"), std::string::npos);
  EXPECT_NE(html.find("Sunset Properties"), std::string::npos);
  EXPECT_NE(html.find("1 Beach Rd, Santa Cruz, CA 95060"), std::string::npos);
  EXPECT_NE(html.find("href=\"https://herald.example/u/preview\""), std::string::npos);
  EXPECT_NE(html.find("https://sunsetprops.com"), std::string::npos);
  std::string text = p.body["text"];
  EXPECT_NE(text.find("Lisa Park\nSunset Properties"), std::string::npos);
  EXPECT_TRUE(p.body["body"].is_null());
  EXPECT_EQ(p.body["template"]["id"], "default:new_listing:email");
  EXPECT_EQ(p.body["sample"]["contact"]["name"], "Jordan Rivera");

  auto custom = call("POST", templates(alice_) + "/new_listing:email/preview",
                     {{"sample",
                       {{"contact", {{"name", "Ann Lee"}}},
                        {"listing", {{"address", "12 Ocean Ave"}, {"price", 950000}}}}}});
  ASSERT_EQ(custom.status, 200) << custom.body.dump();
  EXPECT_EQ(custom.body["subject"], "New listing: 12 Ocean Ave at $950,000");
  EXPECT_NE(custom.body["html"].get<std::string>().find("Hi Ann,"), std::string::npos);

  auto bad = call("POST", templates(alice_) + "/new_listing:email/preview", {{"sample", "nope"}});
  ASSERT_EQ(bad.status, 422);
  EXPECT_EQ(first_error(bad).first, "sample");

  // An agent without branding gets the platform's name.
  auto plain = call("POST", templates(bob_) + "/market_update/preview");
  ASSERT_EQ(plain.status, 200) << plain.body.dump();
  EXPECT_EQ(plain.body["subject"], "Your market update from RealtorAI");
}

TEST_F(TemplatesApiTest, AnotherAgentsTemplateAnswers404) {
  // Invariant: a template id is only ever reachable under its own agent; under another agent
  // it answers exactly like an unknown id, and is left unchanged.
  auto t =
      call("POST", templates(alice_),
           {{"key", "private"}, {"channel", "email"}, {"subject", "s"}, {"html", "<p>mine</p>"}});
  ASSERT_EQ(t.status, 201);
  std::string path = templates(bob_) + "/" + t.body["id"].get<std::string>();
  EXPECT_EQ(call("GET", path).status, 404);
  EXPECT_EQ(call("PUT", path, {{"subject", "s"}, {"html", "<p>stolen</p>"}}).status, 404);
  EXPECT_EQ(call("POST", path + "/preview").status, 404);
  EXPECT_EQ(call("DELETE", path).status, 404);
  EXPECT_EQ(call("GET", templates(bob_) + "/private:email").status, 404);
  auto still = call("GET", templates(alice_) + "/" + t.body["id"].get<std::string>());
  ASSERT_EQ(still.status, 200);
  EXPECT_EQ(still.body["html"], "<p>mine</p>");
  EXPECT_EQ(call("GET", "/api/v1/agents/" + new_id() + "/templates").status, 404);
}

}  // namespace
}  // namespace herald::api
