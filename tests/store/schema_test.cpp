// The schema version check `herald serve` and `herald worker` make when they open a store
// (Schema::require_current), on both stores: a new database is set up, a schema behind or ahead
// of the binary's migrations is refused with what to do, and `herald migrate` is what upgrades.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <latch>
#include <thread>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "store/postgres/migrations.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace herald::store {
namespace {

// A new, empty database of the parameter's kind, not opened yet.
class SchemaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = db_.create(GetParam());
    ASSERT_TRUE(url.has_value()) << GetParam() << " store: " << url.error();
    url_ = *url;
  }
  void TearDown() override { db_.destroy(); }

  bool postgres() const { return GetParam() == "postgres"; }

  // The last migration this binary has for the parameter's store.
  int latest() const {
    return postgres() ? postgres::migrations().back().version : sqlite::migrations().back().version;
  }

  // Runs `sql` on the database directly, as an operator (or another binary) would.
  void exec(const std::string& sql) {
    if (postgres()) {
      pqxx::connection conn(url_);
      pqxx::nontransaction(conn).exec(sql);
      return;
    }
    std::filesystem::create_directories(url_);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((std::filesystem::path(url_) / "herald.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string why = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << why;
  }

  TestDatabase db_;
  std::string url_;
};

TEST_P(SchemaTest, AServiceSetsUpANewDatabase) {
  // Invariant: serve and worker start on a new, empty database (the demo and a first start),
  // setting up the whole schema.
  auto s = open_store(url_, Schema::require_current);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_TRUE((*s)->list_agents("", 10).has_value());
  s->reset();
  auto again = open_store(url_, Schema::require_current);
  ASSERT_TRUE(again.has_value()) << "a current schema opens: " << again.error().message;
}

TEST_P(SchemaTest, ASchemaAheadOfTheBinaryIsRefusedEvenByMigrate) {
  // Invariant: an older binary never runs on a schema a newer one migrated (it could misread
  // what the newer one writes), and says so, naming both versions.
  ASSERT_TRUE(migrate(url_).has_value());
  exec("INSERT INTO schema_migrations VALUES (" + std::to_string(latest() + 1) +
       ", 'from a newer herald', 0)");
  auto s = open_store(url_, Schema::require_current);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, Errc::config);
  EXPECT_NE(s.error().message.find("version " + std::to_string(latest() + 1)), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("newer herald"), std::string::npos) << s.error().message;
  auto m = migrate(url_);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("newer herald"), std::string::npos) << m.error().message;
}

TEST_P(SchemaTest, ProcessesStartingTogetherOnANewDatabaseAllStart) {
  // Invariant: several processes starting at once on a new database set it up once between
  // them, and none finds half a schema (which it would refuse as behind).
  std::latch start(3);
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto s = open_store(url_, Schema::require_current);
      EXPECT_TRUE(s.has_value()) << s.error().message;
      if (s) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 3);
}

HERALD_STORE_TEST_SUITE(SchemaTest);

// SQLite has migrations to be behind on (PostgreSQL's schema starts at SQLite's 19th).
class SqliteSchemaTest : public SchemaTest {};

TEST_P(SqliteSchemaTest, ASchemaBehindTheBinaryWaitsForHeraldMigrate) {
  // Invariant: serve and worker never upgrade a schema as a side effect of starting: on one
  // behind they stop, telling the operator to run `herald migrate`; after it they start.
  std::string sql =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT"
      " NULL, applied_at INTEGER NOT NULL);";
  for (const sqlite::Migration& m : sqlite::migrations()) {
    if (m.version == latest()) break;
    sql += std::string(m.sql) + ";INSERT INTO schema_migrations VALUES (" +
           std::to_string(m.version) + ", 'old', 0);";
  }
  exec(sql);
  auto s = open_store(url_, Schema::require_current);
  ASSERT_FALSE(s.has_value()) << "a schema behind was opened";
  EXPECT_EQ(s.error().code, Errc::config);
  EXPECT_NE(s.error().message.find("herald migrate"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("version " + std::to_string(latest() - 1)), std::string::npos)
      << s.error().message;

  auto migrated = migrate(url_);
  ASSERT_TRUE(migrated.has_value()) << migrated.error().message;
  EXPECT_EQ(*migrated, latest());
  auto after = open_store(url_, Schema::require_current);
  EXPECT_TRUE(after.has_value()) << after.error().message;
}

INSTANTIATE_TEST_SUITE_P(Stores, SqliteSchemaTest, ::testing::Values(std::string("sqlite")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace herald::store
