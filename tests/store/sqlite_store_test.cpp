// What only the SQLite store does: one process owns its file, so start-up takes back every
// claim; and its migrations carry old databases forward.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

#include "core/id.h"
#include "secrets/sealer.h"
#include "store/sqlite/db.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "store/store_fixture.h"
#include "store/tracking.h"

namespace herald::store {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public StoreTest {};

TEST_P(SqliteStoreTest, AtStartUpEveryClaimOfTheLastRunReturnsToTheQueue) {
  // Invariant: SQLite has one owner process, so at start-up a claim whose lease still runs was
  // interrupted all the same and is taken again at once.
  AgentRow a{new_id(), "Agent", "a@example.com", true, Clock::now()};
  ASSERT_TRUE(store_->create_agent(a).has_value());
  Message m;
  m.id = new_id();
  m.agent_id = a.id;
  m.to_address = "seller@example.com";
  m.next_attempt_at = m.created_at = m.updated_at = Clock::now();
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{m}).has_value());
  auto now = Clock::now();
  ASSERT_EQ(store_->claim_due({now, now + std::chrono::minutes(5), "w", 10, std::nullopt})->size(),
            1u);
  EXPECT_EQ(*store_->requeue_expired(now), 0) << "the lease still runs";
  EXPECT_EQ(*store_->recover_interrupted(now), 1);
  EXPECT_EQ(
      store_->claim_due({now, now + std::chrono::seconds(30), "w2", 10, std::nullopt})->size(), 1u);
}

TEST_P(SqliteStoreTest, ApplyingDeliveryEventsSeeksItsIndexesAndScansNothing) {
  // Invariant: every statement that keeps and applies delivery events (inbox, the join to the
  // message, the campaign results' first-of-a-kind check, soft-bounce runs, suppression, the
  // timeline) seeks an index, so applying one event costs the same after a million. (The
  // first-of-a-kind check repeated no term of its partial index and scanned every event kept:
  // 100,000 events of a benchmark campaign never finished applying.)
  sqlite::audit_query_plans(true);
  AgentRow a{new_id(), "Agent", "a@example.com", true, Clock::now()};
  ASSERT_TRUE(store_->create_agent(a).has_value());
  const TimePoint now = Clock::now();
  std::vector<Message> messages;
  for (const char* to : {"d@example.com", "hard@example.com", "soft@example.com"}) {
    Message m;
    m.id = new_id();
    m.agent_id = a.id;
    m.to_address = to;
    m.campaign_id = "campaign-1";
    m.next_attempt_at = m.created_at = m.updated_at = now;
    messages.push_back(m);
  }
  ASSERT_TRUE(store_->enqueue(messages).has_value());
  ASSERT_EQ(store_->claim_due({now, now + std::chrono::minutes(1), "w", 10, std::nullopt})->size(),
            3u);
  std::vector<Outcome> outcomes;
  for (const Message& m : messages) {
    Outcome o;
    o.message_id = m.id;
    o.agent_id = a.id;
    o.status = MessageStatus::sent;
    o.attempts = 1;
    o.provider_message_id = "pm-" + m.id;
    o.route = RouteSummary{ProviderId("resend"), Via::agent, "a@example.com", "", Via::agent};
    outcomes.push_back(o);
  }
  ASSERT_TRUE(store_->record_outcomes(outcomes).has_value());
  auto event = [&](const Message& m, EventType type, BounceKind bounce, const std::string& key) {
    DeliveryEvent e;
    e.type = type;
    e.bounce = bounce;
    e.event_key = key;
    e.message_id = m.id;
    e.recipient = m.to_address;
    e.occurred_at = now;
    return e;
  };
  WebhookPost post{new_id(), "resend", a.id, "", "https://h/x", {}, "{}", now};
  ASSERT_TRUE(store_->tracking().record_post(post).has_value());
  ASSERT_EQ(store_->tracking().pending_posts(now, 10)->size(), 1u);
  const std::vector<DeliveryEvent> events = {
      event(messages[0], EventType::delivered, BounceKind::none, "e1"),
      event(messages[0], EventType::opened, BounceKind::none, "e2"),
      event(messages[0], EventType::clicked, BounceKind::none, "e3"),
      event(messages[1], EventType::bounced, BounceKind::hard, "e4"),
      event(messages[2], EventType::bounced, BounceKind::soft, "e5")};
  auto applied = store_->tracking().apply_events(post, events, TrackingPolicy{}, now);
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_EQ(applied->recorded, 5);
  EXPECT_EQ(applied->suppressed, 1);
  DeliveryEvent by_provider_id = event(messages[0], EventType::complained, BounceKind::none, "e6");
  by_provider_id.message_id.clear();
  by_provider_id.provider_message_id = "pm-" + messages[0].id;
  ASSERT_TRUE(store_->tracking()
                  .apply_events(post, std::vector<DeliveryEvent>{by_provider_id}, {}, now)
                  .has_value());
  EXPECT_EQ(store_->tracking().events_of(messages[0].id)->size(), 4u);
  EXPECT_EQ(store_->tracking().campaign_results(a.id, "campaign-1")->delivered, 1);
  auto plans = sqlite::audited_query_plans();
  sqlite::audit_query_plans(false);

  int tracking_statements = 0;
  for (const auto& [sql, plan] : plans) {
    if (sql.find("delivery_events") == std::string::npos &&
        sql.find("webhook_posts") == std::string::npos &&
        sql.find("soft_bounces") == std::string::npos &&
        sql.find("campaign_results") == std::string::npos) {
      continue;
    }
    ++tracking_statements;
    for (const char* table : {"messages", "delivery_events", "webhook_posts", "soft_bounces",
                              "suppressions", "campaign_results"}) {
      // "SCAN <table>" whole (a table or a whole index read), not "SCAN <table>_…".
      const std::string scan = std::string("SCAN ") + table;
      const auto at = plan.find(scan);
      const auto end = at == std::string::npos ? at : at + scan.size();
      // The inbox is read oldest first from the partial index that holds only posts not yet
      // applied: a walk of what is pending, stopped at the LIMIT, never of what was applied.
      const bool pending_inbox =
          plan.find("USING INDEX webhook_posts_pending") == end + 1 && end != std::string::npos;
      const bool scans = at != std::string::npos && !pending_inbox &&
                         (end == plan.size() || (!std::isalnum(plan[end]) && plan[end] != '_'));
      EXPECT_FALSE(scans) << sql << "\n" << plan;
    }
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << sql << "\n" << plan;
  }
  EXPECT_GE(tracking_statements, 8) << "the audit saw the tracking statements";
}

INSTANTIATE_TEST_SUITE_P(Stores, SqliteStoreTest, ::testing::Values(std::string("sqlite")),
                         [](const auto& info) { return info.param; });

// A database as a Herald that knew migrations up to `version` left it.
std::optional<sqlite::Connection> old_database(const fs::path& dir, int version) {
  auto conn = sqlite::Connection::open((dir / "herald.db").string());
  if (!conn) return std::nullopt;
  bool ok = conn->exec(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT"
                    " NOT NULL, applied_at INTEGER NOT NULL)")
                .has_value();
  for (const auto& m : sqlite::migrations()) {
    if (!ok || m.version > version) break;
    ok = conn->exec(m.sql).has_value() && conn->exec("INSERT INTO schema_migrations VALUES (" +
                                                     std::to_string(m.version) + ", 'old', 0)")
                                              .has_value();
  }
  if (!ok) return std::nullopt;
  return std::move(*conn);
}

// An agent row in an old database, as every schema version has it.
bool insert_agent(sqlite::Connection& conn, const std::string& id) {
  return conn
      .exec("INSERT INTO agents (id, name, email, created_at, updated_at) VALUES ('" + id +
            "', 'A', 'a@example.com', 0, 0)")
      .has_value();
}

TEST(SqliteMigrationTest, CampaignCountersStartFromTheMessagesAlreadyQueued) {
  // Invariant: upgrading a database with campaigns in flight (schema 11) to counters gives
  // the same live counts the messages show, so a running campaign still completes.
  fs::path dir = fs::temp_directory_path() / ("herald-migrate-" + new_id());
  fs::create_directories(dir);
  std::string agent = new_id(), campaign = new_id();
  {
    auto conn = old_database(dir, 11);
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(insert_agent(*conn, agent));
    ASSERT_TRUE(
        conn->exec("INSERT INTO campaigns (id, agent_id, name, channel, template_key,"
                   " status, cursor, fanout_done, total, created_at, updated_at) VALUES"
                   " ('" +
                   campaign + "', '" + agent +
                   "', 'C', 'email', 'market_update', 'running', 'x', 1, 7, 0, 0)"));
    const char* statuses[] = {"queued", "sending", "sent",      "delivered",
                              "failed", "bounced", "suppressed"};
    for (const char* status : statuses) {
      ASSERT_TRUE(conn->exec(
          "INSERT INTO messages (id, agent_id, channel, kind, to_address, campaign_id, status,"
          " next_attempt_at, created_at, updated_at) VALUES ('" +
          new_id() + "', '" + agent + "', 'email', 'campaign', 'b@example.com', '" + campaign +
          "', '" + status + "', 0, 0, 0)"));
    }
  }
  {
    auto store = open_store(dir.string());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    auto counts = (*store)->campaigns().counts(agent, campaign);
    ASSERT_TRUE(counts.has_value());
    EXPECT_EQ(counts->queued, 2);
    EXPECT_EQ(counts->sent, 2);
    EXPECT_EQ(counts->failed, 2);
    EXPECT_EQ(counts->suppressed, 1);
    EXPECT_EQ((*store)->campaigns().backlog(agent, campaign).value(), 2);
  }
  fs::remove_all(dir);
}

TEST(SqliteMigrationTest, IntegrationsKeepWorkingInTheGenericShape) {
  // Invariant: upgrading a database whose integrations have the per-provider columns (schema
  // 14) keeps every agent's accounts: provider, sender, fields, status, rate limit, and sealed
  // secrets that still open under their original field binding.
  fs::path dir = fs::temp_directory_path() / ("herald-migrate-" + new_id());
  fs::create_directories(dir);
  const std::string agent = new_id();
  const secrets::Sealer sealer(secrets::MasterKey::generate());
  const std::string key = sealer.seal("key-0123456789abcdef", agent, "email.api_key");
  const std::string token = sealer.seal("twilio-token-abcdef", agent, "sms.auth_token");
  {
    auto conn = old_database(dir, 14);
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(insert_agent(*conn, agent));
    ASSERT_TRUE(conn->exec(
        "INSERT INTO integrations (agent_id, channel, provider, secret_sealed, secret_hint,"
        " account_sid, address, domain, region, active, status, status_reason, connected_at,"
        " updated_at, rate_limit) VALUES ('" +
        agent + "', 'email', 'mailgun', '" + key +
        "', '…cdef', '', 'matt@mg.w.com', 'mg.w.com', 'eu', 0, 'failing', 'key revoked', 5, 6,"
        " 12.5), ('" +
        agent + "', 'sms', 'twilio', '" + token +
        "', '…cdef',"
        " 'AC0123456789abcdef0123456789abcdef', '+14155552671', '', 'us', 1, 'ok', '', 7, 8, 0)"));
  }
  auto store = open_store(dir.string());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto rec = (*store)->find_agent(agent);
  ASSERT_TRUE(rec.has_value() && rec->has_value());
  const auto& email = (*rec)->email;
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->provider, "mailgun");
  EXPECT_EQ(email->sender, "matt@mg.w.com");
  EXPECT_EQ(email->params.get("domain"), "mg.w.com");
  EXPECT_EQ(email->params.get("region"), "eu");
  EXPECT_FALSE(email->active);
  EXPECT_EQ(email->status, IntegrationStatus::failing);
  EXPECT_EQ(email->status_reason, "key revoked");
  EXPECT_EQ(email->rate_limit, 12.5);
  ASSERT_NE(email->secrets.find("apiKey"), nullptr);
  EXPECT_EQ(email->secrets.find("apiKey")->hint, "…cdef");
  EXPECT_EQ(sealer.open(email->secrets.find("apiKey")->sealed, agent, "email.api_key")->reveal(),
            "key-0123456789abcdef");
  const auto& sms = (*rec)->sms;
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(sms->provider, "twilio");
  EXPECT_EQ(sms->sender, "+14155552671");
  EXPECT_EQ(sms->params.get("accountSid"), "AC0123456789abcdef0123456789abcdef");
  EXPECT_EQ(sms->params.find("domain"), nullptr);
  ASSERT_NE(sms->secrets.find("authToken"), nullptr);
  EXPECT_EQ(sealer.open(sms->secrets.find("authToken")->sealed, agent, "sms.auth_token")->reveal(),
            "twilio-token-abcdef");
  // Key rotation sees each sealed field.
  auto all = (*store)->all_sealed_secrets();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u);
  fs::remove_all(dir);
}

TEST(SqliteMigrationTest, MessagesSentBeforeMigration18AreStillFoundByTheProvidersId) {
  // Invariant: narrowing the provider-id index (schema 18) keeps every message already sent
  // in it, so a late event that names only the provider's id still finds its message.
  fs::path dir = fs::temp_directory_path() / ("herald-migrate-" + new_id());
  fs::create_directories(dir);
  const std::string agent = new_id(), message = new_id();
  {
    auto conn = old_database(dir, 17);
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(insert_agent(*conn, agent));
    ASSERT_TRUE(conn->exec(
        "INSERT INTO messages (id, agent_id, channel, kind, to_address, status, next_attempt_at,"
        " created_at, updated_at, provider_message_id, route_provider, route_via) VALUES ('" +
        message + "', '" + agent +
        "', 'email', 'transactional', 'b@example.com', 'sent', 0, 0, 0, 're-old-1', 'resend',"
        " 'agent')"));
  }
  auto store = open_store(dir.string());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  DeliveryEvent e;
  e.type = EventType::delivered;
  e.event_key = "old-1";
  e.provider_message_id = "re-old-1";
  e.recipient = "b@example.com";
  e.occurred_at = Clock::now();
  const WebhookPost post{new_id(), "resend", agent, "", "https://h/x", {}, "{}", Clock::now()};
  auto applied = (*store)->tracking().apply_events(post, std::vector<DeliveryEvent>{e},
                                                   TrackingPolicy{}, Clock::now());
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_EQ((*(*store)->find_message(message, ""))->message.status, MessageStatus::delivered);
  fs::remove_all(dir);
}

TEST(SqliteMigrationTest, WebhookPostsKeptBeforeSchema20MoveToTheInboxFile) {
  // Invariant: posts the main file kept before the receivers' inbox had a file of its own
  // (schema 16 to 19) move there whole: a pending one is still applied, a replay key seen
  // before is still refused, and the main file no longer holds them.
  fs::path dir = fs::temp_directory_path() / ("herald-migrate-" + new_id());
  fs::create_directories(dir);
  {
    auto conn = old_database(dir, 19);
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(conn->exec(
        "INSERT INTO webhook_posts (id, provider, owner, replay_key, url, headers, body,"
        " received_at, applied_at) VALUES ('p1', 'mailgun', 'platform', 'token-1', 'https://h/m',"
        " '[]', X'7B7D', 1000, 0), ('p2', 'mailgun', 'platform', 'token-2', 'https://h/m', '[]',"
        " X'7B7D', 1000, 2000)"));
  }
  auto store = open_store(dir.string());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto pending = (*store)->tracking().pending_posts(Clock::now(), 10);
  ASSERT_TRUE(pending.has_value()) << pending.error().message;
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().id, "p1");
  EXPECT_EQ(pending->front().body, "{}");
  const WebhookPost replay{new_id(),      "mailgun", "platform", "token-2",
                           "https://h/m", {},        "{}",       Clock::now()};
  EXPECT_FALSE(*(*store)->tracking().record_post(replay)) << "its token was seen before";
  store->reset();
  EXPECT_TRUE(fs::exists(dir / "herald-webhooks.db"));
  auto main = sqlite::Connection::open((dir / "herald.db").string());
  ASSERT_TRUE(main.has_value());
  auto st = main->prepare("SELECT count(*) FROM sqlite_master WHERE name = 'webhook_posts'");
  ASSERT_TRUE(st.has_value());
  ASSERT_EQ((*st)->step(), SQLITE_ROW);
  EXPECT_EQ((*st)->int64(0), 0) << "the main file no longer holds the posts";
  (*st)->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace herald::store
