// The plan stage's ordering and grouping: agents take turns, batches are re-formed exactly,
// shared-content batches hold each address once, and no unit exceeds its provider's batch size.
#include "delivery/plan.h"

#include <gtest/gtest.h>

#include "job_fixture.h"

namespace herald::delivery {
namespace {

std::vector<std::string> ids(const std::vector<Job*>& jobs) {
  std::vector<std::string> out;
  for (const Job* j : jobs) out.push_back(j->message->to_address);
  return out;
}

TEST(InterleaveAgents, AgentsTakeTurnsInQueueOrder) {
  // Invariant: one message per agent in turn, each agent's messages in their queue order, so an
  // agent's small campaign is not held behind another's backlog in a shared account.
  Jobs jobs;
  std::vector<Job*> round = {jobs.add("A", "resend", "a1"), jobs.add("A", "resend", "a2"),
                             jobs.add("A", "resend", "a3"), jobs.add("B", "resend", "b1"),
                             jobs.add("C", "resend", "c1"), jobs.add("C", "resend", "c2")};
  interleave_agents(round);
  EXPECT_EQ(ids(round), (std::vector<std::string>{"a1", "b1", "c1", "a2", "c2", "a3"}));
}

TEST(InterleaveAgents, OneAgentKeepsItsOrder) {
  // Invariant: a round of one agent is left exactly as claimed.
  Jobs jobs;
  std::vector<Job*> round = {jobs.add("A", "resend", "x"), jobs.add("A", "resend", "y")};
  interleave_agents(round);
  EXPECT_EQ(ids(round), (std::vector<std::string>{"x", "y"}));
}

TEST(GroupJobs, AMessageAlreadyInABatchGoesAgainInExactlyThatBatch) {
  // Invariant: a batch re-forms with exactly its members (same idempotency key), never joined by
  // new messages of the same account.
  Jobs jobs;
  Job* b1 = jobs.add("A", "resend", "1", "batch-1");
  Job* fresh = jobs.add("A", "resend", "2");
  Job* b1_again = jobs.add("A", "resend", "3", "batch-1");
  Job* b2 = jobs.add("A", "resend", "4", "batch-2");
  auto units = group_jobs({b1, fresh, b1_again, b2});
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0], (SendUnit{b1, b1_again}));
  EXPECT_EQ(units[1], (SendUnit{fresh}));
  EXPECT_EQ(units[2], (SendUnit{b2}));
}

TEST(GroupJobs, AccountsDoNotShareARequest) {
  // Invariant: a request carries one provider account's messages only.
  Jobs jobs;
  Job* a = jobs.add("A", "resend", "1", "", "key-a");
  Job* b = jobs.add("B", "resend", "2", "", "key-b");
  Job* a2 = jobs.add("A", "resend", "3", "", "key-a");
  auto units = group_jobs({a, b, a2});
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0], (SendUnit{a, a2}));
  EXPECT_EQ(units[1], (SendUnit{b}));
}

TEST(GroupJobs, ASharedContentBatchHoldsAnAddressOnce) {
  // Invariant: SendGrid refuses a recipient twice in one request and Mailgun keys its
  // recipient-variables by address: a second message to an address (in any case) goes alone.
  for (std::string provider : {"sendgrid", "mailgun"}) {
    Jobs jobs;
    Job* a = jobs.add("A", provider, "ann@example.com");
    Job* b = jobs.add("A", provider, "bob@example.com");
    Job* a_again = jobs.add("A", provider, "Ann@Example.COM");
    Job* c = jobs.add("A", provider, "cy@example.com");
    auto units = group_jobs({a, b, a_again, c});
    ASSERT_EQ(units.size(), 2u);
    EXPECT_EQ(units[0], (SendUnit{a, b, c}));
    EXPECT_EQ(units[1], (SendUnit{a_again}));
  }
}

TEST(GroupJobs, NoUnitExceedsItsProvidersBatchSize) {
  // Invariant: units fill up to max_batch and the rest start the next one; a provider without a
  // batch API (Twilio) sends one message per request.
  for (std::string provider : {"resend", "sendgrid", "twilio"}) {
    const std::size_t max = providers::provider_for(provider).capabilities().max_batch;
    const std::size_t n = max == 1 ? 5 : 2 * max + max / 2;
    Jobs jobs;
    std::vector<Job*> round;
    for (std::size_t i = 0; i < n; ++i)
      round.push_back(jobs.add("A", provider, "r" + std::to_string(i) + "@example.com"));
    auto units = group_jobs(round);
    std::size_t total = 0;
    for (const auto& u : units) {
      EXPECT_LE(u.size(), max);
      total += u.size();
    }
    EXPECT_EQ(total, n);
    EXPECT_EQ(units.size(), (n + max - 1) / max);
  }
}

}  // namespace
}  // namespace herald::delivery
