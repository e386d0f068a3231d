// The embedded SQLite store, as open_store and migrate (store.h) reach it.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace herald::store::sqlite {

// Opens the store named by "sqlite:<path>" or a data directory (schema: see store::Schema).
Result<std::unique_ptr<Store>> open(const std::string& url, Schema schema);
// Applies pending migrations; returns the schema version reached.
Result<int> migrate(const std::string& url);

}  // namespace herald::store::sqlite
