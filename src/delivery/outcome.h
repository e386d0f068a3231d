// Stage 6, apply outcome: a provider's answer for one message decides the message's next
// state (apply_outcome, a pure function), which settle_answer then performs on the job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "delivery/job.h"
#include "delivery/send.h"

namespace herald::delivery {

// What the pass knows of a message when its provider's answer comes.
struct JobState {
  int attempts = 0;  // attempts made, this answer's included
  ProviderId provider;
  Via via = Via::platform;                                // whose account it went over
  IntegrationStatus integration = IntegrationStatus::ok;  // that integration's health, as known
};

// What decides what follows an answer, from outside the message.
struct OutcomePolicy {
  const RetryPolicy& retry;
  bool fallback_to_platform = true;  // the agent's setting
  bool platform_route = false;       // the platform has a route for this message
  TimePoint now;
  RandomSource random = nullptr;  // backoff jitter; called only when the message retries
};

// The message's next state.
enum class NextState { sent, retrying, failed, reroute };

struct Next {
  NextState state = NextState::failed;
  TimePoint next_attempt_at;  // retrying
  // The message's last error: cleared when sent, left as it is by a re-route.
  std::string last_error;
  std::string event;  // the status history's entry (a re-route's is a retrying entry)
  // The agent's integration's health to write (failing → ok, ok → failing), if it changes.
  std::optional<IntegrationStatus> integration;
  std::string integration_reason;
  // The recipient opted out of this sender (failed): their address joins the suppression list.
  bool suppress_recipient = false;
};

// Whether this answer re-routes the message through the platform if the platform has a route
// for it: the provider rejected the agent's own credentials and the agent's fallback is on.
bool may_reroute(const JobState& job, const providers::SendOutcome& answer,
                 bool fallback_to_platform);

// The message's next state after `answer`: accepted → sent; the agent's credentials rejected →
// integration failing, re-routed via the platform (fallback on, platform route) or failed; the
// platform's own key rejected, or retryable → retrying with backoff (never before Retry-After)
// until the last attempt, then failed; permanent → failed with the provider's reason, and the
// recipient suppressed when the provider says they opted out.
Next apply_outcome(const JobState& job, const providers::SendOutcome& answer,
                   const OutcomePolicy& policy);

// What settling answers needs from outside the pass.
struct SettleContext {
  Queue& queue;
  const PlatformConfig& platform;
};

// Applies one answer to its job: records the attempt, writes an integration health change,
// and sets the job's outcome; a job to re-route gets the platform's route and joins `reroute`.
void settle_answer(Pass& pass, const SettleContext& context, Answer& answer,
                   std::vector<Job*>& reroute);

}  // namespace herald::delivery
