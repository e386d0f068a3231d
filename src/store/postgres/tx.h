// Running work on the pool: with_tx (one transaction, committed when the work succeeds, rolled
// back otherwise, retried on a deadlock or serialization failure) and with_autocommit (each
// statement commits on its own: for single statements, saving the BEGIN and COMMIT round trips).
// Work is a function of a Tx returning Result<T>; pqxx's exceptions stop here and come back as
// Error values.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "core/error.h"
#include "store/postgres/pool.h"

namespace herald::store::postgres {

// A statement with the name it is prepared under on each connection.
struct Sql {
  const char* name;
  const char* text;
};

// The transaction work runs in: prepared statements (prepared once per connection) and scripts.
class Tx {
 public:
  Tx(pqxx::transaction_base& tx, PooledConnection& c) : tx_(tx), c_(c) {}

  // Runs a prepared statement with text parameters (pqxx converts numbers and bools).
  template <class... Args>
  pqxx::result run(const Sql& st, Args&&... args) {
    prepare(st);
    return tx_.exec_prepared(st.name, std::forward<Args>(args)...);
  }
  // Runs a script of several statements without parameters (a migration).
  void run_script(const std::string& sql) { tx_.exec(sql); }

 private:
  // Prepares `st` on this connection the first time it runs there. Two statements may not share
  // a name (checked: the second would silently run the first's SQL).
  void prepare(const Sql& st);

  pqxx::transaction_base& tx_;
  PooledConnection& c_;
};

namespace detail {

// SQLSTATEs after which the same transaction may simply be run again.
inline bool worth_retrying(const pqxx::sql_error& e) {
  return e.sqlstate() == "40001" || e.sqlstate() == "40P01";
}

// Runs `work` in a transaction of type Txn on a pooled connection (see with_tx / with_autocommit).
// A transaction whose connection broke before COMMIT was rolled back: it is run again on another
// connection (a COMMIT whose answer was lost is pqxx::in_doubt_error, never run again).
template <class Txn, class Work>
auto run(Pool& pool, std::string_view what, Work&& work) -> std::invoke_result_t<Work&, Tx&> {
  using R = std::invoke_result_t<Work&, Tx&>;
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    auto lease = pool.acquire();
    if (!lease) return R(std::unexpected(lease.error()));
    try {
      Txn txn(*(*lease)->conn);
      Tx tx(txn, **lease);
      R r = work(tx);
      if (r) txn.commit();
      return r;  // a failure rolls back as txn goes
    } catch (const pqxx::broken_connection& e) {
      (*lease)->broken = true;
      if (std::is_same_v<Txn, pqxx::work> && attempt < kAttempts) continue;
      return R(std::unexpected(pool.error(what, e)));
    } catch (const pqxx::sql_error& e) {
      if (attempt < kAttempts && worth_retrying(e)) continue;
      return R(std::unexpected(pool.error(what, e)));
    } catch (const std::exception& e) {
      // in_doubt_error, conversion errors, bad_alloc: all storage failures to the caller.
      return R(std::unexpected(pool.error(what, e)));
    }
  }
}

}  // namespace detail

// Runs `work(Tx&) -> Result<T>` in one transaction: committed if it returns a value, rolled back
// if it returns an error or throws. It may run again after a deadlock or serialization failure,
// so it must not change anything outside the database but its own result.
template <class Work>
auto with_tx(Pool& pool, std::string_view what, Work&& work) {
  return detail::run<pqxx::work>(pool, what, std::forward<Work>(work));
}

// Runs `work` without a transaction block: each statement commits on its own. For work of one
// statement (or reads that need no common snapshot), saving the BEGIN and COMMIT round trips.
template <class Work>
auto with_autocommit(Pool& pool, std::string_view what, Work&& work) {
  return detail::run<pqxx::nontransaction>(pool, what, std::forward<Work>(work));
}

}  // namespace herald::store::postgres
