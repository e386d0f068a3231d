// Globally unique, time-ordered ids (UUIDv7, RFC 9562), never reused.
#pragma once

#include <string>

#include "core/clock.h"

namespace herald {

// A new UUIDv7 as 36 lowercase characters. Ids from one process sort in creation order
// (a counter in the random bits keeps them monotonic within a millisecond).
std::string new_id();

// The creation time encoded in a UUIDv7 id (nullopt-like epoch 0 if malformed).
TimePoint id_time(const std::string& id);

}  // namespace herald
