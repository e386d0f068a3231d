// Per-account rate limits: a token bucket for each provider account, so one agent's big
// campaign spends only its own account's budget and never another agent's.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/route.h"
#include "providers/provider.h"

namespace herald::delivery {

struct RateLimit {
  double per_second = 10;  // sustained requests per second
  double burst = 20;       // bucket size
};

// The provider's own pace per account (its registry entry), with a burst of twice that.
RateLimit default_rate_limit(const providers::ProviderInfo& provider);

// A stable key for the account behind `credentials`: the provider plus a hash of the account's
// fields. Never contains a secret.
std::string account_key(const Credentials& credentials);

class RateLimiter {
 public:
  explicit RateLimiter(const TimeSource& clock) : clock_(clock) {}

  // Takes `n` tokens for `key` if the bucket has them (nullopt); otherwise takes nothing and
  // returns how long until it will.
  std::optional<std::chrono::milliseconds> try_acquire(const std::string& key, RateLimit limit,
                                                       double n = 1);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
    bool fresh = true;
  };
  const TimeSource& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace herald::delivery
