// Private to src/secrets: libsodium must be initialised once before any other call.
#pragma once

#include <sodium.h>

#include <cstdlib>

namespace herald::secrets::detail {

// Initialises libsodium exactly once (thread-safe via a function-local static); aborts if the
// library cannot start, which only happens when the system has no randomness source.
inline void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

}  // namespace herald::secrets::detail
