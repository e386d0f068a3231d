// Contacts, CSV import, suppressions, unsubscribe pages and the Twilio inbound webhook over real
// HTTP against the API with a real SQLite file, the server spooling imports to disk as
// `herald serve` does.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/agents.h"
#include "app/auth.h"
#include "app/unsubscribe.h"
#include "core/id.h"
#include "http/api/api.h"
#include "http/api/contacts_api.h"
#include "net/http_client.h"
#include "support/accounts.h"
#include "webhooks/twilio_signature.h"

namespace herald::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPlatformToken = "platform-token-0123456789";
constexpr const char* kPublicUrl = "https://herald.example.com";

struct Reply {
  int status = 0;
  std::string text;
  json body;
  Headers headers;
  std::string header(const std::string& name) const {
    auto h = find_header(headers, name);
    return h ? std::string(*h) : std::string();
  }
};

class ContactsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-contacts-api-" + new_id());
    app::Config config;
    config.data_dir = dir_.string();
    config.database_url = dir_.string();
    config.platform_token = Secret(kPlatformToken);
    config.public_url = kPublicUrl;  // as seen through the proxy in front of Herald
    test::platform_sms(config.platform, "platform_twilio_token");
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    auto make_client = [] { return net::make_curl_client(); };
    http::ServerOptions options;
    options.spool = contact_import_spool(*app_, (dir_ / "tmp").string());
    router_ = make_router(*app_, make_client);
    server_ = std::make_unique<http::Server>(options, make_handler(*app_, make_client));
    base_ = "http://127.0.0.1:" + std::to_string(server_->start());
    http_ = net::make_curl_client({std::chrono::minutes(10)});
    alice_ = agent("Alice", "alice@example.com");
    bob_ = agent("Bob", "bob@example.com");
    auto token = app::create_api_token(*app_, bob_, "ci");
    ASSERT_TRUE(token.has_value());
    bob_token_ = token->token;
  }
  void TearDown() override {
    server_->stop();
    app_.reset();
    fs::remove_all(dir_);
  }

  std::string agent(const std::string& name, const std::string& email) {
    auto r = call("POST", "/api/v1/agents", {{"name", name}, {"email", email}});
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body["id"];
  }

  Reply send(const std::string& method, const std::string& path, std::string body,
             Headers headers) {
    HttpRequest req{method, base_ + path, std::move(headers), std::move(body)};
    auto res = http_->perform(req);
    EXPECT_TRUE(res.has_value()) << (res ? "" : res.error().message);
    if (!res) return {};
    return Reply{res->status, res->body, json::parse(res->body, nullptr, false), res->headers};
  }

  Reply call(const std::string& method, const std::string& path, const json& body = nullptr,
             const std::string& token = kPlatformToken) {
    Headers h = {{"Authorization", "Bearer " + token}};
    std::string text;
    if (!body.is_null()) {
      text = body.dump();
      h.emplace_back("Content-Type", "application/json");
    }
    return send(method, path, std::move(text), std::move(h));
  }

  Reply import(const std::string& agent_id, std::string csv, const std::string& type = "text/csv") {
    return send(
        "POST", "/api/v1/agents/" + agent_id + "/contacts/import", std::move(csv),
        {{"Authorization", std::string("Bearer ") + kPlatformToken}, {"Content-Type", type}});
  }

  std::string contacts(const std::string& agent_id) {
    return "/api/v1/agents/" + agent_id + "/contacts";
  }
  std::string suppressions(const std::string& agent_id) {
    return "/api/v1/agents/" + agent_id + "/suppressions";
  }

  static std::vector<std::string> fields(const json& problem) {
    std::vector<std::string> out;
    for (const auto& e : problem.value("errors", json::array())) out.push_back(e["field"]);
    return out;
  }

  std::size_t spool_files() {
    if (!fs::exists(dir_ / "tmp")) return 0;
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_ / "tmp"), fs::directory_iterator()));
  }

  SystemTime clock_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::string base_, alice_, bob_, bob_token_;
};

TEST_F(ContactsApiTest, ContactsCrud) {
  // Invariant: create/read/update/delete round-trip normalized values, with 201/200/204/404.
  auto created = call("POST", contacts(alice_),
                      {{"name", "Ann"},
                       {"email", "ann@example.com"},
                       {"phone", "+1 415 555 2671"},
                       {"role", "buyer"},
                       {"tags", {"VIP", "Open House"}},
                       {"timeZone", "America/Chicago"},
                       {"consent", {{"email", true}}}});
  ASSERT_EQ(created.status, 201) << created.text;
  std::string id = created.body["id"];
  EXPECT_EQ(created.header("Location"), contacts(alice_) + "/" + id);
  EXPECT_EQ(created.body["phone"], "+14155552671");
  EXPECT_EQ(created.body["tags"], json({"vip", "open house"}));
  EXPECT_EQ(created.body["consent"], json({{"email", true}, {"sms", false}}));
  EXPECT_EQ(created.body["suppressed"], json({{"email", false}, {"sms", false}}));
  EXPECT_EQ(created.body["agentId"], alice_);

  auto got = call("GET", contacts(alice_) + "/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body["timeZone"], "America/Chicago");

  auto patched =
      call("PATCH", contacts(alice_) + "/" + id, {{"phone", ""}, {"consent", {{"sms", true}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["phone"], nullptr);
  EXPECT_EQ(patched.body["email"], "ann@example.com");
  EXPECT_EQ(patched.body["consent"], json({{"email", true}, {"sms", true}}));

  EXPECT_EQ(call("DELETE", contacts(alice_) + "/" + id).status, 204);
  EXPECT_EQ(call("GET", contacts(alice_) + "/" + id).status, 404);
  EXPECT_EQ(call("DELETE", contacts(alice_) + "/" + id).status, 404);
}

TEST_F(ContactsApiTest, BadInputAndDuplicatesNameTheField) {
  // Invariant: 422 lists each invalid field; a duplicate email or phone is 409 naming it.
  auto bad = call("POST", contacts(alice_),
                  {{"email", "nope"},
                   {"phone", "12"},
                   {"role", "owner"},
                   {"tags", "vip"},
                   {"timeZone", "Nowhere/X"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(fields(bad.body), std::vector<std::string>{"tags"});  // a type error is reported first
  bad = call("POST", contacts(alice_),
             {{"email", "nope"}, {"phone", "12"}, {"role", "owner"}, {"timeZone", "Nowhere/X"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(fields(bad.body), (std::vector<std::string>{"email", "phone", "role", "timeZone"}));
  EXPECT_EQ(call("POST", contacts(alice_), {{"name", "No address"}}).status, 422);
  EXPECT_EQ(
      call("POST", contacts(alice_), {{"consent", {{"email", "yes"}}}, {"email", "a@example.com"}})
          .status,
      422);

  ASSERT_EQ(
      call("POST", contacts(alice_), {{"email", "ann@example.com"}, {"phone", "+14155552671"}})
          .status,
      201);
  auto dup = call("POST", contacts(alice_), {{"email", "Ann@Example.com"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(fields(dup.body), std::vector<std::string>{"email"});
  dup = call("POST", contacts(alice_), {{"phone", "+14155552671"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(fields(dup.body), std::vector<std::string>{"phone"});
}

TEST_F(ContactsApiTest, ListFiltersAndPages) {
  // Invariant: role/tag/q filters apply, pages follow nextCursor to the end, bad filters are 422.
  for (int i = 0; i < 30; ++i) {
    json c = {{"name", "Person " + std::to_string(i)},
              {"email", "p" + std::to_string(i) + "@example.com"},
              {"role", i % 3 == 0 ? "seller" : "buyer"},
              {"tags", i % 2 ? json({"even-not"}) : json({"open-house"})}};
    ASSERT_EQ(call("POST", contacts(alice_), c).status, 201);
  }
  int seen = 0;
  std::string cursor;
  do {
    auto page =
        call("GET", contacts(alice_) + "?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200);
    seen += static_cast<int>(page.body["items"].size());
    cursor = page.body["nextCursor"].is_null() ? "" : page.body["nextCursor"].get<std::string>();
  } while (!cursor.empty());
  EXPECT_EQ(seen, 30);
  auto sellers = call("GET", contacts(alice_) + "?role=seller&tag=OPEN-HOUSE");
  EXPECT_EQ(sellers.body["items"].size(), 5u);  // i in {0, 6, 12, 18, 24}
  auto q = call("GET", contacts(alice_) + "?q=person%202");
  EXPECT_EQ(q.body["items"].size(), 11u);  // 2, 20..29
  auto bad = call("GET", contacts(alice_) + "?role=owner&limit=0");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(fields(bad.body), (std::vector<std::string>{"role", "limit"}));
}

TEST_F(ContactsApiTest, AnotherAgentsContactsAnswer404) {
  // Invariant: an agent's token reaches only its own contacts, even with the right contact id.
  auto c = call("POST", contacts(alice_), {{"email", "ann@example.com"}});
  std::string id = c.body["id"];
  EXPECT_EQ(call("GET", contacts(alice_) + "/" + id, nullptr, bob_token_).status, 404);
  EXPECT_EQ(call("GET", contacts(bob_) + "/" + id, nullptr, bob_token_).status, 404);
  EXPECT_EQ(call("PATCH", contacts(bob_) + "/" + id, {{"name", "x"}}, bob_token_).status, 404);
  EXPECT_EQ(call("DELETE", contacts(bob_) + "/" + id, nullptr, bob_token_).status, 404);
  EXPECT_EQ(import(alice_, "email\nx@example.com\n").status, 200);
  EXPECT_EQ(send("POST", contacts(alice_) + "/import", "email\nx@example.com\n",
                 {{"Authorization", "Bearer " + bob_token_}, {"Content-Type", "text/csv"}})
                .status,
            404);
  EXPECT_EQ(call("GET", contacts(bob_), nullptr, bob_token_).body["items"].size(), 0u);
  EXPECT_EQ(call("GET", contacts(alice_) + "/" + id).status, 200);
}

TEST_F(ContactsApiTest, ImportReportsRejectedLinesAndNeedsCsv) {
  // Invariant: the report lists each rejected line by number; a non-CSV upload is 415, an
  // unusable header 422 naming "header".
  auto r = import(alice_,
                  "name,email,phone,role,tags,timeZone,consentEmail,consentSms,notes\n"
                  "Ann,ann@example.com,,buyer,vip,,yes,,hi\n"
                  "Bob,bob@,,,,,,,\n"
                  "Cat,cat@example.com,+14155550003,seller,,Europe/Paris,no,yes,\n");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["total"], 3);
  EXPECT_EQ(r.body["imported"], 2);
  EXPECT_EQ(r.body["updated"], 0);
  EXPECT_EQ(r.body["rejectedCount"], 1);
  EXPECT_EQ(r.body["rejected"],
            json::parse(R"([{"line":3,"reason":"email is not a valid email address"}])"));
  EXPECT_EQ(r.body["ignoredColumns"], json({"notes"}));
  EXPECT_EQ(r.body["rejectedTruncated"], false);

  EXPECT_EQ(import(alice_, "{\"email\":\"a@example.com\"}", "application/json").status, 415);
  auto header = import(alice_, "first,last\nA,B\n");
  EXPECT_EQ(header.status, 422);
  EXPECT_EQ(fields(header.body), std::vector<std::string>{"header"});
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(ContactsApiTest, ALargeImportStreamsThroughTheSpoolAndLeavesNoFile) {
  // Invariant: a file far over the in-memory body limit imports whole (bad lines reported, the
  // rest in), the body never held in memory, and its spool file removed afterwards.
  const int n = 200000;
  std::string csv = "name,email,phone,role,tags,consentEmail,consentSms\n";
  csv.reserve(static_cast<std::size_t>(n) * 80);
  for (int i = 0; i < n; ++i) {
    std::string s = std::to_string(i);
    if (i % 50000 == 49999) {
      csv += "Broken " + s + ",not-an-email,,,,,\n";
      continue;
    }
    csv += "Person " + s + ",person" + s + "@example.com,+1415" + std::to_string(2000000 + i) +
           "," + (i % 2 ? "buyer" : "seller") + ",\"import,batch-" + std::to_string(i % 10) +
           "\",yes," + (i % 3 ? "no" : "yes") + "\n";
  }
  ASSERT_GT(csv.size(), std::size_t{1} << 20);
  auto r = import(alice_, std::move(csv));
  ASSERT_EQ(r.status, 200) << r.text.substr(0, 500);
  EXPECT_EQ(r.body["total"], n);
  EXPECT_EQ(r.body["imported"], n - 4);
  EXPECT_EQ(r.body["rejectedCount"], 4);
  ASSERT_EQ(r.body["rejected"].size(), 4u);
  EXPECT_EQ(r.body["rejected"][0]["line"], 50001);  // header is line 1
  auto& contacts = app_->store().contacts();
  EXPECT_EQ(contacts.count_audience(alice_, {{}, {"import"}, Channel::email}).value(), n - 4);
  EXPECT_EQ(contacts.count_audience(alice_, {{"buyer"}, {"batch-3"}, Channel::email}).value(),
            n / 10);
  EXPECT_GT(contacts.count_audience(alice_, {{}, {}, Channel::sms}).value(), n / 3 - 2);
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(ContactsApiTest, WithoutTheSpoolImportsAreBoundByTheInMemoryLimit) {
  // Invariant: the spool option is what lets large imports in; without it the API's 1 MiB limit
  // answers 413 (and small imports still work from memory).
  auto make_client = [] { return net::make_curl_client(); };
  http::Server plain(http::ServerOptions{}, make_handler(*app_, make_client));
  std::string base = "http://127.0.0.1:" + std::to_string(plain.start());
  Headers h = {{"Authorization", std::string("Bearer ") + kPlatformToken},
               {"Content-Type", "text/csv"}};
  auto small = http_->perform(
      {"POST", base + contacts(alice_) + "/import", h, "email\nsmall@example.com\n"});
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->status, 200);
  std::string big = "email\n";
  while (big.size() <= (std::size_t{1} << 20))
    big += "someone" + std::to_string(big.size()) + "@example.com\n";
  auto refused = http_->perform({"POST", base + contacts(alice_) + "/import", h, big});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 413);
  plain.stop();
}

TEST_F(ContactsApiTest, SuppressionsAreListedAddedAndLifted) {
  // Invariant: manual suppressions round-trip, adding twice is 200 not a duplicate, lifting by id
  // or by address works, filters apply, and a contact shows it is suppressed.
  auto c =
      call("POST", contacts(alice_), {{"email", "ann@example.com"}, {"phone", "+14155550100"}});
  auto added =
      call("POST", suppressions(alice_), {{"channel", "email"}, {"address", "Ann@Example.com"}});
  ASSERT_EQ(added.status, 201) << added.text;
  EXPECT_EQ(added.body["address"], "ann@example.com");
  EXPECT_EQ(added.body["reason"], "manual");
  EXPECT_EQ(added.body["source"], "api");
  auto again =
      call("POST", suppressions(alice_), {{"channel", "email"}, {"address", "ann@example.com"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["id"], added.body["id"]);
  auto bad = call("POST", suppressions(alice_),
                  {{"channel", "pigeon"}, {"address", ""}, {"reason", "tired"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(fields(bad.body), (std::vector<std::string>{"channel", "address", "reason"}));
  ASSERT_EQ(call("POST", suppressions(alice_),
                 {{"channel", "sms"}, {"address", "+14155550100"}, {"reason", "stop"}})
                .status,
            201);

  EXPECT_EQ(
      call("GET", contacts(alice_) + "/" + c.body["id"].get<std::string>()).body["suppressed"],
      json({{"email", true}, {"sms", true}}));
  EXPECT_EQ(call("GET", contacts(alice_)).body["items"][0]["suppressed"],
            json({{"email", true}, {"sms", true}}));
  EXPECT_EQ(call("GET", suppressions(alice_)).body["items"].size(), 2u);
  EXPECT_EQ(call("GET", suppressions(alice_) + "?channel=sms&reason=stop").body["items"].size(),
            1u);
  EXPECT_EQ(call("GET", suppressions(alice_) + "?channel=email&address=ANN%40example.com")
                .body["items"]
                .size(),
            1u);
  EXPECT_EQ(call("GET", suppressions(alice_) + "?channel=fax").status, 422);
  EXPECT_EQ(call("GET", suppressions(bob_), nullptr, bob_token_).body["items"].size(), 0u);

  std::string sid = added.body["id"];
  EXPECT_EQ(call("DELETE", suppressions(bob_) + "/" + sid, nullptr, bob_token_).status, 404);
  EXPECT_EQ(call("DELETE", suppressions(alice_) + "/" + sid).status, 204);
  EXPECT_EQ(call("DELETE", suppressions(alice_) + "/" + sid).status, 404);
  EXPECT_EQ(call("DELETE", suppressions(alice_) + "?channel=sms").status, 422);
  EXPECT_EQ(call("DELETE", suppressions(alice_) + "?channel=sms&address=%2B14155550100").status,
            204);
  EXPECT_EQ(call("GET", suppressions(alice_)).body["items"].size(), 0u);
}

TEST_F(ContactsApiTest, OneClickUnsubscribeFromAMailProvider) {
  // Invariant: RFC 8058: a POST with List-Unsubscribe=One-Click, no cookie and no token header,
  // suppresses the address for that agent; repeats are harmless; the GET page only asks.
  ASSERT_EQ(call("PUT", "/api/v1/agents/" + alice_ + "/branding",
                 {{"companyName", "Sunset <Properties>"}})
                .status,
            200);
  std::string url = app::unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com");
  ASSERT_TRUE(url.starts_with(std::string(kPublicUrl) + "/u/"));
  std::string path = url.substr(std::string(kPublicUrl).size());

  auto page = send("GET", path, "", {});
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(page.header("Content-Type").starts_with("text/html"));
  EXPECT_NE(page.text.find("Sunset &lt;Properties&gt;"), std::string::npos);
  EXPECT_NE(page.text.find("a•••@example.com"), std::string::npos);
  EXPECT_NE(page.text.find("<form method=\"post\">"), std::string::npos);
  EXPECT_EQ(page.text.find("ann@example.com"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::email, "ann@example.com"));

  for (int i = 0; i < 2; ++i) {
    auto done = send("POST", path, "List-Unsubscribe=One-Click",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(done.status, 200);
    EXPECT_NE(done.text.find("You're unsubscribed"), std::string::npos);
  }
  auto list =
      app_->store().contacts().list_suppressions({alice_, std::nullopt, std::nullopt, "", "", 10});
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0].reason, store::SuppressionReason::unsubscribed);
  EXPECT_EQ(list->items[0].source, "one-click");
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(bob_, Channel::email, "ann@example.com"));
  EXPECT_NE(send("GET", path, "", {}).text.find("You're unsubscribed"), std::string::npos);

  // The page's own button posts an empty form.
  std::string sms_path = app::unsubscribe_url(*app_, alice_, Channel::sms, "+14155550100")
                             .substr(std::string(kPublicUrl).size());
  EXPECT_EQ(
      send("POST", sms_path, "", {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
      200);
  EXPECT_TRUE(*app_->store().contacts().is_suppressed(alice_, Channel::sms, "+14155550100"));
}

TEST_F(ContactsApiTest, ForgedUnsubscribeLinksAre404Pages) {
  // Invariant: a forged or mangled token answers a 404 HTML page and suppresses nothing.
  std::string path = app::unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com")
                         .substr(std::string(kPublicUrl).size());
  std::string forged = path;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'x' ? 'y' : 'x';
  for (const std::string& p : {forged, std::string("/u/AAAA"), std::string("/u/%00%ff")}) {
    auto get = send("GET", p, "", {});
    EXPECT_EQ(get.status, 404) << p;
    EXPECT_TRUE(get.header("Content-Type").starts_with("text/html"));
    EXPECT_EQ(send("POST", p, "List-Unsubscribe=One-Click",
                   {{"Content-Type", "application/x-www-form-urlencoded"}})
                  .status,
              404);
  }
  EXPECT_TRUE(app_->store()
                  .contacts()
                  .list_suppressions({alice_, std::nullopt, std::nullopt, "", "", 10})
                  ->items.empty());
}

TEST_F(ContactsApiTest, TwilioInboundStopIsVerifiedAndRecordedPerAgent) {
  // Invariant: a correctly signed STOP suppresses the sender for the agent in the URL and is
  // answered with empty TwiML; a forged one is 403 and records nothing; HELP gets a reply.
  ASSERT_TRUE(test::connect_sms(
      *app_, alice_,
      {"twilio", "AC0123456789abcdef0123456789abcdef", "alice_auth_token", "+15017122661"}));
  ASSERT_EQ(call("PUT", "/api/v1/agents/" + alice_ + "/branding",
                 {{"companyName", "Wright Realty"}, {"replyEmail", "matt@wrightrealty.com"}})
                .status,
            200);
  std::string path = "/webhooks/twilio/" + alice_ + "/inbound";
  auto post = [&](const std::string& body_text, const std::string& token) {
    webhooks::FormParams params = {{"MessageSid", "SM1"},
                                   {"From", "+15558675310"},
                                   {"To", "+15017122661"},
                                   {"Body", body_text},
                                   {"NumMedia", "0"}};
    std::string sig = webhooks::twilio_signature(token, std::string(kPublicUrl) + path, params);
    std::string form;
    for (const auto& [k, v] : params) {
      if (!form.empty()) form += "&";
      form += k + "=" + (v.starts_with("+") ? "%2B" + v.substr(1) : v);
    }
    return send(
        "POST", path, form,
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", sig}});
  };
  auto forged = post("STOP", "wrong_token");
  EXPECT_EQ(forged.status, 403);
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::sms, "+15558675310"));

  auto stop = post("Stop", "alice_auth_token");
  EXPECT_EQ(stop.status, 200);
  EXPECT_EQ(stop.header("Content-Type"), "text/xml");
  EXPECT_EQ(stop.text, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  EXPECT_TRUE(*app_->store().contacts().is_suppressed(alice_, Channel::sms, "+15558675310"));
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(bob_, Channel::sms, "+15558675310"));

  auto help = post("HELP", "alice_auth_token");
  EXPECT_EQ(help.status, 200);
  EXPECT_EQ(
      help.text,
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Wright Realty: reply STOP to unsubscribe. Contact: matt@wrightrealty.com</Message></Response>)");

  EXPECT_EQ(post("START", "alice_auth_token").status, 200);
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::sms, "+15558675310"));
  EXPECT_EQ(send("POST", path, "{}", {{"Content-Type", "application/json"}}).status, 415);
  EXPECT_EQ(send("POST", "/webhooks/twilio/" + new_id() + "/inbound", "Body=STOP",
                 {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            404);
}

TEST_F(ContactsApiTest, StrangersCannotSpoolLargeUploads) {
  // Invariant: only a caller allowed to import into that agent gets the large limit; anyone else
  // is refused before the body is written anywhere.
  std::string big = "email\n";
  while (big.size() <= (std::size_t{2} << 20))
    big += "someone" + std::to_string(big.size()) + "@example.com\n";
  auto post = [&](const std::string& agent_id, Headers h) {
    h.emplace_back("Content-Type", "text/csv");
    return send("POST", contacts(agent_id) + "/import", big, std::move(h));
  };
  EXPECT_EQ(post(alice_, {}).status, 413);
  EXPECT_EQ(post(alice_, {{"Authorization", "Bearer wrong"}}).status, 413);
  EXPECT_EQ(post(alice_, {{"Authorization", "Bearer " + bob_token_}}).status, 413);
  EXPECT_EQ(post(alice_, {{"Authorization", "Bearer " + std::string(kPlatformToken)}}).status, 200);
  EXPECT_EQ(post(bob_, {{"Authorization", "Bearer " + bob_token_}}).status, 200);
  EXPECT_EQ(send("POST", contacts(alice_) + "/import", "email\na@example.com\n",
                 {{"Content-Type", "text/csv"}})
                .status,
            401);  // small bodies reach the route, which answers as usual
  auto policy = contact_import_spool(*app_, (dir_ / "tmp").string());
  http::Request head;
  head.method = "POST";
  head.path = contacts(bob_) + "/import";
  head.headers = {{"Authorization", "Bearer " + bob_token_}};
  EXPECT_TRUE(policy.applies(head));
  head.path = contacts(alice_) + "/import";
  EXPECT_FALSE(policy.applies(head));
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(ContactsApiTest, OnlyTheImportRouteSpools) {
  // Invariant: the spool predicate selects POST …/contacts/import and nothing else.
  EXPECT_TRUE(is_contact_import("POST", "/api/v1/agents/abc/contacts/import"));
  EXPECT_TRUE(is_contact_import("POST", "//api/v1/agents/abc/contacts/import/"));
  EXPECT_FALSE(is_contact_import("GET", "/api/v1/agents/abc/contacts/import"));
  EXPECT_FALSE(is_contact_import("POST", "/api/v1/agents/abc/contacts"));
  EXPECT_FALSE(is_contact_import("POST", "/api/v1/agents/abc/contacts/import/x"));
  EXPECT_FALSE(is_contact_import("POST", "/api/v1/agents/contacts/import"));
}

}  // namespace
}  // namespace herald::api
