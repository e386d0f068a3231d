#include "store/sqlite/db.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace herald::store::sqlite {

namespace {

std::atomic<bool> g_audit{false};
std::mutex g_audit_mu;
std::vector<std::pair<std::string, std::string>> g_plans;

// One line per plan step, indented by depth as the sqlite3 shell shows it.
std::string explain(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  std::string plan;
  std::string q = "EXPLAIN QUERY PLAN " + sql;
  if (sqlite3_prepare_v2(db, q.c_str(), static_cast<int>(q.size()), &st, nullptr) != SQLITE_OK)
    return "(no plan: " + std::string(sqlite3_errmsg(db)) + ")";
  std::unordered_map<int, int> depth;
  while (sqlite3_step(st) == SQLITE_ROW) {
    int id = sqlite3_column_int(st, 0);
    int parent = sqlite3_column_int(st, 1);
    int d = parent == 0 ? 0 : depth[parent] + 1;
    depth[id] = d;
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan.append(static_cast<std::size_t>(d) * 2, ' ').append(text ? text : "").append("\n");
  }
  sqlite3_finalize(st);
  return plan;
}

}  // namespace

void audit_query_plans(bool on) {
  std::lock_guard lock(g_audit_mu);
  g_plans.clear();
  g_audit = on;
}

std::vector<std::pair<std::string, std::string>> audited_query_plans() {
  std::lock_guard lock(g_audit_mu);
  return g_plans;
}

Result<Connection> Connection::open(const std::string& path) {
  // Before SQLite initializes (the first open): no global allocation statistics, which take a
  // process-wide mutex on every allocation SQLite makes, on every connection.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  Connection c;
  int rc =
      sqlite3_open_v2(path.c_str(), &c.db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = c.db_ ? sqlite3_errmsg(c.db_) : sqlite3_errstr(rc);
    return fail(Errc::storage, "cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(c.db_, 10000);
  // WAL for concurrent readers; NORMAL sync is durable across process crashes in WAL mode.
  // Turning a new file to WAL takes it whole, and SQLite answers "locked" at once, without its
  // busy handler, to a process doing the same at that moment: try again for as long as the
  // busy timeout would have waited.
  constexpr std::string_view kPragmas =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8000;";
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto r = c.exec(kPragmas);
    if (r) return c;
    if ((sqlite3_errcode(c.db_) & 0xff) != SQLITE_BUSY ||
        std::chrono::steady_clock::now() >= give_up)
      return std::unexpected(r.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Connection::~Connection() {
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
}

Error Connection::error(std::string_view what) const {
  return Error{Errc::storage, std::string(what) + ": " + sqlite3_errmsg(db_)};
}

Result<void> Connection::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return fail(Errc::storage, "sqlite: " + msg);
  }
  return {};
}

Result<Statement*> Connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return fail(error("prepare"));
    }
    it = cache_.emplace(sql, Statement(stmt)).first;
    if (g_audit) {
      std::string plan = explain(db_, sql);
      std::lock_guard lock(g_audit_mu);
      g_plans.emplace_back(sql, std::move(plan));
    }
  }
  it->second.reset();
  return &it->second;
}

Result<void> Connection::run(Statement& stmt) {
  int rc = stmt.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
      Error e = error("constraint");
      e.code = Errc::conflict;
      return fail(std::move(e));
    }
    return fail(error("step"));
  }
  return {};
}

}  // namespace herald::store::sqlite
