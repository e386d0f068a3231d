// Delivery tracking in each real store (SQLite, PostgreSQL): the inbox refuses replays, events join
// their message within the post's owner only, statuses move only forward, duplicates count once,
// and bounces, complaints and soft-bounce runs suppress exactly their own recipient.
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace herald::store {
namespace {

// What a test says about the provider's id of a message it sends.
struct SentAs {
  std::string id;      // empty: "pm-" + Herald's id
  bool lookup = true;  // Outcome::provider_id_lookup
};

class TrackingStoreTest : public TwoAgentStoreTest {
 protected:
  // A message as a campaign takes it from its audience: not written down until its answer.
  static Message draft(const std::string& agent_id, const std::string& to,
                       const std::string& campaign_id = "") {
    Message m;
    m.id = new_id();
    m.agent_id = agent_id;
    m.to_address = to;
    m.template_key = "seller_welcome";
    m.campaign_id = campaign_id;
    m.next_attempt_at = m.created_at = m.updated_at = Clock::now();
    return m;
  }

  // A message out to its provider: queued and claimed, its answer not kept yet.
  Message claimed(const std::string& agent_id, const std::string& to,
                  const std::string& campaign_id = "") {
    Message m = draft(agent_id, to, campaign_id);
    EXPECT_TRUE(store_->enqueue(std::vector<Message>{m}).has_value());
    auto now = Clock::now() + std::chrono::seconds(1);
    auto claimed = store_->claim_due({now, now + std::chrono::minutes(2), "w", 100, std::nullopt});
    EXPECT_TRUE(claimed.has_value());
    return m;
  }

  // Keeps the provider's acceptance of `m`; `fresh`: `m` is written whole with it.
  void answer(const Message& m, Via via = Via::agent, const SentAs& pid = {}, bool fresh = false) {
    Outcome o;
    o.message_id = m.id;
    o.agent_id = m.agent_id;
    o.status = MessageStatus::sent;
    o.attempts = 1;
    o.provider_message_id = pid.id.empty() ? "pm-" + m.id : pid.id;
    o.provider_id_lookup = pid.lookup;
    o.route = RouteSummary{ProviderId("resend"), via, "a@example.com", "", via};
    if (fresh) o.fresh = &m;
    EXPECT_TRUE(store_->record_outcomes(std::vector<Outcome>{o}).has_value());
  }

  // A message the provider accepted for `agent_id`, over `via`, with the provider's id.
  Message sent(const std::string& agent_id, const std::string& to, Via via = Via::agent,
               const std::string& campaign_id = "", const SentAs& pid = {}) {
    Message m = claimed(agent_id, to, campaign_id);
    answer(m, via, pid);
    return m;
  }

  WebhookPost post(const std::string& owner, std::string replay_key = "") {
    return WebhookPost{new_id(),      "resend",     owner, std::move(replay_key),
                       "https://h/x", {{"a", "b"}}, "{}",  Clock::now()};
  }

  static DeliveryEvent event(EventType type, const Message& m, std::string key,
                             BounceKind bounce = BounceKind::none) {
    DeliveryEvent e;
    e.type = type;
    e.bounce = bounce;
    e.event_key = std::move(key);
    e.message_id = m.id;
    e.provider_event = "email." + std::string(to_string(type));
    e.recipient = m.to_address;
    e.occurred_at = Clock::now();
    return e;
  }

  EventsApplied apply(const WebhookPost& p, std::vector<DeliveryEvent> events) {
    auto r = store_->tracking().apply_events(p, events, policy_, Clock::now());
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.value_or(EventsApplied{});
  }

  MessageStatus status(const Message& m) {
    return (*store_->find_message(m.id, ""))->message.status;
  }
  bool suppressed(const std::string& agent_id, const std::string& address) {
    return *store_->contacts().is_suppressed(agent_id, Channel::email, address);
  }

  TrackingPolicy policy_;
};

TEST_P(TrackingStoreTest, APostIsKeptUntilAppliedAndAReplayedKeyIsRefused) {
  // Invariant: a verified post is kept until applied, and a replay key is accepted once.
  auto p = post(alice_, "token-1");
  EXPECT_TRUE(*store_->tracking().record_post(p));
  auto again = post(alice_, "token-1");
  EXPECT_FALSE(*store_->tracking().record_post(again)) << "the same replay key twice";
  auto pending = store_->tracking().pending_posts(Clock::now(), 10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().headers, (Headers{{"a", "b"}}));
  apply(p, {});
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now(), 10)->empty());
}

TEST_P(TrackingStoreTest, AWaveOfPostsIsKeptTogetherEachAnsweredOnItsOwn) {
  // Invariant: posts written in one transaction get one answer each, in order; a replay key
  // seen earlier in the same wave or before it is refused, the others are kept.
  ASSERT_TRUE(*store_->tracking().record_post(post(alice_, "token-0")));
  std::vector<WebhookPost> wave = {post(alice_, "token-1"), post(alice_, "token-0"),
                                   post(bob_, "token-2"), post(alice_, "token-1"), post(alice_)};
  auto kept = store_->tracking().record_posts(wave);
  ASSERT_TRUE(kept.has_value()) << kept.error().message;
  EXPECT_EQ(*kept, (std::vector<bool>{true, false, true, false, true}));
  EXPECT_EQ(store_->tracking().pending_posts(Clock::now(), 10)->size(), 4u);
}

TEST_P(TrackingStoreTest, ARoundOfPostsIsAppliedTogetherEachOnItsOwnTerms) {
  // Invariant: in one round, a readable post is applied and done, one that cannot be read is set
  // aside for good, and one whose message is not written yet is tried again later; each post's
  // answer is its own.
  Message m = sent(alice_, "a@example.com");
  Message early = draft(alice_, "b@example.com");
  std::vector<WebhookPost> posts = {post(alice_), post(alice_), post(alice_)};
  ASSERT_TRUE(store_->tracking().record_posts(posts).has_value());
  const std::vector<PostEvents> round = {
      {&posts[0], {event(EventType::delivered, m, "e1")}, {}},
      {&posts[1], {}, "not JSON"},
      {&posts[2], {event(EventType::delivered, early, "e2")}, {}}};
  auto applied = store_->tracking().apply_posts(round, policy_, Clock::now());
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  ASSERT_EQ(applied->size(), 3u);
  EXPECT_EQ((*applied)[0].recorded, 1);
  EXPECT_EQ((*applied)[1].recorded, 0);
  EXPECT_EQ((*applied)[2].waiting, 1);
  EXPECT_EQ(status(m), MessageStatus::delivered);
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now(), 10)->empty());
  auto later = store_->tracking().pending_posts(Clock::now() + std::chrono::minutes(1), 10);
  ASSERT_EQ(later->size(), 1u) << "only the early post comes back";
  EXPECT_EQ(later->front().id, posts[2].id);
}

TEST_P(TrackingStoreTest, StatusMovesOnlyForwardAndDuplicatesCountOnce) {
  // Invariant: an event counts once and a message's status never moves backwards.
  Message m = sent(alice_, "buyer@example.com");
  auto p = post(alice_);
  auto r = apply(p, {event(EventType::delivered, m, "e1"), event(EventType::delivered, m, "e1")});
  EXPECT_EQ(r.recorded, 1);
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_EQ(status(m), MessageStatus::delivered);
  apply(post(alice_), {event(EventType::complained, m, "e2")});
  EXPECT_EQ(status(m), MessageStatus::complained);
  r = apply(post(alice_), {event(EventType::delivered, m, "e3")});
  EXPECT_EQ(r.status_changes, 0) << "a late delivered never overwrites a complaint";
  EXPECT_EQ(status(m), MessageStatus::complained);
  auto timeline = store_->tracking().events_of(m.id);
  ASSERT_EQ(timeline->size(), 3u);
  EXPECT_EQ(timeline->front().event.type, EventType::delivered);
  auto detail = *store_->find_message(m.id, "");
  EXPECT_EQ(detail->history.back().status, MessageStatus::complained);
}

TEST_P(TrackingStoreTest, EventsOfOneSecondReadInTheOrderAMessageLivesThem) {
  // Invariant: a timeline reads in the order the message lived it, whatever the stamps' order.
  // SendGrid stamps whole seconds and may post a click before its open and delivery.
  Message m = sent(alice_, "buyer@example.com");
  const TimePoint second = std::chrono::floor<std::chrono::seconds>(Clock::now());
  std::vector<DeliveryEvent> events = {event(EventType::clicked, m, "c"),
                                       event(EventType::opened, m, "o"),
                                       event(EventType::delivered, m, "d")};
  for (auto& e : events) e.occurred_at = second;
  events.push_back(event(EventType::opened, m, "o2"));
  events.back().occurred_at = second + std::chrono::seconds(5);  // a later open stays later
  apply(post(alice_), events);
  auto timeline = store_->tracking().events_of(m.id);
  ASSERT_EQ(timeline->size(), 4u);
  std::vector<EventType> types;
  for (const auto& e : *timeline) types.push_back(e.event.type);
  EXPECT_EQ(types, (std::vector<EventType>{EventType::delivered, EventType::opened,
                                           EventType::clicked, EventType::opened}));
}

TEST_P(TrackingStoreTest, AnAgentsAccountReportsOnlyThatAgentsMessages) {
  // Invariant: an agent's account never touches another agent's messages or suppressions.
  Message bobs = sent(bob_, "buyer@example.com");
  auto r = apply(post(alice_), {event(EventType::bounced, bobs, "e1", BounceKind::hard)});
  EXPECT_EQ(r.unmatched, 1);
  EXPECT_EQ(status(bobs), MessageStatus::sent);
  EXPECT_FALSE(suppressed(bob_, "buyer@example.com"));
}

TEST_P(TrackingStoreTest, AnEventThatComesBeforeItsMessageIsWrittenWaitsForIt) {
  // Invariant: an event that arrives before its message is written waits for it, never lost.
  // A fast provider reports on a campaign message before Herald has kept its answer.
  Message m = draft(alice_, "buyer@example.com");
  WebhookPost p = post(alice_);
  ASSERT_TRUE(*store_->tracking().record_post(p));
  auto r = apply(p, {event(EventType::delivered, m, "e1")});
  EXPECT_EQ(r.waiting, 1);
  EXPECT_EQ(r.recorded, 0) << "nothing kept unmatched";
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now(), 10)->empty()) << "not straight away";
  auto later = store_->tracking().pending_posts(Clock::now() + std::chrono::seconds(2), 10);
  ASSERT_EQ(later->size(), 1u) << "tried again a moment later";
  answer(m, Via::agent, {}, /*fresh=*/true);
  r = apply(later->front(), {event(EventType::delivered, m, "e1")});
  EXPECT_EQ(r.waiting, 0);
  EXPECT_EQ(r.recorded, 1);
  EXPECT_EQ(status(m), MessageStatus::delivered);
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now() + std::chrono::hours(1), 10)->empty());
}

TEST_P(TrackingStoreTest, AnEventForAMessageStillOnItsWayOutLeavesItsAnswerToBeKept) {
  // Invariant: an event for a message still on its way out never makes its answer be dropped.
  Message m = claimed(alice_, "buyer@example.com");
  auto r = apply(post(alice_), {event(EventType::delivered, m, "e1")});
  EXPECT_EQ(r.waiting, 1);
  answer(m);
  auto detail = *store_->find_message(m.id, "");
  EXPECT_EQ(detail->message.status, MessageStatus::sent);
  EXPECT_EQ(detail->message.provider_message_id, "pm-" + m.id) << "the answer was not dropped";
  apply(post(alice_), {event(EventType::delivered, m, "e1")});
  EXPECT_EQ(status(m), MessageStatus::delivered);
}

TEST_P(TrackingStoreTest, AnEventForNoMessageStopsWaitingAfterAWhile) {
  // Invariant: an event for no message stops waiting after early_event_wait and is kept unmatched.
  Message never = draft(alice_, "buyer@example.com");
  WebhookPost p = post(alice_);
  p.received_at = Clock::now() - policy_.early_event_wait - std::chrono::seconds(1);
  ASSERT_TRUE(*store_->tracking().record_post(p));
  auto r = apply(p, {event(EventType::delivered, never, "e1")});
  EXPECT_EQ(r.waiting, 0);
  EXPECT_EQ(r.unmatched, 1) << "kept, without a message";
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now() + std::chrono::hours(1), 10)->empty());
}

TEST_P(TrackingStoreTest, ThePlatformsAccountReportsOnlyMessagesSentThroughIt) {
  // Invariant: the platform's account reports only on messages sent through the platform.
  Message own = sent(alice_, "a@example.com", Via::agent);
  Message platform = sent(alice_, "b@example.com", Via::platform);
  apply(post("platform"),
        {event(EventType::delivered, own, "e1"), event(EventType::delivered, platform, "e2")});
  EXPECT_EQ(status(own), MessageStatus::sent);
  EXPECT_EQ(status(platform), MessageStatus::delivered);
}

TEST_P(TrackingStoreTest, WithoutHeraldsIdTheProvidersIdFindsTheMessage) {
  // Invariant: an event without Herald's id finds its message by the provider's id.
  Message m = sent(alice_, "buyer@example.com");
  DeliveryEvent e = event(EventType::delivered, m, "e1");
  e.message_id.clear();
  e.provider_message_id = "pm-" + m.id;
  apply(post(alice_), {e});
  EXPECT_EQ(status(m), MessageStatus::delivered);
}

TEST_P(TrackingStoreTest, AProvidersIdSharedByABatchFindsTheEventsOwnRecipient) {
  // Invariant: a provider id shared by a batch reaches only the event's own recipient.
  const SentAs shared{"batch-1"};
  Message a = sent(alice_, "a@example.com", Via::agent, "", shared);
  Message b = sent(alice_, "B@Example.com", Via::agent, "", shared);
  DeliveryEvent e = event(EventType::bounced, b, "e1", BounceKind::hard);
  e.message_id.clear();
  e.provider_message_id = "batch-1";
  e.recipient = "b@example.com";
  EXPECT_EQ(apply(post(alice_), {e}).suppressed, 1);
  EXPECT_EQ(status(b), MessageStatus::bounced);
  EXPECT_EQ(status(a), MessageStatus::sent) << "the batch's other recipient is untouched";
  EXPECT_FALSE(suppressed(alice_, "a@example.com"));
}

TEST_P(TrackingStoreTest, AMessageWhoseEventsAlwaysNameItIsNotLookedUpByTheProvidersId) {
  // Invariant: a message whose events always name it is never found by the provider's id alone.
  Message m = sent(alice_, "buyer@example.com", Via::agent, "", {"re-1", false});
  DeliveryEvent by_provider = event(EventType::bounced, m, "e1", BounceKind::hard);
  by_provider.message_id.clear();
  by_provider.provider_message_id = "re-1";
  apply(post(alice_), {by_provider});
  EXPECT_EQ(status(m), MessageStatus::sent);
  apply(post(alice_), {event(EventType::delivered, m, "e2")});
  EXPECT_EQ(status(m), MessageStatus::delivered) << "Herald's id finds it";
}

TEST_P(TrackingStoreTest, AHardBounceInABatchSuppressesOnlyItsOwnRecipient) {
  // Invariant: a hard bounce suppresses exactly its own recipient, for its own agent.
  Message a = sent(alice_, "a@example.com");
  Message b = sent(alice_, "Bounce@Example.com");
  Message c = sent(alice_, "c@example.com");
  auto r = apply(post(alice_), {event(EventType::delivered, a, "e1"),
                                event(EventType::bounced, b, "e2", BounceKind::hard),
                                event(EventType::delivered, c, "e3")});
  EXPECT_EQ(r.suppressed, 1);
  EXPECT_FALSE(suppressed(alice_, "a@example.com"));
  EXPECT_TRUE(suppressed(alice_, "bounce@example.com"));
  EXPECT_FALSE(suppressed(alice_, "c@example.com"));
  EXPECT_FALSE(suppressed(bob_, "bounce@example.com")) << "another agent's list is untouched";
  EXPECT_EQ(status(b), MessageStatus::bounced);
}

TEST_P(TrackingStoreTest, SoftBouncesSuppressOnlyAfterTheLimitInARow) {
  // Invariant: soft bounces suppress only at the limit in a row; a delivery ends the run.
  policy_.soft_bounce_limit = 3;
  auto soft = [&](const Message& m, const std::string& key) {
    apply(post(alice_), {event(EventType::bounced, m, key, BounceKind::soft)});
  };
  soft(sent(alice_, "full@example.com"), "s1");
  soft(sent(alice_, "full@example.com"), "s2");
  apply(post(alice_), {event(EventType::delivered, sent(alice_, "full@example.com"), "d1")});
  soft(sent(alice_, "full@example.com"), "s3");
  soft(sent(alice_, "full@example.com"), "s4");
  EXPECT_FALSE(suppressed(alice_, "full@example.com")) << "a delivery ended the first run";
  soft(sent(alice_, "full@example.com"), "s5");
  EXPECT_TRUE(suppressed(alice_, "full@example.com"));
}

TEST_P(TrackingStoreTest, ComplaintsUnsubscribesAndOptOutsSuppress) {
  // Invariant: complaints and unsubscribes suppress their recipient; opens do not.
  apply(post(alice_), {event(EventType::complained, sent(alice_, "spam@example.com"), "c1")});
  apply(post(alice_), {event(EventType::unsubscribed, sent(alice_, "bye@example.com"), "u1")});
  apply(post(alice_), {event(EventType::opened, sent(alice_, "reader@example.com"), "o1")});
  EXPECT_TRUE(suppressed(alice_, "spam@example.com"));
  EXPECT_TRUE(suppressed(alice_, "bye@example.com"));
  EXPECT_FALSE(suppressed(alice_, "reader@example.com"));
}

TEST_P(TrackingStoreTest, CampaignResultsCountEachMessageOnceAndOpensUniquely) {
  // Invariant: results count each message once per outcome, whatever order its events come in.
  Campaign c;
  c.id = new_id();
  c.agent_id = alice_;
  c.name = "Update";
  c.template_key = "market_update";
  c.created_at = c.updated_at = Clock::now();
  ASSERT_TRUE(store_->campaigns().create(c).has_value());
  Message a = sent(alice_, "a@example.com", Via::agent, c.id);
  Message b = sent(alice_, "b@example.com", Via::agent, c.id);
  apply(post(alice_),
        {event(EventType::delivered, a, "1"), event(EventType::opened, a, "2"),
         event(EventType::opened, a, "3"), event(EventType::clicked, a, "4"),
         event(EventType::bounced, b, "5", BounceKind::hard), event(EventType::delivered, b, "6")});
  auto r = store_->tracking().campaign_results(alice_, c.id);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->delivered, 1);
  EXPECT_EQ(r->bounced, 1);
  EXPECT_EQ(r->unique_opens, 1);
  EXPECT_EQ(r->unique_clicks, 1);

  // Out of order: a complaint, then its delivered, then the same events again. The status stays
  // complained, and the message counts once as delivered and once as complained.
  Message d = sent(alice_, "d@example.com", Via::agent, c.id);
  apply(post(alice_), {event(EventType::complained, d, "7")});
  apply(post(alice_), {event(EventType::delivered, d, "8")});
  apply(post(alice_), {event(EventType::complained, d, "7"), event(EventType::delivered, d, "8")});
  EXPECT_EQ(status(d), MessageStatus::complained);
  r = store_->tracking().campaign_results(alice_, c.id);
  EXPECT_EQ(r->delivered, 2);
  EXPECT_EQ(r->complained, 1);
}

HERALD_STORE_TEST_SUITE(TrackingStoreTest);

}  // namespace
}  // namespace herald::store
