#include "delivery/rate_limiter.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

namespace herald::delivery {

RateLimit default_rate_limit(const providers::ProviderInfo& provider) {
  return {provider.default_rate_limit, provider.default_rate_limit * 2};
}

std::string account_key(const Credentials& c) {
  // A keyed hash over every field of the account, so two integrations of one account share a
  // bucket and the key reveals nothing.
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 16);
  auto absorb = [&](std::string_view name, std::string_view value) {
    for (std::string_view part :
         {name, std::string_view("\0", 1), value, std::string_view("\0", 1)})
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                part.size());
  };
  const providers::Provider* provider = providers::find_provider(c.provider);
  auto names_account = [&](std::string_view name) {
    if (provider == nullptr || provider->info().account_fields.empty()) return true;
    return std::ranges::find(provider->info().account_fields, name) !=
           provider->info().account_fields.end();
  };
  for (const auto& [name, value] : c.params)
    if (names_account(name)) absorb(name, value);
  for (const auto& [name, value] : c.secrets)
    if (names_account(name)) absorb(name, value.reveal());
  unsigned char h[16];
  crypto_generichash_final(&state, h, sizeof h);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return c.provider + ":" + hex;
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
