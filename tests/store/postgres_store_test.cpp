// What only the PostgreSQL store does: several processes share the database (claims and campaign
// takes never overlap, start-up takes back only expired leases), its schema is keyed by agent
// for distribution, and HERALD_DATABASE_URL's password never appears in an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "core/id.h"
#include "store/postgres/pg_store.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace herald::store {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class PostgresStoreTest : public StoreTest {
 protected:
  std::string agent() {
    AgentRow a{new_id(), "Agent", new_id() + "@example.com", true, Clock::now()};
    EXPECT_TRUE(store_->create_agent(a).has_value());
    return a.id;
  }

  static Message message(const std::string& agent_id,
                         MessageKind kind = MessageKind::transactional) {
    Message m;
    m.id = new_id();
    m.agent_id = agent_id;
    m.kind = kind;
    m.template_key = "seller_welcome";
    m.to_address = "seller@example.com";
    m.next_attempt_at = m.created_at = m.updated_at = Clock::now();
    return m;
  }

  // Another store on the same database, as a second Herald process has.
  std::unique_ptr<Store> second_process() {
    auto s = open_store(url_);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  Campaign running_campaign(const std::string& agent_id) {
    Campaign c;
    c.id = new_id();
    c.agent_id = agent_id;
    c.name = "Update";
    c.template_key = "market_update";
    c.status = CampaignStatus::running;
    c.created_at = c.updated_at = Clock::now();
    EXPECT_TRUE(store_->campaigns().create(c).has_value());
    return c;
  }
};

TEST_P(PostgresStoreTest, AtStartUpOnlyExpiredLeasesReturnToTheQueue) {
  // Invariant: a process starting beside live ones never takes back a claim whose lease still
  // runs (its holder is alive), and does take back one whose lease ran out.
  const std::string a = agent();
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{message(a)}).has_value());
  const auto now = Clock::now();
  ASSERT_EQ(store_->claim_due({now, now + minutes(5), "w", 10, std::nullopt})->size(), 1u);
  // A campaign chunk taken with a live lease stays with its taker too.
  const Campaign c = running_campaign(a);
  const std::vector<Message> taken{message(a, MessageKind::campaign)};
  ASSERT_TRUE(*store_->campaigns().take(c, "", taken, "x", false,
                                        ChunkLease{new_id(), "w", now + minutes(5)}, now));

  auto other = second_process();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(*other->recover_interrupted(now), 0) << "the leases still run";
  EXPECT_TRUE(other->claim_due({now, now + minutes(5), "w2", 10, std::nullopt})->empty());
  EXPECT_EQ(*other->recover_interrupted(now + minutes(6)), 2) << "a message and a chunk's one";
  const auto later = Clock::now() + seconds(1);
  EXPECT_EQ(other->claim_due({later, later + minutes(5), "w2", 10, std::nullopt})->size(), 2u);
}

// Claims `kind` (nullopt: the fair lane) from `store` in passes of `batch` until one is empty.
std::vector<Message> drain(Store& store, std::optional<MessageKind> kind, const std::string& worker,
                           int batch) {
  std::vector<Message> out;
  for (;;) {
    const auto now = Clock::now();
    auto got = store.claim_due({now, now + minutes(5), worker, batch, kind});
    EXPECT_TRUE(got.has_value()) << got.error().message;
    if (!got || got->empty()) return out;
    out.insert(out.end(), got->begin(), got->end());
  }
}

TEST_P(PostgresStoreTest, ProcessesClaimingSideBySideNeverTakeTheSameMessage) {
  // Invariant: however many processes claim at once, each due message is claimed by exactly one
  // of them, and a batch's members go to the same claimer.
  std::vector<std::string> agents;
  for (int i = 0; i < 5; ++i) agents.push_back(agent());
  std::vector<Message> all;
  for (int i = 0; i < 600; ++i) {
    Message m = message(agents[static_cast<std::size_t>(i) % agents.size()],
                        i % 2 ? MessageKind::campaign : MessageKind::transactional);
    if (i % 3 == 0) m.batch_id = "b" + std::to_string(i / 30);  // some batches across agents
    all.push_back(m);
  }
  ASSERT_TRUE(store_->enqueue(all).has_value());
  auto other = second_process();
  ASSERT_NE(other, nullptr);

  std::mutex mu;
  std::map<std::string, std::string> claimed_by;  // message id → worker
  std::vector<std::string> twice;
  std::latch start(4);
  auto worker = [&](Store& s, std::string name, std::optional<MessageKind> kind) {
    start.arrive_and_wait();
    for (const Message& m : drain(s, kind, name, 7)) {
      std::lock_guard lock(mu);
      if (!claimed_by.emplace(m.id, name).second) twice.push_back(m.id);
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(worker, std::ref(*store_), "a-lane", MessageKind::transactional);
  threads.emplace_back(worker, std::ref(*store_), "a-fair", std::nullopt);
  threads.emplace_back(worker, std::ref(*other), "b-lane", MessageKind::transactional);
  threads.emplace_back(worker, std::ref(*other), "b-fair", std::nullopt);
  for (auto& t : threads) t.join();

  EXPECT_TRUE(twice.empty()) << twice.size() << " messages claimed twice";
  EXPECT_EQ(claimed_by.size(), all.size());
  std::map<std::string, std::set<std::string>> batch_workers;
  for (const Message& m : all)
    if (!m.batch_id.empty()) batch_workers[m.batch_id].insert(claimed_by[m.id]);
  for (const auto& [batch, workers] : batch_workers)
    EXPECT_EQ(workers.size(), 1u) << "batch " << batch << " was split";
}

TEST_P(PostgresStoreTest, ProcessesTakingOneCampaignNeverTakeTheSameRecipients) {
  // Invariant: when two processes take the same page of a campaign's audience at once, exactly
  // one takes it (the campaign's row lock orders them), so no recipient is sent twice.
  const std::string a = agent();
  auto other = second_process();
  ASSERT_NE(other, nullptr);
  for (int round = 0; round < 10; ++round) {
    const Campaign c = running_campaign(a);
    std::vector<Message> page;
    for (int i = 0; i < 20; ++i) page.push_back(message(a, MessageKind::campaign));
    std::atomic<int> took{0};
    std::latch start(2);
    auto taker = [&](Store& s) {
      start.arrive_and_wait();
      const auto now = Clock::now();
      auto r = s.campaigns().take(c, "", page, page.back().id, false,
                                  ChunkLease{new_id(), "w", now + minutes(5)}, now);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      if (*r) ++took;
    };
    std::thread t1(taker, std::ref(*store_)), t2(taker, std::ref(*other));
    t1.join();
    t2.join();
    EXPECT_EQ(took.load(), 1);
    EXPECT_EQ(store_->campaigns().counts(a, c.id)->queued, 20);
    EXPECT_EQ((*store_->campaigns().find(a, c.id))->cursor, page.back().id);
  }
}

TEST_P(PostgresStoreTest, ALargeBatchOfOutcomesIsWrittenWhole) {
  // Invariant: a pass's outcomes (queued messages and fresh campaign messages, with history,
  // suppressions and campaign counters) are all written, whatever their number.
  const std::string a = agent();
  const Campaign c = running_campaign(a);
  std::vector<Message> queued, fresh;
  for (int i = 0; i < 300; ++i) queued.push_back(message(a));
  ASSERT_TRUE(store_->enqueue(queued).has_value());
  const auto now = Clock::now();
  ASSERT_EQ(
      store_->claim_due({now, now + minutes(5), "w", 1000, MessageKind::transactional})->size(),
      300u);
  for (int i = 0; i < 300; ++i) {
    Message m = message(a, MessageKind::campaign);
    m.campaign_id = c.id;
    m.to_address = "r" + std::to_string(i) + "@example.com";
    fresh.push_back(m);
  }
  const RouteSummary route{"resend", Via::platform, "P <p@p.com>", "", Via::platform};
  std::vector<Outcome> outcomes;
  for (const Message& m : queued) {
    Outcome o{.message_id = m.id, .agent_id = a, .status = MessageStatus::sent, .attempts = 2};
    o.provider_message_id = "pm-" + m.id;
    o.route = route;
    o.attempts_made = {Attempt{1, now, route, "retryable", 503, "busy", ""},
                       Attempt{2, now, route, "accepted", 200, "", o.provider_message_id}};
    o.events = {{now, MessageStatus::sent, "accepted by resend"}};
    outcomes.push_back(o);
  }
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    Outcome o{.message_id = fresh[i].id, .agent_id = a};
    o.status = i % 3 == 0 ? MessageStatus::suppressed : MessageStatus::sent;
    o.attempts = o.status == MessageStatus::sent ? 1 : 0;
    o.fresh = &fresh[i];
    if (i % 5 == 0)
      o.suppression = Suppression{new_id(),
                                  a,
                                  Channel::email,
                                  fresh[i].to_address,
                                  SuppressionReason::unsubscribed,
                                  "test",
                                  "",
                                  now};
    outcomes.push_back(o);
  }
  ASSERT_TRUE(store_->record_outcomes(outcomes).has_value());

  auto detail = *store_->find_message(queued[17].id, a);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->message.status, MessageStatus::sent);
  EXPECT_EQ(detail->attempts.size(), 2u);
  EXPECT_EQ(detail->history.size(), 2u);
  EXPECT_EQ((*store_->find_message(fresh[3].id, a))->message.status, MessageStatus::suppressed);
  const auto counts = *store_->campaigns().counts(a, c.id);
  EXPECT_EQ(counts.sent, 200);
  EXPECT_EQ(counts.suppressed, 100);
  EXPECT_TRUE(*store_->contacts().is_suppressed(a, Channel::email, "r5@example.com"));
  std::int64_t sent = 0;
  const auto by_status = store_->count_by_status();
  ASSERT_TRUE(by_status.has_value());
  for (const auto& [status, n] : *by_status)
    if (status == MessageStatus::sent) sent = n;
  EXPECT_EQ(sent, 500);
}

TEST_P(PostgresStoreTest, AStoreCarriesOnWhenTheServerDropsItsConnections) {
  // Invariant: after the server drops the store's connections (a restart, a failover, an
  // operator's pg_terminate_backend), the next operations open new ones instead of failing.
  const std::string a = agent();
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{message(a)}).has_value());
  {
    pqxx::connection admin(url_);
    // (The timeout makes each call wait until its backend is gone.)
    pqxx::nontransaction(admin).exec(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname ="
        " current_database() AND pid <> pg_backend_pid()");
  }
  auto found = store_->find_agent(a);
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_TRUE(found->has_value());
  const auto now = Clock::now() + seconds(1);
  auto claimed = store_->claim_due({now, now + minutes(5), "w", 10, std::nullopt});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().message;
  EXPECT_EQ(claimed->size(), 1u);
}

TEST_P(PostgresStoreTest, OneProcessSweepsAtATimeAndTheOthersSkip) {
  // Invariant: the scheduler's duties are never run by two processes at once: while one holds
  // the sweep (its transaction's advisory lock), another's sweep changes nothing and says so.
  const std::string a = agent();
  const auto now = Clock::now();
  ASSERT_TRUE(store_->enqueue(std::vector<Message>{message(a)}).has_value());
  ASSERT_EQ(store_->claim_due({now, now + minutes(1), "w", 10, std::nullopt})->size(), 1u);
  auto other = second_process();
  ASSERT_NE(other, nullptr);
  {
    pqxx::connection holder(url_);
    pqxx::work tx(holder);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(postgres::kSweepLock) + ")");
    auto skipped = other->sweep(now + minutes(2), /*requeue=*/true);
    ASSERT_TRUE(skipped.has_value()) << skipped.error().message;
    EXPECT_FALSE(skipped->ran);
    EXPECT_EQ(skipped->requeued, 0);
    tx.commit();  // the sweep in progress ends
  }
  auto swept = other->sweep(now + minutes(2), /*requeue=*/true);
  ASSERT_TRUE(swept.has_value()) << swept.error().message;
  EXPECT_TRUE(swept->ran);
  EXPECT_EQ(swept->requeued, 1);
}

TEST_P(PostgresStoreTest, AnOutageIsAStorageErrorWorthRetrying) {
  // Invariant: once running, a database that cannot be reached is a retryable storage error
  // (workers wait and try again), not a failure of the call itself.
  const std::string a = agent();
  // The database is closed to connections, and the store's are ended, from the server's own.
  const std::string name = url_.substr(url_.rfind('/') + 1);
  pqxx::connection admin(url_.substr(0, url_.rfind('/')) + "/postgres");
  auto run = [&](const std::string& sql) { pqxx::nontransaction(admin).exec(sql); };
  run("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false");
  run("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '" + name +
      "'");
  auto found = store_->find_agent(a);
  run("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, Errc::storage) << found.error().message;
  EXPECT_TRUE(found.error().retryable) << found.error().message;
  auto back = store_->find_agent(a);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(back->has_value());
}

TEST_P(PostgresStoreTest, PoolSizeIsAnOptionOfTheUrl) {
  // Invariant: ?pool_size=N sizes the pool (and is not passed on to libpq); a bad value is a
  // configuration error naming HERALD_DATABASE_URL.
  auto small = open_store(url_ + "?pool_size=1");
  ASSERT_TRUE(small.has_value()) << small.error().message;
  EXPECT_TRUE((*small)->list_agents("", 10).has_value());
  auto bad = open_store(url_ + "?pool_size=0");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::config);
  EXPECT_NE(bad.error().message.find("HERALD_DATABASE_URL"), std::string::npos);
}

// Every way a tenant table's keys break the rule that they include agent_id (so the table can
// be distributed by agent): a tenant table is one with an agent_id column.
std::vector<std::string> tenant_key_violations(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  const char* kTenant =
      "EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = %s AND a.attname = 'agent_id'"
      " AND NOT a.attisdropped)";
  auto tenant = [&](const char* rel) {
    char buf[256];
    std::snprintf(buf, sizeof buf, kTenant, rel);
    return std::string(buf);
  };
  auto has_agent_key = [](const char* rel, const char* keys) {
    return std::string("EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = ") + rel +
           " AND a.attname = 'agent_id' AND a.attnum = ANY(" + keys + "))";
  };
  const std::string in_schema =
      " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()";
  // Tenant tables without a primary key.
  for (const auto& r : tx.exec("SELECT c.relname FROM pg_class c" + in_schema +
                               " AND c.relkind = 'r' AND " + tenant("c.oid") +
                               " AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid ="
                               " c.oid AND x.indisprimary)"))
    out.push_back(r[0].as<std::string>() + ": no primary key");
  // Primary keys and unique constraints or indexes without agent_id.
  for (const auto& r : tx.exec("SELECT c.relname, i.relname FROM pg_index x JOIN pg_class c ON"
                               " c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid" +
                               in_schema + " AND x.indisunique AND " + tenant("c.oid") +
                               " AND NOT " + has_agent_key("c.oid", "x.indkey")))
    out.push_back(r[0].as<std::string>() + ": " + r[1].as<std::string>() + " lacks agent_id");
  // Foreign keys to a tenant table, or to agents, not joined on agent_id.
  for (const auto& r :
       tx.exec("SELECT c.relname, k.conname FROM pg_constraint k JOIN pg_class c ON c.oid ="
               " k.conrelid" +
               in_schema + " AND k.contype = 'f' AND ((" + tenant("k.confrelid") + " AND NOT (" +
               has_agent_key("k.conrelid", "k.conkey") + " AND " +
               has_agent_key("k.confrelid", "k.confkey") +
               ")) OR (k.confrelid = 'agents'::regclass" + " AND " + tenant("k.conrelid") +
               " AND NOT " + has_agent_key("k.conrelid", "k.conkey") + "))"))
    out.push_back(r[0].as<std::string>() + ": " + r[1].as<std::string>() +
                  " does not join on agent_id");
  return out;
}

TEST_P(PostgresStoreTest, EveryTenantTableIsKeyedByAgent) {
  // Invariant: every table holding an agent's rows has agent_id in its primary key, in each
  // unique constraint and in each foreign key, so it can be distributed by agent (Citus).
  std::vector<std::string> violations = tenant_key_violations(url_);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
}

TEST_P(PostgresStoreTest, TheTenantKeyCheckFindsEveryKindOfViolation) {
  // Invariant: the catalog check above fails on each way a table can break the rule.
  pqxx::connection conn(url_);
  pqxx::nontransaction(conn).exec(
      "CREATE TABLE bad_key (agent_id TEXT, id TEXT PRIMARY KEY, ref TEXT UNIQUE);"
      "CREATE TABLE bad_fk (agent_id TEXT, id TEXT, bad TEXT REFERENCES bad_key (id),"
      " owner TEXT REFERENCES agents (id), PRIMARY KEY (agent_id, id));"
      "CREATE TABLE no_key (agent_id TEXT)");
  std::vector<std::string> v = tenant_key_violations(url_);
  auto has = [&](const std::string& text) {
    return std::ranges::any_of(v, [&](const std::string& s) { return s.starts_with(text); });
  };
  EXPECT_TRUE(has("bad_key: bad_key_pkey")) << ::testing::PrintToString(v);
  EXPECT_TRUE(has("bad_key: bad_key_ref_key")) << ::testing::PrintToString(v);
  EXPECT_TRUE(has("bad_fk: bad_fk_bad_fkey")) << ::testing::PrintToString(v);
  EXPECT_TRUE(has("bad_fk: bad_fk_owner_fkey")) << ::testing::PrintToString(v);
  EXPECT_TRUE(has("no_key: no primary key")) << ::testing::PrintToString(v);
  EXPECT_EQ(v.size(), 5u) << ::testing::PrintToString(v);
}

INSTANTIATE_TEST_SUITE_P(Stores, PostgresStoreTest, ::testing::Values(std::string("postgres")),
                         [](const auto& info) { return info.param; });

// ---- HERALD_DATABASE_URL errors (no server needed) ----

constexpr const char* kPassword = "s3cr3t-Pa55";

// Whether `e` is a configuration error that names the setting and never shows the password.
::testing::AssertionResult names_setting_hides_password(const Error& e) {
  if (e.code != Errc::config) return ::testing::AssertionFailure() << "not config: " << e.message;
  if (e.message.find("HERALD_DATABASE_URL") == std::string::npos)
    return ::testing::AssertionFailure() << "does not name the setting: " << e.message;
  for (const char* part : {"s3cr3t", "Pa55", "s3cr3t%2DPa55"})
    if (e.message.find(part) != std::string::npos)
      return ::testing::AssertionFailure() << "shows the password: " << e.message;
  return ::testing::AssertionSuccess();
}

TEST(PostgresUrlTest, AMalformedUrlNamesTheSettingAndNeverShowsThePassword) {
  // Invariant: a wrong HERALD_DATABASE_URL stops start-up with a message naming the setting,
  // whatever part is wrong, and no part of the password is in it.
  for (const char* url : {"postgres://alice:s3cr3t-Pa55@db.example:notaport/herald",
                          "postgres://alice:s3cr3t-Pa55@db.example:99999/herald",
                          "postgres://alice:s3cr3t@Pa55@db.example/herald",
                          "postgresql://alice:s3cr3t-Pa55@[::1/herald",
                          "postgres://alice:s3cr3t-Pa55@db.example/herald?pool_size=many"}) {
    auto s = open_store(url);
    ASSERT_FALSE(s.has_value()) << url;
    EXPECT_TRUE(names_setting_hides_password(s.error())) << url;
    auto v = migrate(url);
    ASSERT_FALSE(v.has_value()) << url;
    EXPECT_TRUE(names_setting_hides_password(v.error())) << url;
  }
}

TEST(PostgresUrlTest, AnUnreachableServerNamesTheSettingAndNeverShowsThePassword) {
  // Invariant: when the server cannot be reached or refuses, the error names the setting and
  // where it tried, and no spelling of the password is in it (in the URL or as an option).
  const int closed_port = [] {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return static_cast<int>(ntohs(addr.sin_port));
  }();
  const std::string host = "127.0.0.1:" + std::to_string(closed_port);
  for (const std::string& url :
       {"postgres://alice:" + std::string(kPassword) + "@" + host + "/herald",
        "postgresql://alice:s3cr3t%2DPa55@" + host + "/herald?sslmode=disable",
        "postgres://alice@" + host + "/herald?password=" + std::string(kPassword),
        "postgres://alice:" + std::string(kPassword) + "@no-such-host.invalid/herald"}) {
    auto s = open_store(url);
    ASSERT_FALSE(s.has_value()) << url;
    EXPECT_TRUE(names_setting_hides_password(s.error())) << url;
    EXPECT_NE(s.error().message.find("cannot connect"), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace herald::store
