#include "delivery/outcome.h"

#include <spdlog/spdlog.h>

#include "core/id.h"
#include "delivery/content.h"
#include "providers/provider.h"
#include "store/contacts.h"

namespace herald::delivery {

using providers::OutcomeKind;
using providers::SendOutcome;

namespace {

// Retrying with backoff, or failed at the last attempt, with the provider's reason.
Next retry_or_give_up(const JobState& job, const SendOutcome& answer, const OutcomePolicy& p) {
  Next next;
  next.last_error = answer.reason;
  if (job.attempts >= p.retry.max_attempts) {
    next.state = NextState::failed;
    next.event = "gave up after " + std::to_string(job.attempts) + " attempts: " + answer.reason;
  } else {
    next.state = NextState::retrying;
    next.next_attempt_at = p.now + p.retry.delay(job.attempts, answer.retry_after, p.random());
    next.event = answer.reason;
  }
  return next;
}

// The agent's own credentials were rejected: its integration is failing; the message goes via
// the platform where it may, else it fails.
Next rejected_agent_key(const JobState& job, const SendOutcome& answer, const OutcomePolicy& p) {
  Next next;
  std::string why = providers::display_name(job.provider) +
                    " did not accept your account's credentials: " + answer.reason;
  if (job.integration != IntegrationStatus::failing) {
    next.integration = IntegrationStatus::failing;
    next.integration_reason = why;
  }
  if (may_reroute(job, answer, p.fallback_to_platform) && p.platform_route) {
    next.state = NextState::reroute;
    next.event = why + "; sending through the platform's account instead";
    return next;
  }
  next.state = NextState::failed;
  next.last_error = why;
  next.event = std::move(why);
  return next;
}

}  // namespace

bool may_reroute(const JobState& job, const SendOutcome& answer, bool fallback_to_platform) {
  return answer.kind == OutcomeKind::bad_credentials && job.via == Via::agent &&
         fallback_to_platform;
}

Next apply_outcome(const JobState& job, const SendOutcome& answer, const OutcomePolicy& policy) {
  switch (answer.kind) {
    case OutcomeKind::accepted: {
      Next next;
      next.state = NextState::sent;
      next.event = accepted_detail(job.provider);
      if (job.via == Via::agent && job.integration == IntegrationStatus::failing)
        next.integration = IntegrationStatus::ok;
      return next;
    }
    case OutcomeKind::bad_credentials:
      if (job.via == Via::agent) return rejected_agent_key(job, answer, policy);
      // The platform's own key was rejected: the operator must fix it; retry meanwhile.
      return retry_or_give_up(job, answer, policy);
    case OutcomeKind::retryable:
      return retry_or_give_up(job, answer, policy);
    case OutcomeKind::permanent:
      break;
  }
  Next next;
  next.state = NextState::failed;
  next.last_error = answer.reason;
  next.event = answer.reason;
  if (answer.recipient_opted_out) {
    next.suppress_recipient = true;
    next.event += "; they opted out, so they are now on your suppression list";
  }
  return next;
}

namespace {

RouteSummary summarize(const Route& r) {
  return RouteSummary{r.provider, r.via, r.from_display(), r.reply_to, r.payer()};
}

// The agent's integration's health for the job's channel, as this pass knows it.
IntegrationStatus& integration_status(Pass& pass, const Job& j) {
  auto key = std::pair{j.message->agent_id, j.message->channel};
  auto known = pass.integration_status.find(key);
  if (known == pass.integration_status.end()) {
    IntegrationStatus st = IntegrationStatus::ok;
    if (const auto& in = j.agent->integration(j.message->channel)) st = in->status;
    known = pass.integration_status.emplace(key, st).first;
  }
  return known->second;
}

// Counts the attempt and keeps it in the message's log.
void record_attempt(Pass& pass, Job& j, const SendOutcome& o) {
  j.outcome.attempts += 1;
  RouteSummary summary = summarize(*j.route);
  j.outcome.route = summary;
  j.outcome.attempts_made.push_back(Attempt{j.outcome.attempts, pass.now, summary,
                                            std::string(providers::to_string(o.kind)),
                                            o.http_status, o.reason, o.provider_message_id});
}

// The job goes again over `route` (the platform's), with content of its own: one that went out
// personalized is rendered by the next round.
void reroute(Job& j, Route route) {
  j.personalized = false;
  j.route = std::move(route);
  Headers extra = std::move(j.outbound->headers);
  j.outbound = make_outbound(*j.message, *j.route);
  j.outbound->headers = std::move(extra);
  if (!j.unrendered) {
    set_content(*j.outbound,
                Rendered{j.outcome.subject, j.outcome.text, j.outcome.html, j.outcome.text});
  }
}

// The suppression of a recipient the provider says opted out of this sender (a text's STOP,
// else an unsubscribe), with the provider's words; written with the message's outcome.
store::Suppression opted_out(const Job& j, const std::string& reason, TimePoint now) {
  const Message& m = *j.message;
  store::Suppression s;
  s.id = new_id();
  s.agent_id = m.agent_id;
  s.channel = m.channel;
  s.address = m.to_address;
  s.reason = m.channel == Channel::sms ? store::SuppressionReason::stop
                                       : store::SuppressionReason::unsubscribed;
  s.source = std::string(j.route->provider) + " send";
  s.detail = reason;
  s.created_at = now;
  return s;
}

}  // namespace

void settle_answer(Pass& pass, const SettleContext& ctx, Answer& answer,
                   std::vector<Job*>& reroutes) {
  Job& j = *answer.job;
  SendOutcome& o = answer.outcome;
  record_attempt(pass, j, o);
  IntegrationStatus& status = integration_status(pass, j);
  JobState state{j.outcome.attempts, j.route->provider, j.route->via, status};
  std::optional<Result<Route>> platform;
  if (may_reroute(state, o, j.agent->fallback_to_platform))
    platform = platform_route(*j.agent, j.message->channel, ctx.platform);
  OutcomePolicy policy{*pass.retry, j.agent->fallback_to_platform, platform && *platform, pass.now,
                       pass.random};
  Next next = apply_outcome(state, o, policy);
  if (next.integration) {
    // Not recorded (the store failed): this pass goes on with what it knows, and the next
    // answer from that account tries again.
    if (auto r =
            ctx.queue.set_integration_status(j.message->agent_id, j.message->channel,
                                             *next.integration, next.integration_reason, pass.now);
        !r) {
      spdlog::warn("agent {}: could not record the {} integration's health: {}",
                   j.message->agent_id, to_string(j.message->channel), r.error().message);
    }
    status = *next.integration;
  }
  if (next.state == NextState::reroute) {
    j.outcome.events.push_back({pass.now, MessageStatus::retrying, std::move(next.event)});
    reroute(j, std::move(**platform));
    reroutes.push_back(&j);
    return;
  }
  j.outcome.status = next.state == NextState::sent       ? MessageStatus::sent
                     : next.state == NextState::retrying ? MessageStatus::retrying
                                                         : MessageStatus::failed;
  if (next.state == NextState::sent) {
    j.outcome.provider_message_id = std::move(o.provider_message_id);
    j.outcome.provider_id_lookup =
        !providers::provider_for(j.route->provider).info().webhooks.events_name_the_message;
  }
  if (next.state == NextState::retrying) j.outcome.next_attempt_at = next.next_attempt_at;
  if (next.suppress_recipient) j.outcome.suppression = opted_out(j, o.reason, pass.now);
  j.outcome.last_error = std::move(next.last_error);
  j.outcome.events.push_back({pass.now, j.outcome.status, std::move(next.event)});
  j.done = true;
}

}  // namespace herald::delivery
