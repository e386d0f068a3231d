// The admit stage: a send unit over its account's rate waits in the queue without spending an
// attempt; idempotent units are written down only while they have no batch.
#include "delivery/admit.h"

#include <gtest/gtest.h>

#include "job_fixture.h"

namespace herald::delivery {
namespace {

TEST(AdmitUnit, OverTheRateLimitTheUnitIsQueuedAtNowPlusWaitNotAnAttempt) {
  // Invariant: one token per request; a unit without one is queued for when the bucket will
  // have it, its attempts and history untouched.
  StageTime clock;
  RateLimiter limiter(clock);
  RateLimit limit{2, 1};  // burst 1, a token every 500 ms
  Jobs jobs;
  SendUnit first{jobs.add("A", "resend", "1")};
  SendUnit second{jobs.add("A", "resend", "2"), jobs.add("A", "resend", "3")};
  EXPECT_TRUE(admit_unit(first, limiter, limit, clock.now()));
  EXPECT_FALSE(first.front()->done);
  EXPECT_FALSE(admit_unit(second, limiter, limit, clock.now()));
  for (const Job* j : second) {
    EXPECT_TRUE(j->done);
    EXPECT_EQ(j->outcome.status, MessageStatus::queued);
    EXPECT_EQ(j->outcome.next_attempt_at, clock.now() + std::chrono::milliseconds(500));
    EXPECT_EQ(j->outcome.attempts, 0);
    EXPECT_TRUE(j->outcome.attempts_made.empty());
    EXPECT_TRUE(j->outcome.events.empty());
  }
}

TEST(AdmitUnit, AccountsHaveTheirOwnBudgets) {
  // Invariant: one account's spent budget never holds back another's.
  StageTime clock;
  RateLimiter limiter(clock);
  RateLimit limit{1, 1};
  Jobs jobs;
  SendUnit a{jobs.add("A", "resend", "1", "", "key-a")};
  SendUnit a2{jobs.add("A", "resend", "2", "", "key-a")};
  SendUnit b{jobs.add("B", "resend", "3", "", "key-b")};
  EXPECT_TRUE(admit_unit(a, limiter, limit, clock.now()));
  EXPECT_FALSE(admit_unit(a2, limiter, limit, clock.now()));
  EXPECT_TRUE(admit_unit(b, limiter, limit, clock.now()));
}

TEST(NeedsWriteDown, OnlyNewUnitsOfAProviderWithIdempotencyKeys) {
  // Invariant: Resend units are written down before they are sent, once; providers without an
  // idempotency key are not written down at all.
  Jobs jobs;
  EXPECT_TRUE(needs_write_down({jobs.add("A", "resend", "1")}));
  EXPECT_FALSE(needs_write_down({jobs.add("A", "resend", "2", "batch-1")}));
  EXPECT_FALSE(needs_write_down({jobs.add("A", "sendgrid", "3")}));
  EXPECT_FALSE(needs_write_down({jobs.add("A", "twilio", "+14155550100")}));
}

}  // namespace
}  // namespace herald::delivery
