// Setting up delivery tracking per account over a real SQLite file: what connecting an
// integration decides (off, a key given by hand, Twilio's callbacks, a registration to run),
// and how a registration ends (its key sealed; a provider that cannot be reached tried again
// later; a refusal kept with its reason). Registrations here answer from a scripted client
// with Resend's documented shapes; the sandbox's real endpoints are exercised end to end in
// tests/e2e/tracking_e2e_test.cpp.
#include "app/tracking_setup.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/agents.h"
#include "core/id.h"
#include "support/accounts.h"

namespace herald::app {
namespace {

namespace fs = std::filesystem;
using store::TrackingState;

class SteppedTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  TimePoint now_ = Clock::now();
};

// A provider API that answers from a script and records what it was asked.
class ScriptedHttp final : public net::HttpClient {
 public:
  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> asked;

  Result<HttpResponse> perform(const HttpRequest& request) override {
    asked.push_back(request);
    if (answers.empty()) return HttpResponse{.status = 500, .headers = {}, .body = "{}"};
    auto next = std::move(answers.front());
    answers.pop_front();
    return next;
  }
  std::vector<Result<HttpResponse>> perform_all(std::span<const HttpRequest> requests) override {
    std::vector<Result<HttpResponse>> out;
    for (const auto& r : requests) out.push_back(perform(r));
    return out;
  }
};

HttpResponse json_answer(int status, std::string body) {
  return HttpResponse{
      .status = status, .headers = {{"Content-Type", "application/json"}}, .body = std::move(body)};
}

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class TrackingSetupTest : public ::testing::Test {
 protected:
  void SetUp() override { open("https://herald.example.com"); }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  void open(const std::string& public_url, bool tracking = true) {
    app_.reset();
    if (dir_.empty()) dir_ = fs::temp_directory_path() / ("herald-tracking-" + new_id());
    fs::create_directories(dir_);
    Config config;
    config.data_dir = config.database_url = dir_.string();
    config.public_url = public_url;
    config.tracking = tracking;
    config.platform.receiver_base = public_url + "/webhooks";
    test::platform_email(config.platform);
    auto store = store::open_store(config.database_url);
    ASSERT_TRUE(store.has_value());
    if (!key_) key_ = secrets::MasterKey::generate();
    app_ = std::make_unique<App>(config, std::move(*store), secrets::Sealer(*key_), clock_);
  }

  std::string agent() {
    auto a = create_agent(*app_, {"Matt Wright", "matt-" + new_id() + "@example.com"});
    EXPECT_TRUE(a.has_value());
    return a->id;
  }

  std::optional<store::TrackingSetup> setup(const std::string& owner,
                                            Channel channel = Channel::email) {
    auto s = app_->store().tracking().setup_of(owner, channel);
    EXPECT_TRUE(s.has_value());
    return s.value_or(std::nullopt);
  }

  // Resend's answers to a first registration: no webhooks yet, then the new one's secret.
  void script_resend_registration(ScriptedHttp& http) {
    http.answers.push_back(json_answer(200, R"({"object":"list","has_more":false,"data":[]})"));
    http.answers.push_back(json_answer(
        201,
        std::string(R"({"object":"webhook","id":"wh_1","signing_secret":")") + kSecret + "\"}"));
  }

  fs::path dir_;
  std::optional<secrets::MasterKey> key_;
  SteppedTime clock_;
  std::unique_ptr<App> app_;
};

TEST_F(TrackingSetupTest, AnHttpPublicUrlLeavesTrackingOffAndSaysWhy) {
  open("http://127.0.0.1:8080");
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  auto s = setup(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, TrackingState::off);
  // In words an agent reads (the operator's setting is named in the start-up log).
  EXPECT_NE(s->reason.find("secure (https) address"), std::string::npos) << s->reason;
  EXPECT_EQ(s->reason.find("HERALD_"), std::string::npos) << s->reason;
}

TEST_F(TrackingSetupTest, TrackingTurnedOffIsOffWhateverTheUrl) {
  open("https://herald.example.com", /*tracking=*/false);
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  EXPECT_EQ(setup(id)->state, TrackingState::off);
  EXPECT_EQ(setup(id)->reason, "delivery tracking is turned off on this server");
}

TEST_F(TrackingSetupTest, AKeyGivenByHandIsUsedAndNothingIsRegistered) {
  const std::string id = agent();
  ConnectInput in{"resend",
                  {{"apiKey", "re_agent_key_0001"},
                   {"fromEmail", "matt@wright.com"},
                   {"webhookSecret", kSecret}}};
  ASSERT_TRUE(connect_integration(*app_, id, Channel::email, in));
  auto s = setup(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, TrackingState::manual);
  EXPECT_EQ(s->receiver_url, "https://herald.example.com/webhooks/resend/" + id);
  auto key = tracking_key(*app_, "resend", id);
  ASSERT_TRUE(key.has_value()) << key.error().message;
  EXPECT_EQ(key->reveal(), kSecret);
  ScriptedHttp http;
  auto ran = run_due_registrations(*app_, http, 10);
  ASSERT_TRUE(ran.has_value());
  EXPECT_EQ(*ran, 0);
  EXPECT_TRUE(http.asked.empty());
}

TEST_F(TrackingSetupTest, TwilioIsOnThroughEveryMessagesCallback) {
  const std::string id = agent();
  ASSERT_TRUE(test::connect_sms(
      *app_, id,
      {"twilio", "AC11111111111111111111111111111111", "agent_token_0042", "+14155550111"}));
  auto s = setup(id, Channel::sms);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, TrackingState::on);
  auto key = tracking_key(*app_, "twilio", id);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->reveal(), "agent_token_0042");
  // Sends carry the receiver as StatusCallback.
  auto agent_now = load_agent(*app_, id);
  ASSERT_TRUE(agent_now.has_value());
  auto route = resolve_route(*agent_now, Channel::sms, app_->platform());
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->credentials.status_callback_url,
            "https://herald.example.com/webhooks/twilio/" + id + "/status");
}

TEST_F(TrackingSetupTest, ARegistrationSealsTheKeyTheProviderGaveAndKeepsItWhileTheAccountStays) {
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ASSERT_EQ(setup(id)->state, TrackingState::pending);
  EXPECT_FALSE(tracking_key(*app_, "resend", id).has_value());  // nothing verifies posts yet

  ScriptedHttp http;
  script_resend_registration(http);
  auto ran = run_due_registrations(*app_, http, 10);
  ASSERT_TRUE(ran.has_value());
  EXPECT_EQ(*ran, 1);
  ASSERT_EQ(http.asked.size(), 2u);
  EXPECT_EQ(http.asked[1].method, "POST");
  EXPECT_NE(http.asked[1].body.find("https://herald.example.com/webhooks/resend/" + id),
            std::string::npos);
  auto s = setup(id);
  EXPECT_EQ(s->state, TrackingState::on);
  EXPECT_EQ(s->sealed_key.find(kSecret), std::string::npos);  // sealed, not in plain text
  auto key = tracking_key(*app_, "resend", id);
  ASSERT_TRUE(key.has_value()) << key.error().message;
  EXPECT_EQ(key->reveal(), kSecret);

  // Connected again with the same account: the registration stands.
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  EXPECT_EQ(setup(id)->state, TrackingState::on);
  // Another account: registered again.
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_other_key_0002", "matt@wright.com"}));
  EXPECT_EQ(setup(id)->state, TrackingState::pending);
}

TEST_F(TrackingSetupTest, AnUnreachableProviderIsTriedAgainLaterThenCalledFailing) {
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ScriptedHttp http;
  http.answers.push_back(fail(Error{Errc::network, "connection refused"}));
  ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  auto s = setup(id);
  EXPECT_EQ(s->state, TrackingState::pending);
  EXPECT_EQ(s->attempts, 1);
  EXPECT_GT(s->next_at, clock_.now());
  EXPECT_NE(s->reason.find("could not reach Resend"), std::string::npos) << s->reason;
  // Not due until its time.
  http.asked.clear();
  ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  EXPECT_TRUE(http.asked.empty());
  for (int i = 0; i < 10; ++i) {
    clock_.advance(std::chrono::hours(1));
    http.answers.push_back(fail(Error{Errc::network, "connection refused"}));
    ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  }
  EXPECT_EQ(setup(id)->state, TrackingState::failing);
}

TEST_F(TrackingSetupTest, RefusedCredentialsFailAtOnceInPlainWords) {
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ScriptedHttp http;
  http.answers.push_back(json_answer(
      401, R"({"statusCode":401,"name":"missing_api_key","message":"API key is invalid"})"));
  ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  auto s = setup(id);
  EXPECT_EQ(s->state, TrackingState::failing);
  EXPECT_EQ(s->reason, "Resend did not accept your account's credentials");
}

TEST_F(TrackingSetupTest, DisconnectingRemovesTheWebhookHeraldRegisteredThenTheSetUp) {
  // Invariant: while the integration still holds its key, disconnecting finds Herald's webhook
  // at the provider (the receiver registered) and deletes it, then forgets the integration and
  // its set-up, so nothing verifies posts for the account any more.
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ScriptedHttp http;
  script_resend_registration(http);
  ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  ASSERT_EQ(setup(id)->state, TrackingState::on);
  const std::string receiver = setup(id)->receiver_url;

  ScriptedHttp removal;
  removal.answers.push_back(json_answer(
      200, nlohmann::json{{"object", "list"},
                          {"has_more", false},
                          {"data",
                           {{{"id", "wh_other"}, {"endpoint", "https://crm.example/hook"}},
                            {{"id", "wh_1"}, {"endpoint", receiver}}}}}
               .dump()));
  removal.answers.push_back(json_answer(200, R"({"object":"webhook","id":"wh_1","deleted":true})"));
  ASSERT_TRUE(disconnect(*app_, id, Channel::email, removal));
  ASSERT_EQ(removal.asked.size(), 2u);
  EXPECT_EQ(removal.asked[0].method, "GET");
  EXPECT_EQ(removal.asked[1].method, "DELETE");
  EXPECT_TRUE(removal.asked[1].url.ends_with("/webhooks/wh_1")) << removal.asked[1].url;
  EXPECT_EQ(*removal.asked[1].header("Authorization"), "Bearer re_agent_key_0001");
  // Each request may take only what is left of the budget.
  ASSERT_TRUE(removal.asked[0].timeout.has_value());
  EXPECT_LE(*removal.asked[0].timeout, kUnregisterBudget);
  EXPECT_FALSE(setup(id));
  EXPECT_FALSE(tracking_key(*app_, "resend", id).has_value());
  EXPECT_FALSE(get_agent(*app_, id)->email.has_value());
}

TEST_F(TrackingSetupTest, WhatHeraldDidNotRegisterIsNotRemoved) {
  // Invariant: a key given by hand (the agent set the webhook up), tracking that is off, and
  // Twilio's per-message callbacks mean Herald registered nothing: disconnecting asks no
  // provider anything.
  const std::string manual = agent();
  ConnectInput in{"resend",
                  {{"apiKey", "re_agent_key_0001"},
                   {"fromEmail", "matt@wright.com"},
                   {"webhookSecret", kSecret}}};
  ASSERT_TRUE(connect_integration(*app_, manual, Channel::email, in));
  ASSERT_EQ(setup(manual)->state, TrackingState::manual);
  const std::string sms = agent();
  ASSERT_TRUE(test::connect_sms(
      *app_, sms,
      {"twilio", "AC11111111111111111111111111111111", "agent_token_0042", "+14155550111"}));
  ScriptedHttp http;
  ASSERT_TRUE(disconnect(*app_, manual, Channel::email, http));
  ASSERT_TRUE(disconnect(*app_, sms, Channel::sms, http));

  open("http://127.0.0.1:8080");  // tracking off: providers post only to https
  const std::string off = agent();
  ASSERT_TRUE(test::connect_email(*app_, off, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ASSERT_EQ(setup(off)->state, TrackingState::off);
  ASSERT_TRUE(disconnect(*app_, off, Channel::email, http));
  EXPECT_TRUE(http.asked.empty());
  EXPECT_FALSE(setup(manual));
  EXPECT_FALSE(setup(sms, Channel::sms));
  EXPECT_FALSE(setup(off));
}

TEST_F(TrackingSetupTest, AProviderThatRefusesDoesNotStopTheDisconnect) {
  // Invariant: removal is best effort: a provider refusing the key (or a failing set-up's
  // account) still leaves the agent disconnected, integration and set-up gone.
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  ScriptedHttp http;
  http.answers.push_back(json_answer(
      401, R"({"statusCode":401,"name":"missing_api_key","message":"API key is invalid"})"));
  ASSERT_TRUE(run_due_registrations(*app_, http, 10));
  ASSERT_EQ(setup(id)->state, TrackingState::failing);  // may have got part of the way

  ScriptedHttp refusing;
  refusing.answers.push_back(json_answer(
      401, R"({"statusCode":401,"name":"missing_api_key","message":"API key is invalid"})"));
  auto removed = unregister_receiver(*app_, refusing, id, Channel::email);
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().message, "Resend did not accept your account's credentials");
  refusing.answers.push_back(fail(Error{Errc::network, "connection refused"}));
  ASSERT_TRUE(disconnect(*app_, id, Channel::email, refusing));
  EXPECT_EQ(refusing.asked.size(), 2u);
  EXPECT_FALSE(setup(id));
  EXPECT_FALSE(get_agent(*app_, id)->email.has_value());
}

// A provider that answers every page of GET /webhooks with "more", each after `delay`.
class SlowPages final : public net::HttpClient {
 public:
  SlowPages(SteppedTime& clock, std::chrono::seconds delay) : clock_(clock), delay_(delay) {}
  std::vector<HttpRequest> asked;

  Result<HttpResponse> perform(const HttpRequest& request) override {
    asked.push_back(request);
    clock_.advance(delay_);
    const std::string id = "wh_" + std::to_string(asked.size());
    return json_answer(200, R"({"object":"list","has_more":true,"data":[{"id":")" + id +
                                R"(","endpoint":"https://crm.example/hook"}]})");
  }
  std::vector<Result<HttpResponse>> perform_all(std::span<const HttpRequest> requests) override {
    std::vector<Result<HttpResponse>> out;
    for (const auto& r : requests) out.push_back(perform(r));
    return out;
  }

 private:
  SteppedTime& clock_;
  std::chrono::seconds delay_;
};

TEST_F(TrackingSetupTest, RemovalStopsWhenItsBudgetIsSpent) {
  // Invariant: the removal's requests share one budget: each may take only what is left of it,
  // none is sent once it is spent, and the removal then ends with an error saying so (the
  // agent's disconnect does not wait on a slow provider).
  const std::string id = agent();
  ASSERT_TRUE(test::connect_email(*app_, id, {"resend", "re_agent_key_0001", "matt@wright.com"}));
  SlowPages slow(clock_, std::chrono::seconds(2));
  auto removed = unregister_receiver(*app_, slow, id, Channel::email, std::chrono::seconds(5));
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().message, "Resend did not finish removing delivery tracking in time");
  ASSERT_EQ(slow.asked.size(), 3u);
  EXPECT_EQ(slow.asked[0].timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(slow.asked[1].timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(slow.asked[2].timeout, std::chrono::milliseconds(1000));
}

TEST_F(TrackingSetupTest, ThePlatformsAccountsAreNeverUnregistered) {
  // Invariant: removing receivers is for an agent's own accounts: the platform's registration
  // stays whatever is asked.
  ASSERT_TRUE(plan_platform_tracking(*app_));
  ASSERT_EQ(setup(std::string(kPlatformOwner))->state, TrackingState::pending);
  ScriptedHttp http;
  EXPECT_TRUE(unregister_receiver(*app_, http, std::string(kPlatformOwner), Channel::email));
  EXPECT_TRUE(http.asked.empty());
  EXPECT_TRUE(setup(std::string(kPlatformOwner)));
}

TEST_F(TrackingSetupTest, ThePlatformsAccountsArePlannedAtStartUp) {
  ASSERT_TRUE(plan_platform_tracking(*app_));
  auto email = setup(std::string(kPlatformOwner));
  ASSERT_TRUE(email);
  EXPECT_EQ(email->state, TrackingState::pending);
  EXPECT_EQ(email->receiver_url, "https://herald.example.com/webhooks/resend/platform");
  EXPECT_FALSE(setup(std::string(kPlatformOwner), Channel::sms));  // no platform SMS account
}

TEST_F(TrackingSetupTest, SmtpHasNoDeliveryEvents) {
  const std::string id = agent();
  ConnectInput in{"smtp",
                  {{"host", "127.0.0.1"},
                   {"port", "2525"},
                   {"security", "none"},
                   {"username", "u"},
                   {"password", "p"},
                   {"fromEmail", "matt@wright.com"}}};
  ASSERT_TRUE(connect_integration(*app_, id, Channel::email, in));
  auto s = setup(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, TrackingState::off);
  EXPECT_NE(s->reason.find("does not report deliveries"), std::string::npos) << s->reason;
}

}  // namespace
}  // namespace herald::app
