// Time source, injected everywhere time matters so tests never sleep.
#pragma once

#include <chrono>
#include <cstdint>

namespace herald {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Where "now" comes from. The system one in production; a manual one in tests.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

// The real wall clock.
class SystemTime final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

// Milliseconds since the Unix epoch, the unit the store keeps times in.
inline std::int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_millis(std::int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace herald
