#include "delivery/retry.h"

#include <algorithm>

namespace herald::delivery {

std::chrono::milliseconds RetryPolicy::delay(int attempts,
                                             std::optional<std::chrono::seconds> retry_after,
                                             std::uint64_t random) const {
  int exponent = std::clamp(attempts - 1, 0, 30);
  auto step = std::min<std::int64_t>(base.count() << std::min(exponent, 20), cap.count());
  std::int64_t half = step / 2;
  std::int64_t jitter =
      half > 0 ? static_cast<std::int64_t>(random % static_cast<std::uint64_t>(half + 1)) : 0;
  std::chrono::milliseconds d{half + jitter};
  if (retry_after) d = std::max<std::chrono::milliseconds>(d, *retry_after);
  return d;
}

}  // namespace herald::delivery
