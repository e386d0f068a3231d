// Protects how the sandbox posts events: only to registered receivers, faults that duplicate,
// reorder and delay them, retries then a count of what failed, the counts at /sandbox/stats,
// and signed times from the sandbox's clock.
#include "sandbox/event_poster.h"
#include "sandbox/webhook_loop_fixture.h"

namespace herald::sandbox::testing {
namespace {

using namespace std::chrono_literals;

class EventPosterTest : public WebhookLoopTest {
 protected:
  HttpResult event_fault(const json& events, int count = 1, std::string provider = "resend") {
    return add_fault({{"provider", provider}, {"events", events}, {"count", count}});
  }
};

TEST_F(EventPosterTest, NothingIsPostedWithoutARegistration) {
  // Invariant: an account with no webhook gets no posts, and nothing is even queued.
  for (std::string_view provider : {"resend", "sendgrid", "mailgun"}) {
    send(credentials(provider), email("m-1", "click@example.com"));
  }
  EXPECT_EQ(stats()["events"]["queued"], 0);
  wait_for_events();
  EXPECT_TRUE(receiver_.posts().empty());
  EXPECT_EQ(stats()["events"]["posted"], 0);
  EXPECT_EQ(stats()["total"], 3);
}

TEST_F(EventPosterTest, DuplicateFaultPostsEachEventTwiceWithTheSameId) {
  // Invariant: with a duplicate fault every event arrives twice, both signed and with the same
  // event key (the svix-id), so a receiver can tell it is one event; the fault is used up.
  Credentials c = credentials("resend");
  const std::string key = register_receiver(c);
  ASSERT_EQ(event_fault({{"duplicate", true}}).status, 201);
  send(c, email("m-1", "open@example.com"));
  send(c, email("m-2", "dana@example.com"));  // after the fault's one use
  wait_for_events();
  auto events = seen("resend", key);
  using enum EventType;
  EXPECT_EQ(types(events["m-1"]), (std::vector{delivered, delivered, opened, opened}));
  ASSERT_EQ(events["m-1"].size(), 4u);
  EXPECT_EQ(events["m-1"][0].event_key, events["m-1"][1].event_key);
  EXPECT_NE(events["m-1"][1].event_key, events["m-1"][2].event_key);
  EXPECT_EQ(types(events["m-2"]), std::vector{delivered});
  EXPECT_EQ(stats()["events"]["posted"], 5);
}

TEST_F(EventPosterTest, ReorderFaultPostsAMessagesEventsLastFirst) {
  // Invariant: with a reorder fault a message's events arrive in reverse, each keeping its own
  // time, so the receiver can see it is late.
  Credentials c = credentials("sendgrid");
  const std::string key = register_receiver(c);
  ASSERT_EQ(event_fault({{"reorder", true}}, 1, "sendgrid").status, 201);
  send(c, email("m-1", "click@example.com"));
  wait_for_events();
  auto events = seen("sendgrid", key);
  using enum EventType;
  EXPECT_EQ(types(events["m-1"]), (std::vector{clicked, opened, delivered}));
}

TEST_F(EventPosterTest, DelayFaultHoldsTheEventsBack) {
  // Invariant: a delay fault posts the message's events no sooner than delayMs after the send.
  Credentials c = credentials("mailgun");
  register_receiver(c);
  ASSERT_EQ(event_fault({{"delayMs", 300}}, 1, "mailgun").status, 201);
  const auto sent = std::chrono::steady_clock::now();
  send(c, email("m-1", "dana@example.com"));
  EXPECT_EQ(stats()["events"]["queued"], 1);
  wait_for_events();
  auto arrivals = receiver_.arrivals();
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_GE(arrivals[0] - sent, 300ms);
}

TEST_F(EventPosterTest, FailedPostsAreRetriedThenCountedAsFailed) {
  // Invariant: a receiver answering 500 gets the post 1 + retries times, then the event is
  // dropped and counted as failed, never as posted.
  SandboxOptions options;
  options.events.retries = 2;
  options.events.backoff = 1ms;
  start(options);
  Credentials c = credentials("resend");
  register_receiver(c);
  receiver_.answer(500);
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].header("svix-id"), posts[2].header("svix-id"));
  json events = stats()["events"];
  EXPECT_EQ(events["failed"], 1);
  EXPECT_EQ(events["retried"], 2);
  EXPECT_EQ(events["posted"], 0);
  EXPECT_EQ(events["queued"], 0);
}

TEST_F(EventPosterTest, AReceiverThatRecoversGetsTheEvent) {
  // Invariant: a post that fails once and then succeeds counts as posted, once.
  SandboxOptions options;
  options.events.backoff = 1ms;
  start(options);
  Credentials c = credentials("resend");
  register_receiver(c);
  receiver_.fail_next(1, 503);
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  EXPECT_EQ(receiver_.posts().size(), 2u);
  EXPECT_EQ(stats()["events"]["posted"], 1);
  EXPECT_EQ(stats()["events"]["failed"], 0);
}

TEST_F(EventPosterTest, SignedTimesComeFromTheSandboxsClock) {
  // Invariant: the signed timestamp is the sandbox's "now", so a receiver checking within 5
  // minutes accepts it at that time and refuses it 10 minutes later.
  auto clock = std::make_shared<ManualTime>();
  SandboxOptions options;
  options.clock = clock;
  start(options);
  Credentials c = credentials("resend");
  const std::string key = register_receiver(c);
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(twin("resend").verify(posts[0], key, clock->now()).has_value());
  EXPECT_FALSE(twin("resend").verify(posts[0], key, clock->now() + 10min).has_value());
}

TEST_F(EventPosterTest, EventFaultsAreListedValidatedAndCleared) {
  // Invariant: event faults show in GET /sandbox/faults beside send faults, bad ones are 400,
  // and DELETE /sandbox/faults removes both kinds.
  ASSERT_EQ(event_fault({{"duplicate", true}, {"delayMs", 50}}, 3).status, 201);
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"status", 500}}).status, 201);
  json items = json::parse(client_.get(url("/sandbox/faults")).body)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["events"], (json{{"duplicate", true}, {"reorder", false}, {"delayMs", 50}}));
  EXPECT_EQ(items[1]["count"], 3);
  for (const json& bad : {json{{"provider", "resend"}, {"events", {{"duplicate", false}}}},
                          json{{"provider", "resend"}, {"events", {{"twice", true}}}},
                          json{{"provider", "resend"}, {"events", {{"reorder", "yes"}}}},
                          json{{"provider", "resend"}, {"events", {{"delayMs", -5}}}},
                          json{{"provider", "smtp"}, {"events", {{"duplicate", true}}}},
                          json{{"provider", "resend"}, {"status", 500}, {"events", json::object()}},
                          json{{"provider", "resend"}, {"events", true}}}) {
    EXPECT_EQ(add_fault(bad).status, 400) << bad.dump();
  }
  EXPECT_EQ(client_.request("DELETE", url("/sandbox/faults")).status, 204);
  EXPECT_TRUE(json::parse(client_.get(url("/sandbox/faults")).body)["items"].empty());
}

TEST_F(EventPosterTest, AFullQueueCountsOverflowAndNeverBlocksTheSend) {
  // Invariant: when the queue is full, a send is still answered at once and its events are
  // counted as overflow instead of queued.
  SandboxOptions options;
  options.events.queue_limit = 1;
  start(options);
  Credentials c = credentials("resend");
  register_receiver(c);
  // The first message waits (delayed), filling the queue; the second does not fit.
  ASSERT_EQ(event_fault({{"delayMs", 1000}}).status, 201);
  send(c, email("m-1", "dana@example.com"));
  send(c, email("m-2", "dana@example.com"));
  EXPECT_EQ(stats()["events"]["overflow"], 1);
  wait_for_events();
  EXPECT_EQ(receiver_.posts().size(), 1u);
  EXPECT_EQ(stats()["total"], 2);
}

TEST_F(EventPosterTest, ResetClearsTheCountsButKeepsRegistrations) {
  // Invariant: POST /sandbox/reset zeroes the event counts and the receiver's timings;
  // webhooks stay registered.
  Credentials c = credentials("resend");
  register_receiver(c);
  send(c, email("m-1", "dana@example.com"));
  wait_for_events();
  EXPECT_EQ(stats()["events"]["posted"], 1);
  const json latency = stats()["events"]["latency"];
  EXPECT_EQ(latency["count"], 1) << latency.dump();
  EXPECT_GT(latency["maxMs"].get<double>(), 0) << latency.dump();
  EXPECT_GE(latency["p99Ms"].get<double>(), latency["maxMs"].get<double>()) << latency.dump();
  ASSERT_EQ(client_.post(url("/sandbox/reset"), "").status, 204);
  EXPECT_EQ(stats()["events"]["posted"], 0);
  EXPECT_EQ(stats()["events"]["latency"]["count"], 0);
  send(c, email("m-2", "dana@example.com"));
  wait_for_events();
  EXPECT_EQ(stats()["events"]["posted"], 1);
}

TEST(LatencyHistogram, QuantilesAreTheUpperEdgesOfTheirSteps) {
  // Invariant: a quantile never understates (it is the upper edge of the 50 µs step its rank
  // falls in), and one beyond the last step is the largest value seen.
  LatencyHistogram h;
  EXPECT_EQ(h.quantile_ms(0.99), 0);
  for (int i = 0; i < 98; ++i) h.add(std::chrono::microseconds(120));
  h.add(std::chrono::milliseconds(7));
  h.add(std::chrono::seconds(2));
  EXPECT_EQ(h.count(), 100u);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.5), 0.15);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.98), 0.15);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.99), 7.05);
  EXPECT_DOUBLE_EQ(h.quantile_ms(1.0), 2000);
  EXPECT_DOUBLE_EQ(h.max_ms(), 2000);
}

}  // namespace
}  // namespace herald::sandbox::testing
