// Retry policy: exponential backoff with jitter, honouring a provider's Retry-After.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace herald::delivery {

struct RetryPolicy {
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds cap{std::chrono::hours(1)};
  int max_attempts = 8;

  // Delay before attempt `attempts + 1`, given `attempts` made so far (≥ 1). "Equal jitter":
  // half the exponential step fixed, half random (from `random`), never below Retry-After.
  std::chrono::milliseconds delay(int attempts, std::optional<std::chrono::seconds> retry_after,
                                  std::uint64_t random) const;
};

}  // namespace herald::delivery
