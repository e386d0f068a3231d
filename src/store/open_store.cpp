// Choosing the store by HERALD_DATABASE_URL: postgres:// or postgresql:// names a PostgreSQL
// database, anything else SQLite ("sqlite:<file>" or a data directory).
#include "store/postgres/pg_store.h"
#include "store/postgres/url.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace herald::store {

Result<std::unique_ptr<Store>> open_store(const std::string& url) {
  return postgres::is_postgres_url(url) ? postgres::open(url) : sqlite::open(url);
}

Result<int> migrate(const std::string& url) {
  return postgres::is_postgres_url(url) ? postgres::migrate(url) : sqlite::migrate(url);
}

}  // namespace herald::store
