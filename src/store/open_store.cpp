// Choosing the store by HERALD_DATABASE_URL: postgres:// or postgresql:// names a PostgreSQL
// database, anything else SQLite ("sqlite:<file>" or a data directory).
#include "store/postgres/pg_store.h"
#include "store/postgres/url.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace herald::store {

Result<std::unique_ptr<Store>> open_store(const std::string& url, Schema schema) {
  return postgres::is_postgres_url(url) ? postgres::open(url, schema) : sqlite::open(url, schema);
}

Result<int> migrate(const std::string& url) {
  return postgres::is_postgres_url(url) ? postgres::migrate(url) : sqlite::migrate(url);
}

bool is_shared(const std::string& url) {
  return postgres::is_postgres_url(url);
}

}  // namespace herald::store
