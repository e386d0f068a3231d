// The store contract against each real store (SQLite, PostgreSQL): transactions, the queue,
// scoping by agent.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/id.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace herald::store {
namespace {

class MessageStoreTest : public StoreTest {
 protected:
  AgentRow agent(const std::string& email) {
    AgentRow a{new_id(), "Agent", email, true, Clock::now()};
    EXPECT_TRUE(store_->create_agent(a).has_value());
    return a;
  }

  Message message(const std::string& agent_id, MessageKind kind = MessageKind::transactional,
                  TimePoint due = Clock::now()) {
    Message m;
    m.id = new_id();
    m.agent_id = agent_id;
    m.kind = kind;
    m.template_key = "seller_welcome";
    m.to_address = "seller@example.com";
    m.next_attempt_at = due;
    m.created_at = m.updated_at = Clock::now();
    return m;
  }

  // Enqueues one message for the agent and claims it, as a worker does before sending.
  Message claimed_message(const std::string& agent_id) {
    Message m = message(agent_id);
    EXPECT_TRUE(store_->enqueue(std::vector<Message>{m}).has_value());
    auto now = Clock::now() + std::chrono::seconds(1);
    auto claimed = store_->claim_due({now, now + std::chrono::minutes(2), "w", 10, std::nullopt});
    EXPECT_EQ(claimed->size(), 1u);
    return m;
  }

  // The outcome of a message the provider accepted after `attempts` attempts.
  static Outcome sent(const Message& m, int attempts, const std::string& provider_message_id,
                      const RouteSummary& route) {
    Outcome o;
    o.message_id = m.id;
    o.agent_id = m.agent_id;
    o.status = MessageStatus::sent;
    o.attempts = attempts;
    o.provider_message_id = provider_message_id;
    o.route = route;
    return o;
  }
};

TEST_P(MessageStoreTest, DuplicateAgentEmailIsAConflictNamingTheField) {
  // Invariant: two agents never share a login email; the error names the field.
  agent("a@example.com");
  AgentRow b{new_id(), "B", "a@example.com", true, Clock::now()};
  auto r = store_->create_agent(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::conflict);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "email");
}

TEST_P(MessageStoreTest, BrandingAndIntegrationsRoundTrip) {
  // Invariant: what is saved is what is read back, per channel, and deletes report existence.
  auto a = agent("a@example.com");
  Branding b{"Wright Realty", "matt@wrightrealty.com", "+14155552671",
             "Matt",          "https://w.com",         "1 Main St"};
  ASSERT_TRUE(store_->put_branding(a.id, b).has_value());
  IntegrationRow email;
  email.channel = Channel::email;
  email.provider = "mailgun";
  email.secrets.set("apiKey", SealedField{"v1.sealed", "…abcd"});
  email.sender = "matt@mg.w.com";
  email.params.set("domain", "mg.w.com");
  email.params.set("region", "eu");
  email.connected_at = email.updated_at = Clock::now();
  ASSERT_TRUE(store_->put_integration(a.id, email).has_value());

  auto rec = store_->find_agent(a.id);
  ASSERT_TRUE(rec.has_value() && rec->has_value());
  EXPECT_EQ((*rec)->branding.company_name, "Wright Realty");
  EXPECT_EQ((*rec)->branding.postal_address, "1 Main St");
  ASSERT_TRUE((*rec)->email.has_value());
  EXPECT_EQ((*rec)->email->provider, "mailgun");
  EXPECT_EQ((*rec)->email->params, email.params);
  EXPECT_EQ((*rec)->email->secrets, email.secrets);
  EXPECT_EQ((*rec)->email->sender, "matt@mg.w.com");
  EXPECT_FALSE((*rec)->sms.has_value());

  EXPECT_TRUE(*store_->set_integration_active(a.id, Channel::email, false, Clock::now()));
  EXPECT_FALSE((*store_->find_agent(a.id))->email->active);
  EXPECT_FALSE(*store_->set_integration_active(a.id, Channel::sms, false, Clock::now()));
  EXPECT_TRUE(*store_->delete_integration(a.id, Channel::email));
  EXPECT_FALSE(*store_->delete_integration(a.id, Channel::email));
}

TEST_P(MessageStoreTest, ListingAndItsMessagesCommitTogetherOrNotAtAll) {
  // Invariant: a listing is never stored without its welcome messages, nor the reverse.
  auto a = agent("a@example.com");
  Listing l{new_id(), a.id, "12 Ocean Ave", 950000, "Ann", "ann@example.com", "", Clock::now()};
  Message m1 = message(a.id);
  Message dup = m1;  // same id: the second insert fails, so the whole transaction must
  auto r = store_->create_listing(l, std::vector<Message>{m1, dup});
  ASSERT_FALSE(r.has_value());
  auto page = store_->list_messages(MessageQuery{a.id});
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->items.empty());
  // The same listing id can now be created, proving the first attempt left nothing.
  ASSERT_TRUE(store_->create_listing(l, std::vector<Message>{m1}).has_value());
  EXPECT_EQ(store_->list_messages(MessageQuery{a.id})->items.size(), 1u);
}

TEST_P(MessageStoreTest, ClaimTakesDueMessagesOnceTransactionalLaneFirst) {
  // Invariant: a due message is claimed by one worker only; future ones wait; lanes filter.
  auto a = agent("a@example.com");
  // Every due time is fixed against `now`: a default of "now" taken later would be a little
  // after the claim's clock and flake on a slow (sanitizer) run.
  auto now = Clock::now();
  std::vector<Message> ms = {
      message(a.id, MessageKind::campaign, now), message(a.id, MessageKind::transactional, now),
      message(a.id, MessageKind::transactional, now + std::chrono::hours(1))};
  ASSERT_TRUE(store_->enqueue(ms).has_value());
  ClaimRequest req{now, now + std::chrono::minutes(2), "w1", 10, MessageKind::transactional};
  auto first = store_->claim_due(req);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].id, ms[1].id);
  EXPECT_EQ((*first)[0].status, MessageStatus::sending);
  req.kind.reset();
  auto second = store_->claim_due(req);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].id, ms[0].id);
  EXPECT_TRUE(store_->claim_due(req)->empty());
  auto due = store_->next_due_at();
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_EQ(to_millis(**due), to_millis(now + std::chrono::hours(1)));
}

TEST_P(MessageStoreTest, OutcomesRecordStatusRouteAttemptsAndHistory) {
  // Invariant: the log shows the route, who paid, every attempt and the status history.
  auto a = agent("a@example.com");
  Message m = claimed_message(a.id);
  auto now = Clock::now();
  RouteSummary agent_route{"sendgrid", Via::agent, "W <w@w.com>", "", Via::agent};
  RouteSummary platform{"resend", Via::platform, "W <noreply@p.com>", "r@w.com", Via::platform};
  Outcome o = sent(m, 2, "pm-1", platform);
  o.rendered = true;
  o.subject = "Hello";
  o.attempts_made = {Attempt{1, now, agent_route, "bad_credentials", 401, "bad key", ""},
                     Attempt{2, now, platform, "accepted", 200, "", "pm-1"}};
  o.events = {{now, MessageStatus::sent, "accepted by resend"}};
  ASSERT_TRUE(store_->record_outcomes(std::vector<Outcome>{o}).has_value());

  auto d = store_->find_message(m.id, a.id);
  ASSERT_TRUE(d.has_value() && d->has_value());
  const auto& msg = (*d)->message;
  EXPECT_EQ(msg.status, MessageStatus::sent);
  EXPECT_EQ(msg.attempts, 2);
  EXPECT_EQ(msg.subject, "Hello");
  ASSERT_TRUE(msg.route.has_value());
  EXPECT_EQ(msg.route->payer, Via::platform);
  ASSERT_EQ((*d)->attempts.size(), 2u);
  EXPECT_EQ((*d)->attempts[0].route.via, Via::agent);
  EXPECT_EQ((*d)->attempts[0].http_status, 401);
  EXPECT_EQ((*d)->attempts[1].provider_message_id, "pm-1");
  ASSERT_EQ((*d)->history.size(), 2u);  // queued, sent
  EXPECT_EQ((*d)->history[0].status, MessageStatus::queued);
  EXPECT_EQ((*d)->history[1].status, MessageStatus::sent);
}

TEST_P(MessageStoreTest, AFirstTryAcceptanceReadsBackExactlyAsRecorded) {
  // Invariant: however the store keeps a first-try acceptance (in the message row, without
  // history rows), the log shows the same attempt and history it was given; anything else
  // keeps its rows.
  auto a = agent("a@example.com");
  Message m = claimed_message(a.id);
  RouteSummary route{"mailgun", Via::agent, "W <w@w.com>", "r@w.com", Via::agent};
  TimePoint at = from_millis(to_millis(Clock::now()) + 5);
  Outcome o = sent(m, 1, "<20261124.1@mg.w.com>", route);
  o.attempts_made = {Attempt{1, at, route, "accepted", 200, "", o.provider_message_id}};
  o.events = {{at, MessageStatus::sent, "accepted by mailgun"}};
  ASSERT_TRUE(store_->record_outcomes(std::vector<Outcome>{o}).has_value());
  auto d = store_->find_message(m.id, a.id);
  ASSERT_TRUE(d.has_value() && d->has_value());
  ASSERT_EQ((*d)->attempts.size(), 1u);
  const Attempt& got = (*d)->attempts[0];
  EXPECT_EQ(got.number, 1);
  EXPECT_EQ(got.at, at);
  EXPECT_EQ(got.outcome, "accepted");
  EXPECT_EQ(got.http_status, 200);
  EXPECT_EQ(got.provider_message_id, "<20261124.1@mg.w.com>");
  EXPECT_EQ(got.route.provider, "mailgun");
  EXPECT_EQ(got.route.via, Via::agent);
  EXPECT_EQ(got.route.from, "W <w@w.com>");
  EXPECT_EQ(got.route.reply_to, "r@w.com");
  EXPECT_EQ(got.route.payer, Via::agent);
  const auto& h = (*d)->history;
  ASSERT_EQ(h.size(), 2u);  // queued, sent
  EXPECT_EQ(h[0].status, MessageStatus::queued);
  EXPECT_EQ(h[1].status, MessageStatus::sent);
  EXPECT_EQ(h[1].at, at);
  EXPECT_EQ(h[1].detail, "accepted by mailgun");

  // A second message whose first attempt was refused keeps both attempts as rows.
  Message r = claimed_message(a.id);
  o.message_id = r.id;
  o.attempts = 2;
  o.attempts_made = {Attempt{1, at, route, "retryable", 503, "busy", ""},
                     Attempt{2, at, route, "accepted", 200, "", o.provider_message_id}};
  ASSERT_TRUE(store_->record_outcomes(std::vector<Outcome>{o}).has_value());
  auto dr = store_->find_message(r.id, a.id);
  ASSERT_EQ((*dr)->attempts.size(), 2u);
  EXPECT_EQ((*dr)->attempts[0].http_status, 503);
  EXPECT_EQ((*dr)->attempts[1].number, 2);
  EXPECT_EQ((*dr)->history.size(), 2u);
}

TEST_P(MessageStoreTest, MessagesAreScopedToTheirAgent) {
  // Invariant: an agent-scoped lookup never returns another agent's message.
  auto a = agent("a@example.com");
  auto b = agent("b@example.com");
  Message m = message(a.id);
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{m}).has_value());
  EXPECT_TRUE(store_->find_message(m.id, a.id)->has_value());
  EXPECT_FALSE(store_->find_message(m.id, b.id)->has_value());
  EXPECT_TRUE(store_->find_message(m.id, "")->has_value());  // platform scope
  EXPECT_TRUE(store_->list_messages(MessageQuery{b.id})->items.empty());
}

TEST_P(MessageStoreTest, ExpiredClaimsReturnToTheQueue) {
  // Invariant: a message claimed by a worker that died is taken again after its lease.
  auto a = agent("a@example.com");
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{message(a.id)}).has_value());
  auto now = Clock::now();
  ASSERT_EQ(store_->claim_due({now, now + std::chrono::seconds(30), "w", 10, std::nullopt})->size(),
            1u);
  EXPECT_EQ(*store_->requeue_expired(now), 0);
  EXPECT_EQ(*store_->requeue_expired(now + std::chrono::seconds(31)), 1);
  EXPECT_EQ(
      store_->claim_due({now, now + std::chrono::seconds(30), "w2", 10, std::nullopt})->size(), 1u);
}

// A campaign of `agent_id` in `status`, sending at `send_at` if given.
Campaign campaign(Store& store, const std::string& agent_id, CampaignStatus status,
                  std::optional<TimePoint> send_at = std::nullopt) {
  Campaign c;
  c.id = new_id();
  c.agent_id = agent_id;
  c.name = "Update";
  c.template_key = "market_update";
  c.status = status;
  c.send_at = send_at;
  c.created_at = c.updated_at = Clock::now();
  EXPECT_TRUE(store.campaigns().create(c).has_value());
  return c;
}

TEST_P(MessageStoreTest, ASweepTakesOverAClaimAndAChunkOnlyOnceTheirLeasesExpired) {
  // Invariant: the scheduler's sweep never takes work from a live holder: a claimed message and
  // a taken chunk stay with their worker while their leases run, and return to the queue (once)
  // after.
  auto a = agent("a@example.com");
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{message(a.id)}).has_value());
  const auto now = Clock::now();
  const auto lease = now + std::chrono::minutes(5);
  ASSERT_EQ(store_->claim_due({now, lease, "w", 10, std::nullopt})->size(), 1u);
  const Campaign c = campaign(*store_, a.id, CampaignStatus::running);
  const std::vector<Message> page{message(a.id, MessageKind::campaign)};
  ASSERT_TRUE(*store_->campaigns().take(c, "", page, page.back().id, false,
                                        ChunkLease{new_id(), "w", lease}, now));

  auto live = store_->sweep(lease - std::chrono::seconds(1), /*requeue=*/true);
  ASSERT_TRUE(live.has_value()) << live.error().message;
  EXPECT_TRUE(live->ran);
  EXPECT_EQ(live->requeued, 0) << "the leases still run";
  EXPECT_TRUE(store_->claim_due({now, lease, "w2", 10, std::nullopt})->empty());

  auto expired = store_->sweep(lease, /*requeue=*/true);
  ASSERT_TRUE(expired.has_value()) << expired.error().message;
  EXPECT_EQ(expired->requeued, 2) << "the claimed message and the chunk's one";
  EXPECT_EQ(store_->sweep(lease, true)->requeued, 0) << "taken over once";
  EXPECT_EQ(
      store_->claim_due({lease, lease + std::chrono::minutes(5), "w2", 10, std::nullopt})->size(),
      2u);
}

TEST_P(MessageStoreTest, AScheduledCampaignStartsAtTheSweepAfterItsSendTime) {
  // Invariant: a scheduled campaign starts running only once its send time has come, and only
  // through the scheduler's sweep (taking audiences never starts one by the way).
  auto a = agent("a@example.com");
  const auto now = Clock::now();
  const Campaign c =
      campaign(*store_, a.id, CampaignStatus::scheduled, now + std::chrono::hours(1));
  EXPECT_TRUE(store_->campaigns().due_for_fanout(now + std::chrono::hours(2), 16)->empty());
  EXPECT_EQ((*store_->campaigns().find(a.id, c.id))->status, CampaignStatus::scheduled);

  EXPECT_EQ(store_->sweep(now, false)->started, 0);
  EXPECT_EQ((*store_->campaigns().find(a.id, c.id))->status, CampaignStatus::scheduled);
  auto swept = store_->sweep(now + std::chrono::hours(1), false);
  ASSERT_TRUE(swept.has_value()) << swept.error().message;
  EXPECT_EQ(swept->started, 1);
  EXPECT_EQ((*store_->campaigns().find(a.id, c.id))->status, CampaignStatus::running);
  EXPECT_EQ(store_->campaigns().due_for_fanout(now, 16)->size(), 1u);
}

TEST_P(MessageStoreTest, MessageLogPagesNewestFirstWithFilters) {
  // Invariant: cursor pagination visits every message once, newest first, honouring filters.
  auto a = agent("a@example.com");
  std::vector<Message> ms;
  for (int i = 0; i < 7; ++i) {
    ms.push_back(message(a.id));
    ms.back().channel = i % 2 ? Channel::sms : Channel::email;
  }
  ASSERT_TRUE(store_->enqueue(ms).has_value());
  MessageQuery q{a.id};
  q.limit = 3;
  std::vector<std::string> seen;
  while (true) {
    auto page = store_->list_messages(q);
    ASSERT_TRUE(page.has_value());
    for (auto& m : page->items) seen.push_back(m.id);
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen.front(), ms.back().id);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  MessageQuery sms{a.id};
  sms.channel = Channel::sms;
  EXPECT_EQ(store_->list_messages(sms)->items.size(), 3u);
}

TEST_P(MessageStoreTest, MigrationsAreIdempotent) {
  // Invariant: reopening an existing database applies nothing twice and keeps the data.
  auto a = agent("a@example.com");
  store_.reset();
  auto v = migrate(url_);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_GE(*v, 1);
  auto s = open_store(url_);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE((*s)->find_agent(a.id)->has_value());
  store_ = std::move(*s);
}

HERALD_STORE_TEST_SUITE(MessageStoreTest);

}  // namespace
}  // namespace herald::store
