// PostgreSQL schema migrations, in order. Each runs once, in its own transaction, under an
// advisory lock so that processes starting together never apply one twice.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "store/postgres/pool.h"

namespace herald::store::postgres {

// One schema change: its version, what it is for, and its SQL.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration, oldest first.
std::span<const Migration> migrations();

// Applies the pending migrations; returns the schema version reached.
Result<int> run_migrations(Pool& pool);

}  // namespace herald::store::postgres
