// Accounts, sessions, CSRF, API tokens and tenant isolation, over real HTTP against the API
// with a real SQLite file and an injected clock.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "app/agents.h"
#include "app/auth.h"
#include "core/id.h"
#include "http/api/api.h"
#include "net/http_client.h"
#include "support/accounts.h"

namespace herald::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ManualTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  TimePoint now_ = from_millis(to_millis(Clock::now()));
};

struct Reply {
  int status = 0;
  json body;
  Headers headers;
  std::string header(const std::string& name) const {
    auto h = find_header(headers, name);
    return h ? std::string(*h) : std::string();
  }
};

class ApiAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-api-" + new_id());
    app::Config config;
    config.database_url = dir_.string();
    config.platform_token = Secret("platform-token-0123456789");
    config.operator_email = "ops@platform.com";
    config.operator_password_hash = *app::hash_password("operator-password-1");
    config.session_ttl_minutes = 60;
    test::platform_email(config.platform, "re_platform");
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    auto make_client = [] { return net::make_curl_client(); };
    router_ = make_router(*app_, make_client);
    server_ =
        std::make_unique<http::Server>(http::ServerOptions{}, make_handler(*app_, make_client));
    base_ = "http://127.0.0.1:" + std::to_string(server_->start());
    http_ = net::make_curl_client();
    alice_ = agent("Alice", "alice@example.com");
    bob_ = agent("Bob", "bob@example.com");
  }
  void TearDown() override {
    server_->stop();
    app_.reset();
    fs::remove_all(dir_);
  }

  std::string agent(const std::string& name, const std::string& email) {
    auto r = call("POST", "/api/v1/agents",
                  {{"name", name}, {"email", email}, {"password", "correct-horse-" + name}},
                  {{"Authorization", "Bearer platform-token-0123456789"}});
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body["id"];
  }

  Reply call(const std::string& method, const std::string& path, const json& body = nullptr,
             Headers headers = {}) {
    HttpRequest req{method, base_ + path, std::move(headers), ""};
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto res = http_->perform(req);
    EXPECT_TRUE(res.has_value());
    if (!res) return {};
    return Reply{res->status, json::parse(res->body, nullptr, false), res->headers};
  }

  // Logs in; returns the Cookie header value and the CSRF token.
  std::pair<std::string, std::string> login(const std::string& email, const std::string& password) {
    auto r = call("POST", "/api/v1/session", {{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.body.dump();
    std::string set_cookie = r.header("Set-Cookie");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(set_cookie, m, std::regex("herald_session=([^;]+)")));
    return {"herald_session=" + m[1].str(), r.body["csrfToken"]};
  }

  std::string token_for(const std::string& agent_id, const std::string& cookie,
                        const std::string& csrf) {
    auto r = call("POST", "/api/v1/agents/" + agent_id + "/tokens", {{"name", "ci"}},
                  {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body["token"];
  }

  ManualTime clock_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::string base_;
  std::string alice_;
  std::string bob_;
};

TEST_F(ApiAuthTest, LoginSetsAHardenedCookieAndStateChangesNeedTheCsrfToken) {
  // Invariant: the session cookie is HttpOnly + SameSite; a cookie alone cannot change state.
  auto r = call("POST", "/api/v1/session",
                {{"email", "alice@example.com"}, {"password", "correct-horse-Alice"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["role"], "agent");
  EXPECT_EQ(r.body["agent"]["id"], alice_);
  std::string cookie_header = r.header("Set-Cookie");
  EXPECT_NE(cookie_header.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie_header.find("SameSite=Lax"), std::string::npos);
  auto [cookie, csrf] = login("alice@example.com", "correct-horse-Alice");
  json branding = {{"companyName", "Alice Homes"}};
  EXPECT_EQ(
      call("PUT", "/api/v1/agents/" + alice_ + "/branding", branding, {{"Cookie", cookie}}).status,
      403);
  EXPECT_EQ(call("PUT", "/api/v1/agents/" + alice_ + "/branding", branding,
                 {{"Cookie", cookie}, {"X-CSRF-Token", "wrong"}})
                .status,
            403);
  EXPECT_EQ(call("PUT", "/api/v1/agents/" + alice_ + "/branding", branding,
                 {{"Cookie", cookie}, {"X-CSRF-Token", csrf}})
                .status,
            200);
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_ + "/branding", nullptr, {{"Cookie", cookie}})
                .body["companyName"],
            "Alice Homes");
  auto session = call("GET", "/api/v1/session", nullptr, {{"Cookie", cookie}});
  EXPECT_EQ(session.status, 200);
  EXPECT_EQ(session.body["csrfToken"], csrf);
}

TEST_F(ApiAuthTest, LogoutRevokesTheSession) {
  // Invariant: after logout the same cookie opens nothing.
  auto [cookie, csrf] = login("alice@example.com", "correct-horse-Alice");
  EXPECT_EQ(call("DELETE", "/api/v1/session", nullptr, {{"Cookie", cookie}}).status,
            403);  // no CSRF
  auto out =
      call("DELETE", "/api/v1/session", nullptr, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_, nullptr, {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/session", nullptr, {{"Cookie", cookie}}).status, 401);
}

TEST_F(ApiAuthTest, SessionsExpire) {
  // Invariant: a session stops working once its lifetime has passed.
  auto [cookie, csrf] = login("alice@example.com", "correct-horse-Alice");
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_, nullptr, {{"Cookie", cookie}}).status, 200);
  clock_.advance(std::chrono::minutes(61));
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_, nullptr, {{"Cookie", cookie}}).status, 401);
}

TEST_F(ApiAuthTest, RepeatedFailedLoginsAreSlowedDown) {
  // Invariant: guessing passwords is throttled with Retry-After; errors never say which part was
  // wrong.
  auto unknown = call("POST", "/api/v1/session",
                      {{"email", "nobody@example.com"}, {"password", "whatever-123"}});
  auto wrong = call("POST", "/api/v1/session",
                    {{"email", "alice@example.com"}, {"password", "whatever-123"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.body["detail"], wrong.body["detail"]);
  for (int i = 0; i < 3; ++i)
    call("POST", "/api/v1/session", {{"email", "alice@example.com"}, {"password", "guess"}});
  auto blocked = call("POST", "/api/v1/session",
                      {{"email", "alice@example.com"}, {"password", "correct-horse-Alice"}});
  EXPECT_EQ(blocked.status, 429);
  EXPECT_FALSE(blocked.header("Retry-After").empty());
  clock_.advance(std::chrono::seconds(5));
  EXPECT_EQ(call("POST", "/api/v1/session",
                 {{"email", "alice@example.com"}, {"password", "correct-horse-Alice"}})
                .status,
            200);
}

TEST_F(ApiAuthTest, AgentApiTokensWorkUntilRevokedAndAreShownOnce) {
  // Invariant: an agent's API token authenticates only that agent, is listed without its value, and
  // dies on revoke.
  auto [cookie, csrf] = login("alice@example.com", "correct-horse-Alice");
  std::string token = token_for(alice_, cookie, csrf);
  ASSERT_TRUE(token.starts_with("ht_"));
  Headers bearer = {{"Authorization", "Bearer " + token}};
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_ + "/routes", nullptr, bearer).status, 200);
  auto list = call("GET", "/api/v1/agents/" + alice_ + "/tokens", nullptr, bearer);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body.dump().find(token), std::string::npos);
  EXPECT_EQ(list.body["items"][0]["hint"], "…" + token.substr(token.size() - 4));
  std::string id = list.body["items"][0]["id"];
  EXPECT_EQ(call("DELETE", "/api/v1/agents/" + alice_ + "/tokens/" + id, nullptr, bearer).status,
            204);
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_ + "/routes", nullptr, bearer).status, 401);
}

TEST_F(ApiAuthTest, AnotherAgentsIdsAnswer404OnEveryEndpoint) {
  // Invariant: walking every registered route, Bob's credentials never reach Alice's resources.
  auto [alice_cookie, alice_csrf] = login("alice@example.com", "correct-horse-Alice");
  std::string alice_token = token_for(alice_, alice_cookie, alice_csrf);
  auto alice_tokens =
      call("GET", "/api/v1/agents/" + alice_ + "/tokens", nullptr, {{"Cookie", alice_cookie}});
  std::string alice_token_id = alice_tokens.body["items"][0]["id"];
  ASSERT_TRUE(test::connect_email(*app_, alice_,
                                  {"resend", "re_alice_key_0001", "alice@example.com", "", ""}));
  auto listing = call("POST", "/api/v1/agents/" + alice_ + "/listings",
                      {{"address", "1 A St"},
                       {"price", 1},
                       {"seller", {{"name", "S"}, {"email", "s@example.com"}}}},
                      {{"Authorization", "Bearer " + alice_token}});
  ASSERT_EQ(listing.status, 201);
  std::string alice_message = listing.body["messages"][0]["id"];

  auto [bob_cookie, bob_csrf] = login("bob@example.com", "correct-horse-Bob");
  std::string bob_token = token_for(bob_, bob_cookie, bob_csrf);
  std::vector<Headers> bob_credentials = {{{"Authorization", "Bearer " + bob_token}},
                                          {{"Cookie", bob_cookie}, {"X-CSRF-Token", bob_csrf}}};
  int walked = 0;
  for (const auto& [method, pattern] : router_->table()) {
    bool on_alice =
        pattern.find("{id}") != std::string::npos || pattern.find("{mid}") != std::string::npos;
    if (!on_alice) continue;
    std::string path = std::regex_replace(pattern, std::regex("\\{id\\}"), alice_);
    path = std::regex_replace(path, std::regex("\\{mid\\}"), alice_message);
    path = std::regex_replace(path, std::regex("\\{channel\\}"), "email");
    path = std::regex_replace(path, std::regex("\\{tid\\}"), alice_token_id);
    for (const auto& creds : bob_credentials) {
      json body = method == "GET" || method == "DELETE" ? json(nullptr)
                                                        : json{{"active", false}, {"name", "x"}};
      auto r = call(method, path, body, creds);
      EXPECT_EQ(r.status, 404) << method << " " << path << " answered " << r.status << " "
                               << r.body.dump();
    }
    ++walked;
  }
  EXPECT_GE(walked, 16);  // every agent-scoped route at the time of writing
  // Bob cannot revoke Alice's token through his own id either.
  EXPECT_EQ(call("DELETE", "/api/v1/agents/" + bob_ + "/tokens/" + alice_token_id, nullptr,
                 {{"Authorization", "Bearer " + bob_token}})
                .status,
            404);
  // And nothing of Alice's changed: her integration, token and message are intact.
  EXPECT_TRUE(app::get_agent(*app_, alice_)->email->active);
  EXPECT_EQ(call("GET", "/api/v1/agents/" + alice_ + "/routes", nullptr,
                 {{"Authorization", "Bearer " + alice_token}})
                .status,
            200);
  // Platform-only endpoints are forbidden to agents.
  Headers bob = {{"Authorization", "Bearer " + bob_token}};
  EXPECT_EQ(call("GET", "/api/v1/agents", nullptr, bob).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/admin/usage", nullptr, bob).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/agents", {{"name", "x"}, {"email", "x@example.com"}}, bob).status,
            403);
}

TEST_F(ApiAuthTest, OperatorSeesUsagePerAgentSplitByWhoPaid) {
  // Invariant: the operator's usage report counts messages via the agent's account vs the
  // platform's.
  auto a = *app_->store().find_agent(alice_);
  std::vector<Message> ms;
  for (int i = 0; i < 3; ++i) {
    Message m;
    m.id = new_id();
    m.agent_id = alice_;
    m.to_address = "s@example.com";
    m.created_at = m.updated_at = m.next_attempt_at = clock_.now();
    ms.push_back(m);
  }
  ASSERT_TRUE(app_->store().enqueue(ms).has_value());
  std::vector<store::Outcome> outcomes;
  for (int i = 0; i < 3; ++i) {
    store::Outcome o;
    o.message_id = ms[i].id;
    o.agent_id = alice_;
    o.status = i == 2 ? MessageStatus::failed : MessageStatus::sent;
    Via via = i == 0 ? Via::agent : Via::platform;
    o.route = RouteSummary{"resend", via, "A <a@example.com>", "", via};
    outcomes.push_back(o);
  }
  ASSERT_TRUE(app_->store().record_outcomes(outcomes).has_value());
  auto [cookie, csrf] = login("ops@platform.com", "operator-password-1");
  auto session = call("GET", "/api/v1/session", nullptr, {{"Cookie", cookie}});
  EXPECT_EQ(session.body["role"], "operator");
  auto usage = call("GET", "/api/v1/admin/usage", nullptr, {{"Cookie", cookie}});
  ASSERT_EQ(usage.status, 200) << usage.body.dump();
  ASSERT_EQ(usage.body["items"].size(), 1u);
  EXPECT_EQ(usage.body["items"][0]["agentName"], "Alice");
  EXPECT_EQ(usage.body["items"][0]["email"]["viaAgent"], 1);
  EXPECT_EQ(usage.body["items"][0]["email"]["viaPlatform"], 1);  // the failed one is not counted
  EXPECT_EQ(usage.body["totals"]["total"], 2);
  auto agents = call("GET", "/api/v1/agents", nullptr, {{"Cookie", cookie}});
  ASSERT_EQ(agents.status, 200);
  EXPECT_EQ(agents.body["items"].size(), 2u);
  auto bad = call("GET", "/api/v1/admin/usage?from=yesterday", nullptr, {{"Cookie", cookie}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.body["errors"][0]["field"], "from");
}

TEST_F(ApiAuthTest, OperatorSeesThePlatformsAccountsAndTheirTracking) {
  // Invariant: the operator sees which provider and sender each platform account uses and
  // whether its delivery events reach Herald, with the reason when they do not; agents do not.
  store::TrackingSetup failing;
  failing.owner = "platform";
  failing.channel = Channel::email;
  failing.provider = "resend";
  failing.state = store::TrackingState::failing;
  failing.reason = "Resend did not accept the platform's key";
  failing.receiver_url = "https://herald.example.com/webhooks/resend/platform";
  failing.updated_at = clock_.now();
  ASSERT_TRUE(app_->store().tracking().put_setup(failing).has_value());

  auto [cookie, csrf] = login("ops@platform.com", "operator-password-1");
  auto platform = call("GET", "/api/v1/admin/platform", nullptr, {{"Cookie", cookie}});
  ASSERT_EQ(platform.status, 200) << platform.body.dump();
  EXPECT_EQ(platform.body["name"], "RealtorAI");
  const json& email = platform.body["email"];
  EXPECT_EQ(email["providerName"], "Resend");
  EXPECT_EQ(email["sender"], "noreply@platform.com");
  EXPECT_EQ(email["configured"], true);
  EXPECT_EQ(email["tracking"]["status"], "failing");
  EXPECT_EQ(email["tracking"]["reason"], failing.reason);
  EXPECT_EQ(email["tracking"]["receiverUrl"], failing.receiver_url);
  EXPECT_EQ(platform.body["sms"]["configured"], false);
  EXPECT_EQ(platform.body["sms"]["provider"], nullptr);
  EXPECT_EQ(platform.body["sms"]["tracking"]["status"], "notSetUp");
  EXPECT_EQ(platform.body.dump().find("re_platform"), std::string::npos)
      << "no key, not even a part";

  const std::string token = app::create_api_token(*app_, alice_, "ci")->token;
  EXPECT_EQ(
      call("GET", "/api/v1/admin/platform", nullptr, {{"Authorization", "Bearer " + token}}).status,
      403);
}

TEST_F(ApiAuthTest, ReadinessListsWhatTheOperatorShouldFixWithoutFailing) {
  // Invariant: /readyz answers ready while the database answers, and lists (without failing)
  // a platform account that is not configured and one whose delivery tracking is failing.
  auto ready = call("GET", "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body.dump();
  EXPECT_EQ(ready.body["status"], "ready");
  ASSERT_EQ(ready.body["warnings"].size(), 1u) << ready.body.dump();
  EXPECT_EQ(ready.body["warnings"][0], "the platform's SMS account is not configured");

  store::TrackingSetup failing;
  failing.owner = "platform";
  failing.channel = Channel::email;
  failing.provider = "resend";
  failing.state = store::TrackingState::failing;
  failing.reason = "Resend could not be reached";
  failing.updated_at = clock_.now();
  ASSERT_TRUE(app_->store().tracking().put_setup(failing).has_value());
  ready = call("GET", "/readyz");
  ASSERT_EQ(ready.status, 200);
  ASSERT_EQ(ready.body["warnings"].size(), 2u) << ready.body.dump();
  EXPECT_EQ(ready.body["warnings"][0],
            "delivery tracking for the platform's email account is failing: Resend could not be "
            "reached");
}

TEST_F(ApiAuthTest, PasswordPolicyNamesTheField) {
  // Invariant: a short password is refused at agent creation with the field named.
  auto r = call("POST", "/api/v1/agents",
                {{"name", "C"}, {"email", "c@example.com"}, {"password", "short"}},
                {{"Authorization", "Bearer platform-token-0123456789"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body["errors"][0]["field"], "password");
}

TEST_F(ApiAuthTest, DashboardIsServedWithAStrictPolicyAndNoPathEscape) {
  // Invariant: /app/* serves the SPA shell with CSP; no path reaches outside web/.
  auto page = call("GET", "/app/settings");
  EXPECT_EQ(page.status, 200);
  auto csp = find_header(page.headers, "Content-Security-Policy");
  ASSERT_TRUE(csp.has_value());
  EXPECT_NE(csp->find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(call("GET", "/app/%2e%2e/%2e%2e/CMakeLists.txt").status, 404);
  EXPECT_EQ(call("GET", "/app/nope.js").status, 404);
  EXPECT_EQ(call("GET", "/").status, 302);
}

}  // namespace
}  // namespace herald::api
