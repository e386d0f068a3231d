// Starting `herald serve`, `herald worker` and `herald migrate` as real processes against a
// database they cannot use: a malformed or unreachable HERALD_DATABASE_URL, a schema behind or
// ahead of the binary, a worker without a shared database. Each stops at once with a message
// that says what to fix, and never prints the database password.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "e2e/harness.h"

namespace herald::e2e {
namespace {

constexpr const char* kPassword = "pa55-W0rd-x7";

// Runs `herald <command>` with a fresh data directory and `env` until it exits; returns its
// exit status and its output.
std::pair<int, std::string> run_herald(const std::string& command,
                                       std::map<std::string, std::string> env) {
  const auto dir = std::filesystem::temp_directory_path() / ("herald-start-" + new_id());
  std::filesystem::create_directories(dir);
  env.emplace("HERALD_DATA_DIR", (dir / "data").string());
  env.emplace("HERALD_PLATFORM_TOKEN", "test-platform-token-0123456789");
  env.emplace("HERALD_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  std::vector<std::string> args{HERALD_BINARY, command};
  if (command == "serve") args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  Process p(args, env, dir / "out.log");
  const int status = p.wait_exit(std::chrono::seconds(60));
  std::string out = p.log_text();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return {status, out};
}

// Whether `out` names HERALD_DATABASE_URL and shows no part of the password.
::testing::AssertionResult names_setting_hides_password(const std::string& out) {
  if (out.find("HERALD_DATABASE_URL") == std::string::npos)
    return ::testing::AssertionFailure() << "does not name the setting: " << out;
  for (const char* part : {"pa55", "W0rd", "x7"})
    if (out.find(part) != std::string::npos)
      return ::testing::AssertionFailure() << "shows the password: " << out;
  return ::testing::AssertionSuccess();
}

// A loopback port nothing listens on.
std::string closed_address() {
  return "127.0.0.1:" + std::to_string(free_port());
}

TEST(Startup, AMalformedDatabaseUrlStopsEveryCommandNamingTheSettingNotThePassword) {
  // Invariant: a HERALD_DATABASE_URL that cannot be parsed stops serve, worker and migrate
  // before anything starts, with a message naming the setting, and no part of the password is
  // printed (wherever the mistake is).
  for (const std::string& url :
       std::vector<std::string>{"postgres://herald:" + std::string(kPassword) + "@db:notaport/h",
                                std::string("postgres://herald:pa55@W0rd-x7@db.example/h"),
                                "postgresql://herald:" + std::string(kPassword) + "@[::1/h"}) {
    for (const char* command : {"serve", "worker", "migrate"}) {
      auto [status, out] = run_herald(command, {{"HERALD_DATABASE_URL", url}});
      EXPECT_EQ(status, 2) << command << " " << url << ": " << out;
      EXPECT_TRUE(names_setting_hides_password(out)) << command << " " << url;
    }
  }
}

TEST(Startup, AnUnreachableDatabaseStopsEveryCommandNamingTheSettingNotThePassword) {
  // Invariant: a database that does not answer stops serve, worker and migrate with a message
  // naming the setting and where it tried, never the password (in the URL or as an option).
  const std::string host = closed_address();
  for (const std::string& url : std::vector<std::string>{
           "postgres://herald:" + std::string(kPassword) + "@" + host + "/herald",
           "postgres://herald@" + host + "/herald?password=" + std::string(kPassword)}) {
    for (const char* command : {"serve", "worker", "migrate"}) {
      auto [status, out] = run_herald(command, {{"HERALD_DATABASE_URL", url}});
      EXPECT_EQ(status, 2) << command << ": " << out;
      EXPECT_TRUE(names_setting_hides_password(out)) << command;
      EXPECT_NE(out.find("cannot connect"), std::string::npos) << command << ": " << out;
      EXPECT_NE(out.find(host), std::string::npos) << "where it tried: " << out;
    }
  }
}

TEST(Startup, AWorkerNeedsADatabaseSeveralProcessesShare) {
  // Invariant: `herald worker` on SQLite (a file one `herald serve` owns and sends from) stops,
  // saying to use PostgreSQL, instead of sending beside serve.
  auto [status, out] = run_herald("worker", {});
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("HERALD_DATABASE_URL"), std::string::npos) << out;
  EXPECT_NE(out.find("postgres://"), std::string::npos) << out;
}

TEST(Startup, ServeStopsOnAnSqliteSchemaBehindItSayingToRunHeraldMigrate) {
  // Invariant: serve never upgrades an existing SQLite database's schema by itself: on one
  // behind it stops, telling the operator to run `herald migrate` (which is what upgrades).
  const auto dir = std::filesystem::temp_directory_path() / ("herald-schema-" + new_id());
  const std::string url = "sqlite:" + (dir / "herald.db").string();
  std::filesystem::create_directories(dir);
  ASSERT_EQ(run_herald("migrate", {{"HERALD_DATABASE_URL", url}}).first, 0);
  // As the database was before the binary's last migration (its schema_migrations row gone).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "herald.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM"
                         " schema_migrations)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto [status, out] = run_herald("serve", {{"HERALD_DATABASE_URL", url}});
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("run `herald migrate`"), std::string::npos) << out;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(Startup, ServeAndWorkerStopOnAPostgresSchemaANewerHeraldMigrated) {
  // Invariant: an older binary never runs on a schema a newer one migrated: serve and worker
  // stop, saying so, on a PostgreSQL database whose schema is ahead of their migrations.
  const std::string url = e2e_database_url("postgres");
  auto [migrated, migrate_out] = run_herald("migrate", {{"HERALD_DATABASE_URL", url}});
  ASSERT_EQ(migrated, 0) << migrate_out;
  {
    pqxx::connection conn(url);
    pqxx::nontransaction(conn).exec(
        "INSERT INTO schema_migrations SELECT MAX(version) + 1, 'from a newer herald', 0 FROM"
        " schema_migrations");
  }
  for (const char* command : {"serve", "worker"}) {
    auto [status, out] = run_herald(command, {{"HERALD_DATABASE_URL", url}});
    EXPECT_EQ(status, 2) << command << ": " << out;
    EXPECT_NE(out.find("a newer herald has migrated it"), std::string::npos) << command << out;
  }
  test::PgServer::instance().drop_database(url);
}

}  // namespace
}  // namespace herald::e2e
