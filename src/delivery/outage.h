// The database going away (a restart, a failover) as the send workers and the scheduler meet
// it: they back off and try again, the claims they hold keep their leases, and the outage is
// logged once when it begins and once when it ends, however many threads and loops meet it.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

#include "core/error.h"

namespace herald::delivery {

// Whether `e` says the database could not be reached (it may answer later), as opposed to a
// failure that trying again would repeat.
inline bool database_unreachable(const Error& e) {
  return e.code == Errc::storage && e.retryable;
}

// One process's view of the database's reachability.
class Outage {
 public:
  // `log`: whether this view logs an outage's start and end (one view per process should;
  // another that meets the same outage, such as the tracking worker beside the send workers,
  // stays quiet).
  explicit Outage(bool log = true) : log_(log) {}
  // Notes a failed store call. True when `e` says the database could not be reached: the
  // caller backs off (backoff()) and logs nothing; false for any other failure (the caller
  // logs it).
  bool failed(const Error& e);
  // Notes a store call that worked: ends an outage.
  void succeeded();
  // Whether the last store call found the database away.
  bool active() const;
  // How long to wait before trying again: 100 ms, doubling with each failure, at most 5 s.
  std::chrono::milliseconds backoff() const;

 private:
  const bool log_;
  mutable std::mutex mu_;
  bool down_ = false;
  int failures_ = 0;
  std::chrono::steady_clock::time_point since_;
};

// Calls `step` (returning a Result) again for as long as `wait` (given the error) says it
// waited for the database to come back; returns the last result.
template <class Step>
auto until_stored(const std::function<bool(const Error&)>& wait, Step step) {
  auto r = step();
  while (!r && wait && wait(r.error())) r = step();
  return r;
}

}  // namespace herald::delivery
