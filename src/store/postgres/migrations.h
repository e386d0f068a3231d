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

// Applies the pending migrations; returns the schema version reached. A schema ahead of this
// binary's migrations is refused (common/schema.h).
Result<int> run_migrations(Pool& pool);

// Sets up a new, empty database (every migration in one transaction, so a process starting
// beside it never sees half a schema); refuses one whose schema is behind or ahead of this
// binary's migrations (common/schema.h). Returns the schema version.
Result<int> require_current_schema(Pool& pool);

}  // namespace herald::store::postgres
