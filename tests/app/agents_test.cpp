// Agent services over a real SQLite file: secrets sealed at rest, validation naming fields.
#include "app/agents.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/listings.h"
#include "core/id.h"
#include "support/accounts.h"

namespace herald::app {
namespace {

namespace fs = std::filesystem;

const char* kSendGridKey = "SG.PLAINTEXT-sendgrid-key-WRGT";
const char* kTwilioToken = "PLAINTEXTtwilioauthtoken0042";

class AgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-app-" + new_id());
    Config config;
    config.data_dir = dir_.string();
    config.database_url = dir_.string();
    test::platform_email(config.platform, "re_platform");
    auto store = store::open_store(config.database_url);
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<App>(config, std::move(*store),
                                 secrets::Sealer(secrets::MasterKey::generate()), clock_);
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  std::string agent(const std::string& email) {
    auto a = create_agent(*app_, {"Matt Wright", email});
    EXPECT_TRUE(a.has_value());
    return a->id;
  }

  // Every byte SQLite wrote: the main file, the receivers' inbox and their write-ahead logs.
  std::string database_bytes() {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("herald", 0) != 0) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  static std::vector<std::string> fields(const Error& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields) out.push_back(f.field);
    return out;
  }

  SystemTime clock_;
  fs::path dir_;
  std::unique_ptr<App> app_;
};

TEST_F(AgentsTest, SecretsAreNowhereInTheDatabaseFileInPlaintext) {
  // Invariant: provider keys and auth tokens are sealed before they touch storage.
  auto id = agent("matt@wrightrealty.com");
  ASSERT_TRUE(
      test::connect_email(*app_, id, {"sendgrid", kSendGridKey, "matt@wrightrealty.com", "", ""}));
  ASSERT_TRUE(test::connect_sms(
      *app_, id, {"twilio", "AC0123456789abcdef0123456789abcdef", kTwilioToken, "+14155552671"}));
  std::string bytes = database_bytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(kSendGridKey), std::string::npos);
  EXPECT_EQ(bytes.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(bytes.find(kTwilioToken), std::string::npos);
  // The hint is all that is readable, and the key still opens for sending.
  auto rec = get_agent(*app_, id);
  ASSERT_TRUE(rec.has_value());
  ASSERT_NE(rec->email->secrets.find("apiKey"), nullptr);
  EXPECT_EQ(rec->email->secrets.find("apiKey")->hint, "…WRGT");
  auto opened = load_agent(*app_, id);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->email->secrets.get("apiKey").reveal(), kSendGridKey);
  EXPECT_EQ(opened->sms->secrets.get("authToken").reveal(), kTwilioToken);
}

TEST_F(AgentsTest, CiphertextMovedToAnotherAgentFailsToOpen) {
  // Invariant: a sealed key copied onto another agent's row is useless there.
  auto wright = agent("matt@wrightrealty.com");
  auto thief = agent("thief@example.com");
  ASSERT_TRUE(test::connect_email(*app_, wright,
                                  {"sendgrid", kSendGridKey, "matt@wrightrealty.com", "", ""}));
  ASSERT_TRUE(test::connect_email(*app_, thief,
                                  {"resend", "re_thief_key_000000", "t@example.com", "", ""}));
  auto stolen = get_agent(*app_, wright)->email;
  stolen->sender = "t@example.com";
  ASSERT_TRUE(app_->store().put_integration(thief, *stolen).has_value());
  auto opened = load_agent(*app_, thief);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, Errc::crypto);
  EXPECT_EQ(opened.error().message.find(kSendGridKey), std::string::npos);
  // Moving it to the other field of the same agent fails too.
  auto own = get_agent(*app_, wright)->email;
  store::IntegrationRow as_sms = *own;
  as_sms.channel = Channel::sms;
  as_sms.provider = "twilio";
  as_sms.params.set("accountSid", "AC0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(app_->store().put_integration(wright, as_sms).has_value());
  EXPECT_FALSE(load_agent(*app_, wright).has_value());
}

TEST_F(AgentsTest, InvalidInputNamesEveryField) {
  // Invariant: bad input is refused with the name of each invalid field; nothing is written.
  auto bad_agent = create_agent(*app_, {"", "not-an-email"});
  ASSERT_FALSE(bad_agent.has_value());
  EXPECT_EQ(fields(bad_agent.error()), (std::vector<std::string>{"name", "email"}));

  auto id = agent("matt@wrightrealty.com");
  // A provider Herald does not know has no fields to check: only it is named.
  auto unknown = test::connect_email(*app_, id, {"postmark", "", "x@", "", ""});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(fields(unknown.error()), (std::vector<std::string>{"provider"}));
  EXPECT_NE(unknown.error().fields[0].message.find("resend"), std::string::npos);
  auto bad_email = test::connect_email(*app_, id, {"resend", "", "x@", "", ""});
  ASSERT_FALSE(bad_email.has_value());
  EXPECT_EQ(fields(bad_email.error()), (std::vector<std::string>{"apiKey", "fromEmail"}));
  auto mailgun =
      test::connect_email(*app_, id, {"mailgun", "key-1", "a@mg.example.com", "", "mars"});
  ASSERT_FALSE(mailgun.has_value());
  EXPECT_EQ(fields(mailgun.error()), (std::vector<std::string>{"domain", "region"}));
  auto bad_sms = test::connect_sms(*app_, id, {"twilio", "ACshort", "", "555-1234"});
  ASSERT_FALSE(bad_sms.has_value());
  EXPECT_EQ(fields(bad_sms.error()),
            (std::vector<std::string>{"accountSid", "authToken", "phoneNumber"}));
  auto bad_brand =
      put_branding(*app_, id, Branding{"Evil\r\nBcc: x@y.com", "nope", "12", "", "ftp://x", ""});
  ASSERT_FALSE(bad_brand.has_value());
  EXPECT_EQ(fields(bad_brand.error()),
            (std::vector<std::string>{"companyName", "replyEmail", "smsPhone", "website"}));
  auto rec = get_agent(*app_, id);
  EXPECT_FALSE(rec->email.has_value());
  EXPECT_FALSE(rec->sms.has_value());
  EXPECT_TRUE(rec->branding.empty());
}

TEST_F(AgentsTest, AnIntegrationCarriesItsOwnRateLimitIntoTheRoute) {
  // Invariant: rateLimitPerSecond is validated, stored with the integration and reaches the
  // route's credentials (where the dispatcher's token bucket reads it); absent means default.
  auto id = agent("matt@wrightrealty.com");
  for (double bad : {0.0, -1.0, 1e9}) {
    auto r =
        test::connect_email(*app_, id, {"sendgrid", "SG.k", "matt@wrightrealty.com", "", "", bad});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(fields(r.error()), std::vector<std::string>{"rateLimitPerSecond"});
  }
  ASSERT_TRUE(
      test::connect_email(*app_, id, {"sendgrid", "SG.k", "matt@wrightrealty.com", "", "", 3.5}));
  ASSERT_TRUE(test::connect_sms(
      *app_, id, {"twilio", "AC0123456789abcdef0123456789abcdef", "tok", "+14155550100"}));
  auto agent = load_agent(*app_, id);
  ASSERT_TRUE(agent.has_value());
  PlatformConfig platform;
  EXPECT_EQ(resolve_route(*agent, Channel::email, platform)->credentials.rate_limit, 3.5);
  EXPECT_EQ(resolve_route(*agent, Channel::sms, platform)->credentials.rate_limit, 0);
}

TEST_F(AgentsTest, UnknownAgentIsNotFound) {
  // Invariant: operations on an id that does not exist answer not_found, never write.
  auto r = put_branding(*app_, new_id(), Branding{"X"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::not_found);
  auto http = net::make_curl_client();
  auto d = disconnect(*app_, agent("a@example.com"), Channel::email, *http);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, Errc::not_found);
}

TEST_F(AgentsTest, ListingQueuesWelcomeEmailAndSmsTogether) {
  // Invariant: a listing and its welcome messages are written in one transaction.
  auto id = agent("matt@wrightrealty.com");
  auto created =
      create_listing(*app_, id, {"12 Ocean Ave", 950000, "Ann", "ann@example.com", "+14155552671"});
  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_EQ(created->messages.size(), 2u);
  auto page = app_->store().list_messages({id});
  ASSERT_EQ(page->items.size(), 2u);
  for (const auto& m : page->items) {
    EXPECT_EQ(m.status, MessageStatus::queued);
    EXPECT_EQ(m.listing_id, created->listing.id);
  }
  auto bad = create_listing(*app_, id, {"", std::nullopt, "Ann", "ann@", "+1"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(fields(bad.error()),
            (std::vector<std::string>{"address", "price", "seller.email", "seller.phone"}));
  EXPECT_EQ(app_->store().list_messages({id})->items.size(), 2u);
}

}  // namespace
}  // namespace herald::app
