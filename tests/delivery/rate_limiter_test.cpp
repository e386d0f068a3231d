// Token buckets per provider account, with an injected clock.
#include "delivery/rate_limiter.h"

#include <gtest/gtest.h>

namespace herald::delivery {
namespace {

class FixedTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = from_millis(1'700'000'000'000);
};

TEST(RateLimiter, BurstThenSustainedRate) {
  // Invariant: an account gets its burst at once, then exactly its sustained rate.
  FixedTime t;
  RateLimiter limiter(t);
  RateLimit limit{2, 4};
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(limiter.try_acquire("resend:a", limit).has_value());
  auto wait = limiter.try_acquire("resend:a", limit);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, std::chrono::milliseconds(500));
  t.advance(std::chrono::milliseconds(499));
  EXPECT_TRUE(limiter.try_acquire("resend:a", limit).has_value());
  t.advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(limiter.try_acquire("resend:a", limit).has_value());
}

TEST(RateLimiter, AccountsDoNotShareBudgets) {
  // Invariant: one agent exhausting its account never slows another account.
  FixedTime t;
  RateLimiter limiter(t);
  RateLimit limit{1, 1};
  EXPECT_FALSE(limiter.try_acquire("sendgrid:agent-a", limit).has_value());
  EXPECT_TRUE(limiter.try_acquire("sendgrid:agent-a", limit).has_value());
  EXPECT_FALSE(limiter.try_acquire("sendgrid:agent-b", limit).has_value());
}

TEST(RateLimiter, AccountKeyNeverHoldsTheSecret) {
  // Invariant: limiter keys identify accounts without carrying API keys.
  Credentials c;
  c.provider = "sendgrid";
  c.secrets.set("apiKey", Secret("SG.very-secret-key-1234"));
  std::string key = account_key(c);
  EXPECT_EQ(key.find("very-secret"), std::string::npos);
  EXPECT_EQ(key.rfind("sendgrid:", 0), 0u);
  Credentials other = c;
  other.secrets.set("apiKey", Secret("SG.another-key-5678"));
  EXPECT_NE(account_key(other), key);
}

TEST(RateLimiter, OneTwilioAccountIsOneBucketWhateverTheToken) {
  // Invariant: Twilio's account is its Account SID; a second token for it shares the limit.
  Credentials a;
  a.provider = "twilio";
  a.params.set("accountSid", "AC123");
  a.secrets.set("authToken", Secret("token-one"));
  Credentials b = a;
  b.secrets.set("authToken", Secret("token-two"));
  EXPECT_EQ(account_key(a), account_key(b));
  Credentials c = a;
  c.params.set("accountSid", "AC456");
  EXPECT_NE(account_key(c), account_key(a));
}

}  // namespace
}  // namespace herald::delivery
