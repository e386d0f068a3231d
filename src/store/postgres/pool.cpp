#include "store/postgres/pool.h"

#include <poll.h>

#include <pqxx/except>

namespace herald::store::postgres {

namespace {

// libpq's messages end with a newline (and sometimes a tab-indented hint line).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Whether an idle connection has been closed by the server (restart, failover, a terminated
// backend): an idle connection has nothing to read unless the server said goodbye.
bool closed_while_idle(const pqxx::connection& c) {
  if (!c.is_open() || c.sock() < 0) return true;
  pollfd p{c.sock(), POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

// Whether `e` says the server could not be reached or went away (a restart, a failover, an
// operator's shutdown): connection exceptions (SQLSTATE class 08), a server shutting down or
// starting up (57P01-57P03), or a connection libpq found broken.
bool server_went_away(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return true;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return false;
  const std::string state = sql->sqlstate();
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

Result<std::unique_ptr<Pool>> Pool::open(PgUrl url) {
  std::unique_ptr<Pool> pool(new Pool(std::move(url)));
  auto first = pool->acquire();
  if (!first) {
    // At start-up a database that cannot be reached is the setting's problem to fix.
    Error e = first.error();
    e.code = Errc::config;
    e.retryable = false;
    return fail(e);
  }
  return pool;
}

Result<std::unique_ptr<PooledConnection>> Pool::connect() {
  try {
    auto c = std::make_unique<PooledConnection>();
    c->conn = std::make_unique<pqxx::connection>(url_.conninfo);
    return c;
  } catch (const std::exception& e) {
    // The setting is named, the password never shown (libpq may echo parts of the URL). Once
    // running, the server may come back: callers wait and try again (retryable).
    Error err{Errc::storage, "HERALD_DATABASE_URL: cannot connect to PostgreSQL at " + url_.shown +
                                 ": " + redact(one_line(e.what()), url_)};
    err.retryable = true;
    return fail(err);
  }
}

Result<Pool::Lease> Pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!returned_.wait_for(lock, wait, [&] { return !idle_.empty() || open_ < url_.pool_size; })) {
    return fail(Errc::storage, "postgres: all " + std::to_string(url_.pool_size) +
                                   " connections stayed busy for " + std::to_string(wait.count()) +
                                   " ms");
  }
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (!closed_while_idle(*c->conn)) return Lease(this, std::move(c));
    --open_;  // dropped; a new one replaces it below
  }
  ++open_;
  lock.unlock();
  auto c = connect();
  if (!c) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return fail(c.error());
  }
  return Lease(this, std::move(*c));
}

void Pool::give_back(std::unique_ptr<PooledConnection> c) {
  {
    std::lock_guard lock(mu_);
    if (c->broken || !c->conn->is_open()) {
      --open_;
    } else {
      idle_.push_back(std::move(c));
    }
  }
  returned_.notify_one();
}

Error Pool::error(std::string_view what, const std::exception& e) const {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  // The server's primary message only: its DETAIL line may quote row values (an email).
  std::string text = e.what();
  if (sql) text = text.substr(0, text.find('\n'));
  Error err{Errc::storage,
            "postgres: " + std::string(what) + ": " + redact(one_line(std::move(text)), url_)};
  // Integrity constraints (SQLSTATE class 23) are conflicts, as the SQLite store reports them.
  if (sql && sql->sqlstate().starts_with("23")) err.code = Errc::conflict;
  err.retryable = server_went_away(e);
  return err;
}

}  // namespace herald::store::postgres
