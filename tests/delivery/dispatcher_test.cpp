// The dispatcher with an injected clock against the sandbox over real HTTP: retries wait
// their backoff, permanent errors fail fast, every message reaches a terminal state.
#include "delivery/dispatcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "app/agents.h"
#include "app/delivery_sources.h"
#include "app/listings.h"
#include "core/id.h"
#include "net/http_client.h"
#include "sandbox/sandbox.h"
#include "support/accounts.h"

namespace herald::delivery {
namespace {

namespace fs = std::filesystem;

// A clock the test moves by hand.
class ManualTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = from_millis(to_millis(Clock::now()));  // the store keeps milliseconds
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, sandbox_.handler());
    std::string url = "http://127.0.0.1:" + std::to_string(server_->start());
    dir_ = fs::temp_directory_path() / ("herald-dispatch-" + new_id());
    app::Config config;
    config.database_url = dir_.string();
    auto& p = config.platform;
    test::platform_email(p);
    test::platform_sms(p);
    test::all_providers_at(p, url);
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    DispatcherOptions options;
    options.retry.base = std::chrono::seconds(10);
    options.retry.max_attempts = 3;
    dispatcher_ = std::make_unique<Dispatcher>(app::dispatcher_parts(*app_), options,
                                               [] { return net::make_curl_client(); });
    http_ = net::make_curl_client();
    agent_ = app::create_agent(*app_, {"Pat", "pat@example.com"})->id;
    sandbox_client_ = net::make_curl_client();
    sandbox_url_ = url;
  }
  void TearDown() override {
    dispatcher_.reset();
    app_.reset();
    server_->stop();
    fs::remove_all(dir_);
  }

  void fault(const std::string& body) {
    auto r = sandbox_client_->perform(HttpRequest{
        "POST", sandbox_url_ + "/sandbox/faults", {{"Content-Type", "application/json"}}, body});
    ASSERT_TRUE(r.has_value());
    ASSERT_LT(r->status, 300) << r->body;
  }

  std::string listing(const std::string& email) {
    auto l = app::create_listing(*app_, agent_, {"1 Main St", 100000, "Ann", email, ""});
    EXPECT_TRUE(l.has_value());
    return l->messages.at(0).id;
  }

  Message message(const std::string& id) { return (*app_->store().find_message(id, ""))->message; }

  ManualTime clock_;
  sandbox::Sandbox sandbox_;
  std::unique_ptr<http::Server> server_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::HttpClient> sandbox_client_;
  std::string sandbox_url_;
  std::string agent_;
};

// The store's queue, except that its first `failures` outcome writes fail with `error`.
class FailingWrites final : public Queue {
 public:
  FailingWrites(std::unique_ptr<Queue> queue, int failures, Error error)
      : queue_(std::move(queue)), failures_(failures), error_(std::move(error)) {}
  Result<void> record_outcomes(std::span<const store::Outcome> outcomes) override {
    ++writes_;
    if (failures_-- > 0) return std::unexpected(error_);
    return queue_->record_outcomes(outcomes);
  }
  int writes() const { return writes_; }

  Result<std::vector<Message>> claim_due(const store::ClaimRequest& r) override {
    return queue_->claim_due(r);
  }
  Result<void> take_campaign_recipients(TimePoint now, int limit, const std::string& worker,
                                        TimePoint lease_until, std::vector<Message>& out,
                                        std::vector<TakenChunk>& chunks) override {
    return queue_->take_campaign_recipients(now, limit, worker, lease_until, out, chunks);
  }
  Result<Suppressed> suppressed(std::span<const Message> messages) override {
    return queue_->suppressed(messages);
  }
  Result<void> assign_batches(std::span<const std::vector<std::string>> batches) override {
    return queue_->assign_batches(batches);
  }
  Result<void> update_chunk(const std::string& id, std::span<const Message> messages) override {
    return queue_->update_chunk(id, messages);
  }
  Result<void> finish_chunks(std::span<const std::string> ids) override {
    return queue_->finish_chunks(ids);
  }
  Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                      IntegrationStatus status, const std::string& reason,
                                      TimePoint at) override {
    return queue_->set_integration_status(agent_id, channel, status, reason, at);
  }
  Result<int> requeue_expired(TimePoint now) override { return queue_->requeue_expired(now); }
  Result<int> advance_campaigns(TimePoint now) override { return queue_->advance_campaigns(now); }
  Result<std::optional<TimePoint>> next_due_at() override { return queue_->next_due_at(); }

 private:
  std::unique_ptr<Queue> queue_;
  int failures_;
  Error error_;
  int writes_ = 0;
};

// A dispatcher over the app's store whose first `failures` outcome writes fail with `error`.
std::pair<std::unique_ptr<Dispatcher>, FailingWrites*> failing_writes(app::App& app, int failures,
                                                                      Error error) {
  auto parts = app::dispatcher_parts(app);
  auto queue = std::make_unique<FailingWrites>(std::move(parts.queue), failures, std::move(error));
  FailingWrites* seen = queue.get();
  parts.queue = std::move(queue);
  return {std::make_unique<Dispatcher>(std::move(parts), DispatcherOptions{},
                                       [] { return net::make_curl_client(); }),
          seen};
}

TEST_F(DispatcherTest, OutcomesWaitForADatabaseThatWentAwayInsteadOfBeingDropped) {
  // Invariant: when recording a pass's outcomes finds the database unreachable (a restart),
  // the pass waits and writes them once it answers, so what was sent is recorded as sent and
  // never sent again when its claim expires.
  Error away{Errc::storage, "HERALD_DATABASE_URL: cannot connect to PostgreSQL"};
  away.retryable = true;
  auto [dispatcher, queue] = failing_writes(*app_, 2, away);
  const std::string id = listing("ann@example.com");
  EXPECT_EQ(dispatcher->run_once(*http_), 1);
  EXPECT_EQ(queue->writes(), 3) << "two failed writes, then the one that worked";
  EXPECT_EQ(message(id).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, AnOutcomeWriteThatFailsForAnyOtherReasonIsNotRetried) {
  // Invariant: only an unreachable database is waited for; a write the database refused is not
  // repeated (the claim's lease hands the message over, at-least-once).
  auto [dispatcher, queue] = failing_writes(*app_, 1, Error::storage("disk I/O error"));
  const std::string id = listing("ann@example.com");
  EXPECT_EQ(dispatcher->run_once(*http_), 1);
  EXPECT_EQ(queue->writes(), 1);
  EXPECT_EQ(message(id).status, MessageStatus::sending) << "left to its lease";
}

TEST_F(DispatcherTest, CampaignSmsWaitsForTheRecipientsLocalWindowThenGoes) {
  // A one-hour window that opens an hour from now (UTC), for a recipient in UTC.
  const auto minute = static_cast<int>(
      std::chrono::duration_cast<std::chrono::minutes>(clock_.now().time_since_epoch()).count() %
      1440);
  const int start = minute + 120 < 1440 ? minute + 60 : minute - 120;
  DispatcherOptions options;
  options.quiet_hours = {SendWindow{start, start + 60}, "America/New_York"};
  Dispatcher quiet(app::dispatcher_parts(*app_), options, [] { return net::make_curl_client(); });

  Message m;
  m.id = new_id();
  m.agent_id = agent_;
  m.channel = Channel::sms;
  m.kind = MessageKind::campaign;
  m.template_key = "seller_welcome";
  m.vars_json = R"({"contact":{"name":"Ann","timeZone":"UTC"},"listing":{"address":"1 Main St"}})";
  m.to_address = "+14155550123";
  m.next_attempt_at = m.created_at = m.updated_at = clock_.now();
  ASSERT_TRUE(app_->store().enqueue(std::span(&m, 1)).has_value());

  EXPECT_EQ(quiet.run_once(*http_), 1);
  auto detail = *app_->store().find_message(m.id, "");
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->message.status, MessageStatus::queued);
  EXPECT_EQ(detail->message.attempts, 0) << "waiting for the window is not an attempt";
  // The window opens at `start` today or, once that has passed, tomorrow; the clock is
  // somewhere inside the current minute, so the wait is within a minute of the whole minutes.
  const auto opens = detail->message.next_attempt_at - clock_.now();
  const auto until_start = std::chrono::minutes((start - minute + 1440) % 1440);
  EXPECT_GT(opens, until_start - std::chrono::minutes(1));
  EXPECT_LE(opens, until_start);
  EXPECT_EQ(detail->history.back().detail, "quiet hours in UTC");

  clock_.advance(std::chrono::duration_cast<std::chrono::milliseconds>(opens));
  EXPECT_EQ(quiet.run_once(*http_), 1);
  EXPECT_EQ(message(m.id).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, ANumberTwilioSaysOptedOutFailsAndJoinsTheSuppressionList) {
  // Invariant: Twilio's error 21610 (the recipient replied STOP) fails the message at once with
  // Twilio's words and puts the number on the agent's suppression list, so the next message to
  // it is not sent; the email to the same seller goes out.
  const std::string phone = "+14155521610";  // the sandbox refuses it with 21610
  auto first = app::create_listing(*app_, agent_, {"1 Main St", 1, "Ann", "a@example.com", phone});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->messages.size(), 2u);
  EXPECT_EQ(dispatcher_->run_once(*http_), 2);
  for (const Message& m : first->messages) {
    auto detail = *app_->store().find_message(m.id, "");
    ASSERT_TRUE(detail.has_value());
    if (m.channel == Channel::email) {
      EXPECT_EQ(detail->message.status, MessageStatus::sent);
      continue;
    }
    EXPECT_EQ(detail->message.status, MessageStatus::failed);
    EXPECT_EQ(detail->message.attempts, 1) << "an opt-out is not retried";
    EXPECT_EQ(detail->message.last_error, "21610: Attempt to send to unsubscribed recipient");
    EXPECT_NE(detail->history.back().detail.find("suppression list"), std::string::npos)
        << detail->history.back().detail;
  }
  auto listed = app_->store().contacts().list_suppressions({.agent_id = agent_});
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].channel, Channel::sms);
  EXPECT_EQ(listed->items[0].address, phone);
  EXPECT_EQ(listed->items[0].reason, store::SuppressionReason::stop);
  EXPECT_EQ(listed->items[0].source, "twilio send");

  auto second = app::create_listing(*app_, agent_, {"2 Oak St", 1, "Ann", "a@example.com", phone});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(dispatcher_->run_once(*http_), 2);
  for (const Message& m : second->messages) {
    EXPECT_EQ(message(m.id).status,
              m.channel == Channel::sms ? MessageStatus::suppressed : MessageStatus::sent);
  }
}

TEST_F(DispatcherTest, RetryWaitsForItsBackoffThenSucceeds) {
  // Invariant: a 5xx is retried only once its backoff has elapsed, then sent.
  fault(R"({"provider":"resend","status":503,"count":1})");
  auto id = listing("a@example.com");
  EXPECT_EQ(dispatcher_->run_once(*http_), 1);
  Message m = message(id);
  EXPECT_EQ(m.status, MessageStatus::retrying);
  EXPECT_EQ(m.attempts, 1);
  // Equal jitter: between half and all of the 10 s base step.
  auto wait = m.next_attempt_at - clock_.now();
  EXPECT_GE(wait, std::chrono::seconds(5));
  EXPECT_LE(wait, std::chrono::seconds(10));
  EXPECT_EQ(dispatcher_->run_once(*http_), 0) << "claimed before its backoff elapsed";
  clock_.advance(std::chrono::seconds(11));
  EXPECT_EQ(dispatcher_->run_once(*http_), 1);
  m = message(id);
  EXPECT_EQ(m.status, MessageStatus::sent);
  EXPECT_EQ(m.attempts, 2);
}

TEST_F(DispatcherTest, RetryAfterLongerThanBackoffIsHonoured) {
  // Invariant: a provider's Retry-After is never cut short by our own backoff.
  fault(R"({"provider":"resend","status":429,"count":1,"retryAfter":60})");
  auto id = listing("a@example.com");
  dispatcher_->run_once(*http_);
  Message m = message(id);
  EXPECT_EQ(m.status, MessageStatus::retrying);
  EXPECT_GE(m.next_attempt_at - clock_.now(), std::chrono::seconds(60));
  clock_.advance(std::chrono::seconds(30));
  EXPECT_EQ(dispatcher_->run_once(*http_), 0);
  clock_.advance(std::chrono::seconds(31));
  EXPECT_EQ(dispatcher_->run_once(*http_), 1);
  EXPECT_EQ(message(id).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, GivesUpAfterMaxAttemptsWithTheLastReason) {
  // Invariant: endless 5xx end in a terminal failed state, never an endless loop.
  fault(R"({"provider":"resend","status":500,"count":10})");
  auto id = listing("a@example.com");
  for (int i = 0; i < 3; ++i) {
    dispatcher_->run_once(*http_);
    clock_.advance(std::chrono::hours(1));
  }
  Message m = message(id);
  EXPECT_EQ(m.status, MessageStatus::failed);
  EXPECT_EQ(m.attempts, 3);
  EXPECT_FALSE(m.last_error.empty());
  EXPECT_EQ(dispatcher_->run_once(*http_), 0);
}

TEST_F(DispatcherTest, PermanentErrorFailsFastWithProvidersReason) {
  // Invariant: a 4xx validation error is not retried; the provider's reason is kept.
  auto r = test::connect_sms(
      *app_, agent_,
      {"twilio", "AC11111111111111111111111111111111", "agent_token_0000000001", "+14155550199"});
  ASSERT_TRUE(r.has_value());
  fault(R"({"provider":"twilio","status":400,"count":1})");
  auto l =
      app::create_listing(*app_, agent_, {"1 Main St", 1, "Ann", "a@example.com", "+14155552671"});
  ASSERT_TRUE(l.has_value());
  dispatcher_->run_once(*http_);
  Message sms = message(l->messages.at(1).id);
  EXPECT_EQ(sms.status, MessageStatus::failed);
  EXPECT_EQ(sms.attempts, 1);
  EXPECT_FALSE(sms.last_error.empty());
  EXPECT_EQ(message(l->messages.at(0).id).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, SuccessClearsAFailingIntegration) {
  // Invariant: once the agent's key works again, the integration is shown healthy.
  ASSERT_TRUE(test::connect_email(*app_, agent_,
                                  {"sendgrid", "SG.agent-key-0001", "pat@example.com", "", ""}));
  ASSERT_TRUE(app_->store().set_integration_status(
      agent_, Channel::email, IntegrationStatus::failing, "old failure", clock_.now()));
  listing("a@example.com");
  dispatcher_->run_once(*http_);
  EXPECT_EQ(app::get_agent(*app_, agent_)->email->status, IntegrationStatus::ok);
}

TEST_F(DispatcherTest, OverTheAccountsRateMessagesWaitWithoutSpendingAnAttempt) {
  // Invariant: a rate-limited message is deferred in the queue, not failed and not counted.
  // (One request per pass here, so one token each.)
  ASSERT_TRUE(test::connect_email(*app_, agent_,
                                  {"sendgrid", "SG.agent-key-0001", "pat@example.com", "", ""}));
  DispatcherOptions options;
  options.rate_limits["sendgrid"] = 1;  // burst 2
  Dispatcher limited(app::dispatcher_parts(*app_), options, [] { return net::make_curl_client(); });
  std::vector<std::string> ids;
  for (const char* to : {"a@example.com", "b@example.com", "c@example.com"}) {
    ids.push_back(listing(to));
    EXPECT_EQ(limited.run_once(*http_), 1);
  }
  Message third = message(ids[2]);
  EXPECT_EQ(message(ids[0]).status, MessageStatus::sent);
  EXPECT_EQ(message(ids[1]).status, MessageStatus::sent);
  EXPECT_EQ(third.status, MessageStatus::queued);
  EXPECT_EQ(third.attempts, 0);
  EXPECT_GT(third.next_attempt_at, clock_.now());
  EXPECT_EQ(limited.run_once(*http_), 0);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(limited.run_once(*http_), 1);
  EXPECT_EQ(message(ids[2]).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, AnIntegrationsOwnRateLimitWinsOverTheProviderSetting) {
  // Invariant: the agent's integration says its account takes 1 request/s (burst 2); that
  // holds even where the operator allows the provider far more.
  test::EmailAccount connect{"sendgrid", "SG.agent-key-0001", "pat@example.com", "", "", 1.0};
  ASSERT_TRUE(test::connect_email(*app_, agent_, connect));
  DispatcherOptions options;
  options.rate_limits["sendgrid"] = 10000;
  Dispatcher limited(app::dispatcher_parts(*app_), options, [] { return net::make_curl_client(); });
  std::vector<std::string> ids;
  for (const char* to : {"a@example.com", "b@example.com", "c@example.com"}) {
    ids.push_back(listing(to));
    EXPECT_EQ(limited.run_once(*http_), 1);
  }
  EXPECT_EQ(message(ids[1]).status, MessageStatus::sent);
  EXPECT_EQ(message(ids[2]).status, MessageStatus::queued);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(limited.run_once(*http_), 1);
  EXPECT_EQ(message(ids[2]).status, MessageStatus::sent);
}

TEST_F(DispatcherTest, ResendMessagesShareOneBatchRequestAndKeepTheirBatch) {
  // Invariant: messages to one Resend account go in one batch call, and each remembers its batch.
  std::vector<std::string> ids = {listing("a@example.com"), listing("b@example.com"),
                                  listing("c@example.com")};
  EXPECT_EQ(dispatcher_->run_once(*http_), 3);
  std::set<std::string> keys;
  for (const auto& id : ids) {
    Message m = message(id);
    EXPECT_EQ(m.status, MessageStatus::sent);
    EXPECT_EQ(m.batch_id, ids.front());
  }
  auto r = sandbox_client_->perform(HttpRequest{"GET", sandbox_url_ + "/sandbox/messages", {}, ""});
  auto items = nlohmann::json::parse(r->body)["items"];
  ASSERT_EQ(items.size(), 3u);
  for (const auto& m : items) keys.insert(m["idempotencyKey"].get<std::string>());
  EXPECT_EQ(keys.size(), 1u) << "one request, one idempotency key";
}

TEST_F(DispatcherTest, AMessageThatThrowsRetriesAloneAndTheRestOfItsPassIsSent) {
  // Invariant: an exception while handling one message (here: a campaign SMS whose contact's
  // timeZone is a number, which the quiet-hours check cannot read) makes that message retry
  // with the reason, its attempt counted, and fail at the last attempt; the other messages of
  // the same pass are sent and recorded, and nothing is left 'sending'.
  auto campaign_message = [&](Channel channel, const std::string& to, const std::string& vars) {
    Message m;
    m.id = new_id();
    m.agent_id = agent_;
    m.channel = channel;
    m.kind = MessageKind::campaign;
    m.template_key = "market_update";
    m.vars_json = vars;
    m.to_address = to;
    m.next_attempt_at = m.created_at = m.updated_at = clock_.now();
    return m;
  };
  std::vector<Message> pass = {
      campaign_message(Channel::email, "a@example.com", R"({"contact":{"name":"Ann"}})"),
      campaign_message(Channel::sms, "+14155552671", R"({"contact":{"timeZone":5}})"),
      campaign_message(Channel::email, "b@example.com", R"({"contact":{"name":"Bo"}})")};
  ASSERT_TRUE(app_->store().enqueue(pass).has_value());
  EXPECT_EQ(dispatcher_->run_once(*http_), 3);

  EXPECT_EQ(message(pass[0].id).status, MessageStatus::sent);
  EXPECT_EQ(message(pass[2].id).status, MessageStatus::sent);
  auto r = sandbox_client_->perform(HttpRequest{"GET", sandbox_url_ + "/sandbox/messages", {}, ""});
  EXPECT_EQ(nlohmann::json::parse(r->body)["items"].size(), 2u);
  Message bad = message(pass[1].id);
  EXPECT_EQ(bad.status, MessageStatus::retrying);
  EXPECT_EQ(bad.attempts, 1);
  EXPECT_TRUE(bad.last_error.starts_with("internal error: ")) << bad.last_error;
  EXPECT_GT(bad.next_attempt_at, clock_.now()) << "it waits its backoff";
  auto counts = app_->store().count_by_status();
  ASSERT_TRUE(counts.has_value());
  for (const auto& [status, n] : *counts)
    EXPECT_FALSE(status == MessageStatus::sending && n > 0) << n << " left sending";

  for (int i = 0; i < 2; ++i) {
    clock_.advance(std::chrono::hours(1));
    EXPECT_EQ(dispatcher_->run_once(*http_), 1);
  }
  bad = message(pass[1].id);
  EXPECT_EQ(bad.status, MessageStatus::failed);
  EXPECT_EQ(bad.attempts, 3);
  auto detail = app_->store().find_message(bad.id, "");
  EXPECT_TRUE(
      (*detail)->history.back().detail.starts_with("gave up after 3 attempts: internal error: "))
      << (*detail)->history.back().detail;
}

TEST(RetryPolicy, DelayGrowsExponentiallyWithJitterAndCap) {
  // Invariant: backoff doubles per attempt within [step/2, step], capped, never below Retry-After.
  RetryPolicy p;
  p.base = std::chrono::seconds(2);
  p.cap = std::chrono::seconds(60);
  EXPECT_EQ(p.delay(1, std::nullopt, 0), std::chrono::seconds(1));
  EXPECT_EQ(p.delay(1, std::nullopt, ~0ull % 1001),
            std::chrono::milliseconds(1000 + (~0ull % 1001)));
  EXPECT_EQ(p.delay(3, std::nullopt, 0), std::chrono::seconds(4));
  EXPECT_EQ(p.delay(20, std::nullopt, 0), std::chrono::seconds(30));
  EXPECT_LE(p.delay(20, std::nullopt, ~0ull), std::chrono::seconds(60));
  EXPECT_EQ(p.delay(1, std::chrono::seconds(90), 0), std::chrono::seconds(90));
}

}  // namespace
}  // namespace herald::delivery
