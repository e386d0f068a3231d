// Setting up and taking back delivery tracking against the sandbox's real registration
// endpoints over HTTP (Resend /webhooks, SendGrid's Event Webhook settings, Mailgun's domain
// webhooks): agents connect, the tracking worker's registration runs, the agents disconnect, and
// the sandbox's own listings show what each provider would still post to. Each account also
// has a webhook of the agent's own (a CRM) that Herald must leave alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/agents.h"
#include "app/tracking_setup.h"
#include "core/id.h"
#include "http/server/server.h"
#include "net/http_client.h"
#include "providers/encoding.h"
#include "sandbox/sandbox.h"
#include "support/accounts.h"

namespace herald::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::TrackingState;

constexpr const char* kCrm = "https://crm.example.com/hooks/email";
constexpr const char* kDomain = "mg.wrightrealty.com";

class TrackingSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, sandbox_.handler());
    sandbox_url_ = "http://127.0.0.1:" + std::to_string(server_->start());
    dir_ = fs::temp_directory_path() / ("herald-tracking-sandbox-" + new_id());
    fs::create_directories(dir_);
    Config config;
    config.data_dir = config.database_url = dir_.string();
    // Providers post only to https: the receivers are registered at this address (nothing is
    // sent here, so the sandbox never posts to it).
    config.public_url = "https://herald.example.com";
    config.tracking = true;
    config.platform.receiver_base = config.public_url + "/webhooks";
    test::platform_email(config.platform);
    test::all_providers_at(config.platform, sandbox_url_);
    auto store = store::open_store(config.database_url);
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<App>(config, std::move(*store),
                                 secrets::Sealer(secrets::MasterKey::generate()), clock_);
    http_ = net::make_curl_client();
  }
  void TearDown() override {
    app_.reset();
    if (server_) server_->stop();
    fs::remove_all(dir_);
  }

  std::string agent() {
    auto a = create_agent(*app_, {"Matt Wright", "matt-" + new_id() + "@example.com"});
    EXPECT_TRUE(a.has_value());
    return a->id;
  }

  std::optional<store::TrackingSetup> setup(const std::string& owner) {
    auto s = app_->store().tracking().setup_of(owner, Channel::email);
    EXPECT_TRUE(s.has_value());
    return s.value_or(std::nullopt);
  }

  // A request to the sandbox as `provider`'s API with the account's key; the JSON answer.
  json ask(const std::string& provider, const std::string& key, std::string method,
           const std::string& path, std::string content_type = "", std::string body = "") {
    HttpRequest r{std::move(method), sandbox_url_ + path, {{"User-Agent", "herald-test"}}, {}};
    r.headers.emplace_back("Authorization", provider == "mailgun"
                                                ? providers::basic_auth("api", key)
                                                : providers::bearer_auth(key));
    if (!content_type.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
    r.body = std::move(body);
    auto answer = http_->perform(r);
    EXPECT_TRUE(answer.has_value());
    if (!answer) return json();
    EXPECT_LT(answer->status, 300) << r.method << " " << path << ": " << answer->body;
    return json::parse(answer->body, nullptr, false);
  }

  // The URLs the provider posts the account's events to, as its own listing shows them.
  std::vector<std::string> posting_to(const std::string& provider, const std::string& key) {
    std::vector<std::string> urls;
    if (provider == "resend") {
      const json listing = ask(provider, key, "GET", "/webhooks");
      for (const json& h : listing["data"]) urls.push_back(h["endpoint"]);
    } else if (provider == "sendgrid") {
      const json listing = ask(provider, key, "GET", "/v3/user/webhooks/event/settings/all");
      for (const json& h : listing["webhooks"]) urls.push_back(h["url"]);
    } else {
      const json listing =
          ask(provider, key, "GET", "/v3/domains/" + std::string(kDomain) + "/webhooks");
      for (const auto& [type, hook] : listing["webhooks"].items()) {
        for (const json& url : hook["urls"]) urls.push_back(type + " " + url.get<std::string>());
      }
    }
    std::ranges::sort(urls);
    return urls;
  }

  // The agent's own webhook (their CRM), made at the provider before Herald's.
  void add_crm_webhook(const std::string& provider, const std::string& key) {
    if (provider == "resend") {
      ask(provider, key, "POST", "/webhooks", "application/json",
          json{{"endpoint", kCrm}, {"events", {"email.delivered"}}}.dump());
    } else if (provider == "sendgrid") {
      ask(provider, key, "POST", "/v3/user/webhooks/event/settings", "application/json",
          json{{"enabled", true}, {"url", kCrm}, {"delivered", true}}.dump());
    } else {
      const providers::Multipart form =
          providers::multipart_form({{"id", "opened"}, {"url", kCrm}});
      ask(provider, key, "POST", "/v3/domains/" + std::string(kDomain) + "/webhooks",
          form.content_type, form.body);
    }
  }

  // Connects an agent's `provider` account and runs the tracking worker's registration.
  std::string connect_and_register(const std::string& provider, const std::string& key) {
    const std::string id = agent();
    EXPECT_TRUE(test::connect_email(
        *app_, id,
        {provider, key, "matt@wrightrealty.com", provider == "mailgun" ? kDomain : "", ""}));
    EXPECT_TRUE(run_due_registrations(*app_, *http_, 10));
    return id;
  }

  sandbox::Sandbox sandbox_;
  std::unique_ptr<http::Server> server_;
  std::string sandbox_url_;
  fs::path dir_;
  SystemTime clock_;
  std::unique_ptr<App> app_;
  std::unique_ptr<net::HttpClient> http_;
};

TEST_F(TrackingSandboxTest, DisconnectingRemovesHeraldsWebhooksAndLeavesTheAgentsOwn) {
  // Invariant: for Resend, SendGrid and Mailgun alike, after an agent disconnects, the
  // provider posts nothing more to Herald's receiver for that account, and the agent's own
  // webhook (a Mailgun type shared with Herald's URL included) is exactly as it was.
  const std::vector<std::pair<std::string, std::string>> accounts = {
      {"resend", "re_wright_key_0001"},
      {"sendgrid", "SG.wright.key0002"},
      {"mailgun", "key-wright0003"}};
  for (const auto& [provider, key] : accounts) {
    SCOPED_TRACE(provider);
    add_crm_webhook(provider, key);
    const auto before = posting_to(provider, key);
    const std::string id = connect_and_register(provider, key);
    ASSERT_EQ(setup(id)->state, TrackingState::on) << setup(id)->reason;
    const std::string receiver = setup(id)->receiver_url;
    EXPECT_EQ(receiver, "https://herald.example.com/webhooks/" + provider + "/" + id);
    const auto registered = posting_to(provider, key);
    EXPECT_GT(registered.size(), before.size());
    EXPECT_TRUE(std::ranges::any_of(
        registered, [&](const std::string& url) { return url.ends_with(receiver); }));

    ASSERT_TRUE(disconnect(*app_, id, Channel::email, *http_));
    EXPECT_EQ(posting_to(provider, key), before);
    EXPECT_FALSE(setup(id));
    EXPECT_FALSE(get_agent(*app_, id)->email.has_value());
  }
}

TEST_F(TrackingSandboxTest, AProviderThatRefusesOrCannotBeReachedStillDisconnects) {
  // Invariant: removal is best effort: a key the provider refuses (its registration failed,
  // but may have got part of the way) and a provider that cannot be reached any more both
  // leave the agent disconnected, integration and set-up gone.
  const std::string refused = connect_and_register("resend", "revoked_wright_key");
  ASSERT_EQ(setup(refused)->state, TrackingState::failing);
  EXPECT_FALSE(unregister_receiver(*app_, *http_, refused, Channel::email).has_value());
  ASSERT_TRUE(disconnect(*app_, refused, Channel::email, *http_));
  EXPECT_FALSE(setup(refused));
  EXPECT_FALSE(get_agent(*app_, refused)->email.has_value());

  const std::string gone = connect_and_register("sendgrid", "SG.wright.key0004");
  ASSERT_EQ(setup(gone)->state, TrackingState::on);
  server_->stop();  // the provider is unreachable from here on
  server_.reset();
  auto removal = unregister_receiver(*app_, *http_, gone, Channel::email);
  ASSERT_FALSE(removal.has_value());
  EXPECT_EQ(removal.error().code, Errc::network);
  ASSERT_TRUE(disconnect(*app_, gone, Channel::email, *http_));
  EXPECT_FALSE(setup(gone));
  EXPECT_FALSE(get_agent(*app_, gone)->email.has_value());
}

}  // namespace
}  // namespace herald::app
