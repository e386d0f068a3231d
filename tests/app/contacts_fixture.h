// A real App over a fresh SQLite file with two agents, for the contact, import, suppression
// and unsubscribe tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "app/agents.h"
#include "app/app.h"
#include "core/id.h"
#include "support/accounts.h"

namespace herald::app::testing {

class ManualTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = from_millis(to_millis(Clock::now()));
};

class ContactsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-contacts-app-" + new_id());
    Config config;
    config.data_dir = dir_.string();
    config.database_url = dir_.string();
    config.public_url = "https://herald.example.com";
    test::platform_sms(config.platform, "platform_twilio_token");
    config.platform.name = "RealtorAI";
    configure(config);
    auto store = store::open_store(config.database_url);
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<App>(config, std::move(*store), secrets::Sealer(key_), clock_);
    alice_ = agent("alice@example.com");
    bob_ = agent("bob@example.com");
  }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(dir_);
  }
  virtual void configure(Config&) {}

  std::string agent(const std::string& email) {
    auto a = create_agent(*app_, {"Agent " + email, email});
    EXPECT_TRUE(a.has_value());
    return a->id;
  }

  static std::vector<std::string> fields(const Error& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields) out.push_back(f.field);
    return out;
  }

  secrets::MasterKey key_ = secrets::MasterKey::generate();
  ManualTime clock_;
  std::filesystem::path dir_;
  std::unique_ptr<App> app_;
  std::string alice_, bob_;
};

}  // namespace herald::app::testing
