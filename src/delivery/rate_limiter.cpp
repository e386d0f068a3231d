#include "delivery/rate_limiter.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

namespace herald::delivery {

RateLimit default_rate_limit(ProviderId provider) {
  switch (provider) {
    case ProviderId::resend:
      return {5, 10};  // batch calls count once each
    case ProviderId::sendgrid:
      return {100, 200};  // no published mail/send figure
    case ProviderId::mailgun:
      return {50, 100};
    case ProviderId::twilio:
      return {100, 200};  // account API; carriers pace per number
  }
  return {10, 20};
}

std::string account_key(const Credentials& c) {
  std::string id = c.account_sid;
  if (id.empty()) {
    unsigned char h[16];
    const std::string& key = c.api_key.reveal();
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                       nullptr, 0);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    id = hex;
  }
  return std::string(to_string(c.provider)) + ":" + id;
}

std::optional<std::chrono::milliseconds> RateLimiter::try_acquire(const std::string& key,
                                                                  RateLimit limit, double n) {
  TimePoint now = clock_.now();
  std::lock_guard lock(mu_);
  Bucket& b = buckets_[key];
  if (b.fresh) {
    b.tokens = limit.burst;
    b.updated = now;
    b.fresh = false;
  }
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(limit.burst, b.tokens + elapsed * limit.per_second);
    b.updated = now;
  }
  if (b.tokens >= n) {
    b.tokens -= n;
    return std::nullopt;
  }
  double wait_s = (n - b.tokens) / std::max(limit.per_second, 1e-9);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000)));
}

}  // namespace herald::delivery
