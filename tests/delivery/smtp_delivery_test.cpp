// An agent on their own SMTP server, end to end through the dispatcher: the mail reaches a
// real SMTP server (aiosmtpd) over STARTTLS with AUTH and carries the seed's sender identity;
// a refused login falls back to the platform's account like any provider's rejected key.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "app/agents.h"
#include "app/delivery_sources.h"
#include "app/listings.h"
#include "core/id.h"
#include "delivery/dispatcher.h"
#include "net/http_client.h"
#include "sandbox/sandbox.h"
#include "support/accounts.h"
#include "support/smtp_server.h"

namespace herald::delivery {
namespace {

namespace fs = std::filesystem;
using test::SmtpServer;

class SmtpDeliveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { smtp_ = new SmtpServer(); }
  static void TearDownTestSuite() {
    delete smtp_;
    smtp_ = nullptr;
  }

  void SetUp() override {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, sandbox_.handler());
    const std::string url = "http://127.0.0.1:" + std::to_string(server_->start());
    sandbox_url_ = url;
    dir_ = fs::temp_directory_path() / ("herald-smtp-delivery-" + new_id());
    app::Config config;
    config.database_url = dir_.string();
    test::platform_email(config.platform);
    test::all_providers_at(config.platform, url);
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    net::ClientOptions client;
    client.ca_file = smtp_->ca_file();
    make_client_ = [client] { return net::make_curl_client(client); };
    DispatcherOptions options;
    options.retry.base = std::chrono::milliseconds(20);  // retries come due within the test
    options.retry.max_attempts = 3;
    dispatcher_ = std::make_unique<Dispatcher>(app::dispatcher_parts(*app_), options, make_client_);
    http_ = make_client_();
    agent_ = app::create_agent(*app_, {"Matt Wright", "matt@wrightrealty.com"})->id;
    ASSERT_TRUE(
        app::put_branding(*app_, agent_,
                          Branding{"Wright Realty", "office@wrightrealty.com", "", "", "", ""})
            .has_value());
    before_ = smtp_->count();
  }
  void TearDown() override {
    dispatcher_.reset();
    app_.reset();
    server_->stop();
    fs::remove_all(dir_);
  }

  Result<store::IntegrationRow> connect(std::string password, std::string security = "starttls",
                                        int port = 0) {
    app::ConnectInput in{"smtp",
                         {{"host", "127.0.0.1"},
                          {"port", std::to_string(port ? port : smtp_->starttls_port)},
                          {"security", std::move(security)},
                          {"username", SmtpServer::kUser},
                          {"password", std::move(password)},
                          {"fromEmail", "matt@wrightrealty.com"}},
                         std::nullopt};
    return app::connect_integration(*app_, agent_, Channel::email, in);
  }

  std::string listing(const std::string& buyer) {
    auto l = app::create_listing(*app_, agent_, {"12 Oak St", 450000, "Ann Seller", buyer, ""});
    EXPECT_TRUE(l.has_value());
    return l->messages.at(0).id;
  }

  // What reached the platform's providers (the sandbox).
  nlohmann::json platform_received() {
    auto r = http_->perform(HttpRequest{"GET", sandbox_url_ + "/sandbox/messages", {}, ""});
    EXPECT_TRUE(r.has_value());
    return nlohmann::json::parse(r->body)["items"];
  }

  Message message(const std::string& id) { return (*app_->store().find_message(id, ""))->message; }

  static SmtpServer* smtp_;
  SystemTime clock_;
  sandbox::Sandbox sandbox_;
  std::unique_ptr<http::Server> server_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  ClientFactory make_client_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<net::HttpClient> http_;
  std::string agent_;
  std::string sandbox_url_;
  std::size_t before_ = 0;
};
SmtpServer* SmtpDeliveryTest::smtp_ = nullptr;

TEST_F(SmtpDeliveryTest, TheAgentsOwnServerSendsUnderTheAgentsIdentity) {
  ASSERT_TRUE(connect(SmtpServer::kPassword).has_value());
  auto test = app::test_integration(*app_, agent_, Channel::email, *http_);
  ASSERT_TRUE(test.has_value()) << test.error().message;
  EXPECT_TRUE(test->ok) << test->detail;

  auto id = listing("ann@example.com");
  EXPECT_EQ(dispatcher_->run_once(*http_), 1);
  Message m = message(id);
  EXPECT_EQ(m.status, MessageStatus::sent) << m.last_error;
  auto got = smtp_->wait_for(before_ + 1);
  ASSERT_EQ(got.size(), before_ + 1);
  const auto& mail = got.back();
  EXPECT_EQ(mail.envelope["mailFrom"], "matt@wrightrealty.com");
  EXPECT_EQ(mail.envelope["rcptTos"], nlohmann::json::array({"ann@example.com"}));
  EXPECT_TRUE(mail.envelope["tls"].get<bool>());
  EXPECT_TRUE(mail.envelope["authenticated"].get<bool>());
  // The seed's rule for an agent's own account: the brand's name on the agent's address,
  // replies to the agent's reply address.
  EXPECT_EQ(mail.parsed["from"][0]["name"], "Wright Realty");
  EXPECT_EQ(mail.parsed["from"][0]["address"], "matt@wrightrealty.com");
  EXPECT_EQ(mail.parsed["replyTo"][0]["address"], "office@wrightrealty.com");
  EXPECT_EQ(mail.parsed["to"][0]["address"], "ann@example.com");
  EXPECT_EQ(mail.parsed["messageId"], "<" + id + "@wrightrealty.com>");
  EXPECT_FALSE(mail.parsed["subject"].get<std::string>().empty());
  EXPECT_TRUE(platform_received().empty()) << "nothing went through the platform";
}

TEST_F(SmtpDeliveryTest, ARefusedLoginFallsBackToThePlatformUnderTheAgentsBrand) {
  ASSERT_TRUE(connect("not-the-password").has_value());
  auto test = app::test_integration(*app_, agent_, Channel::email, *http_);
  ASSERT_TRUE(test.has_value());
  EXPECT_TRUE(test->bad_credentials) << test->detail;

  auto id = listing("ben@example.com");
  dispatcher_->run_once(*http_);
  Message m = message(id);
  EXPECT_EQ(m.status, MessageStatus::sent) << m.last_error;
  EXPECT_EQ(smtp_->count(), before_);
  auto platform = platform_received();
  ASSERT_EQ(platform.size(), 1u);
  EXPECT_EQ(platform[0]["from"], "Wright Realty <noreply@platform.com>");
  auto rec = app::get_agent(*app_, agent_);
  EXPECT_EQ(rec->email->status, IntegrationStatus::failing);
  EXPECT_NE(rec->email->status_reason.find("did not accept the login"), std::string::npos)
      << rec->email->status_reason;
}

TEST_F(SmtpDeliveryTest, ATemporaryRefusalIsRetriedAndAPermanentOneFailsWithTheServersWords) {
  ASSERT_TRUE(connect(SmtpServer::kPassword).has_value());
  auto later = listing("tempfail-once-" + new_id() + "@example.com");
  dispatcher_->run_once(*http_);
  Message m = message(later);
  EXPECT_EQ(m.status, MessageStatus::retrying);
  EXPECT_NE(m.last_error.find("try again later"), std::string::npos) << m.last_error;
  for (int i = 0; i < 250 && message(later).status != MessageStatus::sent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    dispatcher_->run_once(*http_);
  }
  m = message(later);
  EXPECT_EQ(m.status, MessageStatus::sent) << m.last_error;
  EXPECT_EQ(m.attempts, 2);
  EXPECT_EQ(smtp_->wait_for(before_ + 1).size(), before_ + 1);

  auto never = listing("reject-" + new_id() + "@example.com");
  dispatcher_->run_once(*http_);
  m = message(never);
  EXPECT_EQ(m.status, MessageStatus::failed);
  EXPECT_EQ(m.attempts, 1) << "a 5xx is not retried";
  EXPECT_NE(m.last_error.find("User unknown"), std::string::npos) << m.last_error;
  EXPECT_TRUE(platform_received().empty()) << "a refused recipient is not re-routed";
}

TEST_F(SmtpDeliveryTest, NoEncryptionIsRefusedForAServerElsewhere) {
  app::ConnectInput in{"smtp",
                       {{"host", "smtp.wrightrealty.com"},
                        {"security", "none"},
                        {"username", "matt"},
                        {"password", "pw"},
                        {"fromEmail", "matt@wrightrealty.com"}},
                       std::nullopt};
  auto r = app::connect_integration(*app_, agent_, Channel::email, in);
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "security");
}

TEST_F(SmtpDeliveryTest, ConnectionsAreAWholeNumberFromOneToFifty) {
  for (std::string bad : {"0", "51", "five", "-1"}) {
    app::ConnectInput in{"smtp",
                         {{"host", "127.0.0.1"},
                          {"username", "matt"},
                          {"password", "pw"},
                          {"fromEmail", "matt@wrightrealty.com"},
                          {"maxConnections", bad}},
                         std::nullopt};
    auto r = app::connect_integration(*app_, agent_, Channel::email, in);
    ASSERT_FALSE(r.has_value()) << bad;
    ASSERT_EQ(r.error().fields.size(), 1u) << bad;
    EXPECT_EQ(r.error().fields[0].field, "maxConnections");
    EXPECT_EQ(r.error().fields[0].message, "must be a whole number from 1 to 50");
  }
  auto row = connect(SmtpServer::kPassword);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->params.get("maxConnections"), "5");
}

TEST_F(SmtpDeliveryTest, ThePasswordIsSealedAndNeverShown) {
  auto row = connect(SmtpServer::kPassword);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->params.find("password"), nullptr);
  ASSERT_NE(row->secrets.find("password"), nullptr);
  EXPECT_EQ(row->secrets.find("password")->sealed.find(SmtpServer::kPassword), std::string::npos);
  EXPECT_EQ(row->params.get("port"), std::to_string(smtp_->starttls_port));
  EXPECT_EQ(row->params.get("security"), "starttls");
}

}  // namespace
}  // namespace herald::delivery
