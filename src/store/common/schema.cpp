#include "store/common/schema.h"

#include <string>

namespace herald::store::common {

std::optional<Error> schema_mismatch(int current, int latest) {
  if (current == 0 || current == latest) return std::nullopt;
  const std::string at = "the database schema is at version " + std::to_string(current);
  const std::string wants = "this herald's migrations end at version " + std::to_string(latest);
  if (current < latest) {
    return Error{Errc::config, at + " but " + wants +
                                   ": run `herald migrate` (with the same HERALD_DATABASE_URL) "
                                   "once, then start herald again"};
  }
  return Error{Errc::config, at + ", but " + wants +
                                 ": a newer herald has migrated it; run that version (an older "
                                 "binary could misread what a newer one writes)"};
}

}  // namespace herald::store::common
