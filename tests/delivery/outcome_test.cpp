// apply_outcome, the pure step from a provider's answer to a message's next state: every
// branch, with the clock and the jitter passed in.
#include "delivery/outcome.h"

#include <gtest/gtest.h>

namespace herald::delivery {
namespace {

using providers::OutcomeKind;
using providers::SendOutcome;

bool random_called = false;
std::uint64_t zero_jitter() {
  random_called = true;
  return 0;
}

class ApplyOutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    retry_.base = std::chrono::seconds(10);
    retry_.max_attempts = 3;
    random_called = false;
  }
  OutcomePolicy policy(bool fallback = true, bool platform_route = true) const {
    return OutcomePolicy{retry_, fallback, platform_route, now_, &zero_jitter};
  }
  static JobState agent_job(int attempts = 1,
                            IntegrationStatus integration = IntegrationStatus::ok) {
    return JobState{attempts, "sendgrid", Via::agent, integration};
  }
  static JobState platform_job(int attempts = 1) {
    return JobState{attempts, "resend", Via::platform, IntegrationStatus::ok};
  }
  static SendOutcome answer(OutcomeKind kind, std::string reason = "",
                            std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    return SendOutcome{kind, kind == OutcomeKind::accepted ? "pm-1" : "", retry_after,
                       std::move(reason), 0};
  }

  RetryPolicy retry_;
  TimePoint now_ = from_millis(1'700'000'000'000);
};

TEST_F(ApplyOutcomeTest, AcceptedIsSentAndNamesTheProvider) {
  // Invariant: an accepted message is sent, its last error cleared, its history says by whom.
  Next next = apply_outcome(platform_job(), answer(OutcomeKind::accepted), policy());
  EXPECT_EQ(next.state, NextState::sent);
  EXPECT_EQ(next.event, "accepted by resend");
  EXPECT_TRUE(next.last_error.empty());
  EXPECT_FALSE(next.integration.has_value());
  EXPECT_FALSE(random_called);
}

TEST_F(ApplyOutcomeTest, AcceptedOverAFailingAgentIntegrationMarksItHealthy) {
  // Invariant: a working agent key heals its integration (failing → ok), written once.
  Next next = apply_outcome(agent_job(1, IntegrationStatus::failing), answer(OutcomeKind::accepted),
                            policy());
  EXPECT_EQ(next.state, NextState::sent);
  ASSERT_TRUE(next.integration.has_value());
  EXPECT_EQ(*next.integration, IntegrationStatus::ok);
  next =
      apply_outcome(agent_job(1, IntegrationStatus::ok), answer(OutcomeKind::accepted), policy());
  EXPECT_FALSE(next.integration.has_value()) << "already ok: nothing to write";
}

TEST_F(ApplyOutcomeTest, RejectedAgentKeyWithFallbackReRoutesViaThePlatform) {
  // Invariant: a rejected agent key marks the integration failing and, with fallback on and a
  // platform route, re-routes the message (not an end state, no last error).
  SendOutcome o = answer(OutcomeKind::bad_credentials, "invalid key");
  EXPECT_TRUE(may_reroute(agent_job(), o, true));
  Next next = apply_outcome(agent_job(), o, policy(true, true));
  EXPECT_EQ(next.state, NextState::reroute);
  EXPECT_EQ(next.event,
            "SendGrid did not accept your account's credentials: invalid key; sending through the "
            "platform's account instead");
  EXPECT_TRUE(next.last_error.empty());
  ASSERT_TRUE(next.integration.has_value());
  EXPECT_EQ(*next.integration, IntegrationStatus::failing);
  EXPECT_EQ(next.integration_reason,
            "SendGrid did not accept your account's credentials: invalid key");
  EXPECT_FALSE(random_called);
}

TEST_F(ApplyOutcomeTest, RejectedAgentKeyWithoutFallbackFails) {
  // Invariant: fallback off, the message fails with the provider's reason; the integration is
  // marked failing either way.
  SendOutcome o = answer(OutcomeKind::bad_credentials, "invalid key");
  EXPECT_FALSE(may_reroute(agent_job(), o, false));
  Next next = apply_outcome(agent_job(), o, policy(false, true));
  EXPECT_EQ(next.state, NextState::failed);
  EXPECT_EQ(next.last_error, "SendGrid did not accept your account's credentials: invalid key");
  EXPECT_EQ(next.event, next.last_error);
  ASSERT_TRUE(next.integration.has_value());
  EXPECT_EQ(*next.integration, IntegrationStatus::failing);
}

TEST_F(ApplyOutcomeTest, RejectedAgentKeyWithFallbackButNoPlatformRouteFails) {
  // Invariant: with nothing to re-route through, the message fails rather than waiting.
  Next next =
      apply_outcome(agent_job(), answer(OutcomeKind::bad_credentials, "bad"), policy(true, false));
  EXPECT_EQ(next.state, NextState::failed);
}

TEST_F(ApplyOutcomeTest, RejectedAgentKeyOfAFailingIntegrationWritesNoChange) {
  // Invariant: an integration already failing is not written again.
  Next next = apply_outcome(agent_job(1, IntegrationStatus::failing),
                            answer(OutcomeKind::bad_credentials, "bad"), policy());
  EXPECT_EQ(next.state, NextState::reroute);
  EXPECT_FALSE(next.integration.has_value());
}

TEST_F(ApplyOutcomeTest, RejectedPlatformKeyRetries) {
  // Invariant: the platform's own key rejected is the operator's to fix: the message retries
  // with backoff, no integration is touched, no re-route.
  SendOutcome o = answer(OutcomeKind::bad_credentials, "platform key revoked");
  EXPECT_FALSE(may_reroute(platform_job(), o, true));
  Next next = apply_outcome(platform_job(), o, policy());
  EXPECT_EQ(next.state, NextState::retrying);
  EXPECT_EQ(next.last_error, "platform key revoked");
  EXPECT_EQ(next.event, "platform key revoked");
  EXPECT_EQ(next.next_attempt_at, now_ + std::chrono::seconds(5));
  EXPECT_FALSE(next.integration.has_value());
}

TEST_F(ApplyOutcomeTest, RetryableUnderMaxAttemptsRetriesWithBackoff) {
  // Invariant: a retryable answer waits its backoff (half the step fixed, half jitter).
  Next next = apply_outcome(platform_job(2), answer(OutcomeKind::retryable, "503"), policy());
  EXPECT_EQ(next.state, NextState::retrying);
  EXPECT_EQ(next.next_attempt_at, now_ + std::chrono::seconds(10));  // step 20 s, jitter 0
  EXPECT_EQ(next.last_error, "503");
  EXPECT_TRUE(random_called);
}

TEST_F(ApplyOutcomeTest, RetryableHonoursRetryAfter) {
  // Invariant: the provider's Retry-After is never cut short by our own backoff.
  Next next = apply_outcome(
      platform_job(1), answer(OutcomeKind::retryable, "429", std::chrono::seconds(90)), policy());
  EXPECT_EQ(next.state, NextState::retrying);
  EXPECT_EQ(next.next_attempt_at, now_ + std::chrono::seconds(90));
}

TEST_F(ApplyOutcomeTest, RetryableAtMaxAttemptsGivesUpWithTheReason) {
  // Invariant: at the last attempt a retryable answer fails, Retry-After or not, keeping the
  // provider's reason as the last error.
  for (auto retry_after : {std::optional<std::chrono::seconds>{},
                           std::optional<std::chrono::seconds>{std::chrono::seconds(60)}}) {
    random_called = false;
    Next next = apply_outcome(platform_job(3), answer(OutcomeKind::retryable, "500", retry_after),
                              policy());
    EXPECT_EQ(next.state, NextState::failed);
    EXPECT_EQ(next.last_error, "500");
    EXPECT_EQ(next.event, "gave up after 3 attempts: 500");
    EXPECT_FALSE(random_called);
  }
}

TEST_F(ApplyOutcomeTest, PermanentFailsFastWithTheProvidersReason) {
  // Invariant: a permanent error is not retried, whatever attempt it is.
  Next next = apply_outcome(agent_job(1), answer(OutcomeKind::permanent, "invalid 'to'"), policy());
  EXPECT_EQ(next.state, NextState::failed);
  EXPECT_EQ(next.last_error, "invalid 'to'");
  EXPECT_EQ(next.event, "invalid 'to'");
  EXPECT_FALSE(next.integration.has_value());
  EXPECT_FALSE(random_called);
}

}  // namespace
}  // namespace herald::delivery
