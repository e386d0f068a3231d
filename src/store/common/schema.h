// The schema version check both stores make when `herald serve` or `herald worker` opens them
// (store::Schema::require_current): they run only on the schema their binary was built for.
#pragma once

#include <optional>

#include "core/error.h"

namespace herald::store::common {

// Why a database whose schema is at `current` cannot be used by a binary whose migrations end
// at `latest` (behind: run `herald migrate`; ahead: an older binary), or nullopt when they
// match. `current` 0 (a new, empty database) is set up rather than refused. `herald migrate`
// checks only for a schema ahead (`current` > `latest`): it brings one behind up to date.
std::optional<Error> schema_mismatch(int current, int latest);

}  // namespace herald::store::common
