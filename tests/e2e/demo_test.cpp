// `herald demo` as a user runs it: one real process, the seed's three agents plus a fourth on
// its own mail server. Protects that every agent's welcome email is sent and reaches the
// sandbox, the fourth over SMTP (the sandbox's mail server), and that the demo says so.
#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace herald::e2e {
namespace {

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-demo-" + new_id());
    std::filesystem::create_directories(dir_);
    // Free ports everywhere, so the test runs beside anything (another demo included); no
    // --exit, so the sandbox can still be asked what it received.
    demo_ = std::make_unique<Process>(
        std::vector<std::string>{HERALD_BINARY, "demo", "--listen", "127.0.0.1:0",
                                 "--sandbox-listen", "127.0.0.1:0", "--sandbox-smtp-listen",
                                 "127.0.0.1:0", "--data-dir", (dir_ / "data").string()},
        std::map<std::string, std::string>{}, dir_ / "demo.log");
    demo_->wait_for("Press Ctrl-C to stop", std::chrono::seconds(60));
    output_ = demo_->log_text();
    sandbox_url_ = demo_->wait_for(R"(Provider sandbox\s+(http://127\.0\.0\.1:\d+))");
  }
  void TearDown() override {
    demo_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Process> demo_;
  std::string output_;
  std::string sandbox_url_;
};

TEST_F(DemoTest, EveryAgentsWelcomeEmailArrivesAndTheFourthOverItsOwnMailServer) {
  // Invariant: the four welcome emails are sent through the route each scenario promises, and
  // the fourth agent's comes in over SMTP with its own branding.
  // Sent, or already reported delivered by the provider's events (SMTP reports none).
  for (const char* line : {"email to homer@example.com: * via agent sendgrid",
                           "email to ann@example.com: * via platform resend",
                           "email to bo@example.com: * via platform resend",
                           "email to sam@example.com: sent via agent smtp, From: Harbor Homes "
                           "<dana@harborhomes.com>, paid by agent"}) {
    std::string sent(line), delivered(line);
    if (auto star = sent.find('*'); star != std::string::npos) {
      sent.replace(star, 1, "sent");
      delivered.replace(star, 1, "delivered");
    }
    EXPECT_TRUE(output_.find(sent) != std::string::npos ||
                output_.find(delivered) != std::string::npos)
        << line << "\n"
        << output_;
  }
  EXPECT_NE(output_.find("Scenario 4: own mail server (SMTP)"), std::string::npos) << output_;
  // The tracking loop: a campaign whose bounces come back and suppress their addresses.
  EXPECT_NE(output_.find("as the provider reported it: 3 delivered, 2 bounced, 1 opened."),
            std::string::npos)
      << output_;
  EXPECT_NE(output_.find("bounce.robin@example.com (bounced)"), std::string::npos) << output_;
  EXPECT_NE(output_.find("bounce.morgan@example.com (bounced)"), std::string::npos) << output_;
  EXPECT_NE(output_.find("through her own mail server, smtp://127.0.0.1:"), std::string::npos)
      << output_;

  Client sandbox(sandbox_url_);
  json all = sandbox.get("/sandbox/messages").body["items"];
  auto email_to = [&](const std::string& address) {
    json found = json::array();
    for (const auto& m : all)
      if (m["to"].get<std::string>().find(address) != std::string::npos) found.push_back(m);
    return found;
  };
  EXPECT_EQ(email_to("homer@example.com").at(0)["provider"], "sendgrid");
  EXPECT_EQ(email_to("ann@example.com").at(0)["provider"], "resend");
  EXPECT_EQ(email_to("bo@example.com").at(0)["provider"], "resend");

  json smtp = sandbox.get("/sandbox/messages?provider=smtp").body["items"];
  ASSERT_EQ(smtp.size(), 1u) << smtp.dump(2);
  const json& welcome = smtp[0];
  EXPECT_EQ(welcome["to"].get<std::string>().find("sam@example.com") != std::string::npos, true)
      << welcome.dump(2);
  EXPECT_EQ(welcome["from"], "Harbor Homes <dana@harborhomes.com>");
  EXPECT_EQ(welcome["account"], "sandbox");
  EXPECT_FALSE(welcome["subject"].get<std::string>().empty());
  EXPECT_NE(welcome["text"].get<std::string>().find("Harbor Homes"), std::string::npos)
      << welcome.dump(2);
  EXPECT_FALSE(welcome["heraldMessageId"].is_null());
  EXPECT_EQ(sandbox.get("/sandbox/stats").body["byProvider"]["smtp"], 1);
}

}  // namespace
}  // namespace herald::e2e
