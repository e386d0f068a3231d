// A small fixed pool of PostgreSQL connections shared by the store and its sub-stores: at most
// `pool_size` connections, opened as they are first needed, each lent to one caller at a time
// (mutex + condition variable). A connection that broke is dropped and replaced on demand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <pqxx/connection>

#include "core/error.h"
#include "store/postgres/url.h"

namespace herald::store::postgres {

// One pooled connection and the names of the statements prepared on it.
struct PooledConnection {
  std::unique_ptr<pqxx::connection> conn;
  std::unordered_set<std::string> prepared;
  bool broken = false;
};

// The pool: lends connections (Lease), opening them on demand up to the URL's pool_size.
class Pool {
 public:
  // A connection lent by the pool, returned when the lease ends.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<PooledConnection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (pool_ && c_) pool_->give_back(std::move(c_));
    }
    PooledConnection& operator*() { return *c_; }
    PooledConnection* operator->() { return c_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<PooledConnection> c_;
  };

  // Opens the pool and its first connection, so a wrong or unreachable URL fails at once.
  static Result<std::unique_ptr<Pool>> open(PgUrl url);

  // Lends a connection: an idle one, a new one while fewer than pool_size are open, or the next
  // one returned (waiting at most `wait`).
  Result<Lease> acquire(std::chrono::milliseconds wait = std::chrono::seconds(30));

  // A store error from a PostgreSQL failure, its text cleared of the URL's password.
  Error error(std::string_view what, const std::exception& e) const;

  // The URL as it may be shown (password masked).
  const std::string& shown_url() const { return url_.shown; }

 private:
  explicit Pool(PgUrl url) : url_(std::move(url)) {}
  Result<std::unique_ptr<PooledConnection>> connect();
  void give_back(std::unique_ptr<PooledConnection> c);

  PgUrl url_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                         // connections lent or idle; mu_
};

}  // namespace herald::store::postgres
