// A thin RAII layer over the SQLite C API: a connection, prepared statements with typed
// binding and reading, and transactions. Errors come back as values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace herald::store::sqlite {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept {
    std::swap(stmt_, o.stmt_);
    return *this;
  }
  Statement(const Statement&) = delete;
  ~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
  }

  // Binding (1-based index). Strings are copied by SQLite (SQLITE_TRANSIENT).
  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  // Text SQLite reads in place (SQLITE_STATIC), for hot statements: the bytes must stay alive
  // and unchanged until the statement is reset.
  Statement& bind_ref(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Steps once: SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::string blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  // Opens (creating) the database file, WAL mode, foreign keys on, busy timeout set.
  static Result<Connection> open(const std::string& path);

  Connection() = default;
  Connection(Connection&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }
  Connection& operator=(Connection&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(cache_, o.cache_);
    return *this;
  }
  Connection(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements without results.
  Result<void> exec(std::string_view sql);
  // A cached prepared statement (reset and cleared), owned by the connection.
  Result<Statement*> prepare(const std::string& sql);
  // Steps a statement to completion, failing on anything but SQLITE_DONE.
  Result<void> run(Statement& stmt);

  Error error(std::string_view what) const;
  std::int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, Statement> cache_;
};

// Query-plan audit, for tests and diagnostics: while on, every statement prepared for the
// first time has its plan (EXPLAIN QUERY PLAN, one line per step) recorded beside its SQL, so
// a test can assert that the send path seeks its indexes instead of scanning tables.
void audit_query_plans(bool on);
// The plans recorded since the audit was turned on, as (sql, plan) pairs.
std::vector<std::pair<std::string, std::string>> audited_query_plans();

// BEGIN IMMEDIATE … COMMIT, rolled back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) {}
  Result<void> begin() { return c_.exec("BEGIN IMMEDIATE"); }
  Result<void> commit() {
    auto r = c_.exec("COMMIT");
    if (r) done_ = true;
    return r;
  }
  ~Transaction() {
    if (done_) return;
    // A failed ROLLBACK leaves the connection inside a transaction; SQLite rolls it back
    // itself when the connection closes. Said loudly, since every later write would fail.
    if (auto r = c_.exec("ROLLBACK"); !r)
      spdlog::error("sqlite: rollback failed: {}", r.error().message);
  }

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace herald::store::sqlite
