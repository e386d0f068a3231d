// A send pass and the claimed messages on their way through it. The pass is a pipeline of
// stages, each in its own file: claim → prepare (prepare.h) → plan (plan.h) → admit (admit.h)
// → send (send.h) → apply outcome (outcome.h) → record (record.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/message.h"
#include "core/route.h"
#include "core/templates.h"
#include "delivery/queue.h"
#include "delivery/retry.h"
#include "providers/provider.h"
#include "store/store.h"

namespace herald::delivery {

// One claimed message on its way through a pass.
struct Job {
  Message* message = nullptr;
  store::Outcome outcome;
  std::optional<Route> route;
  std::optional<OutboundMessage> outbound;
  const Agent* agent = nullptr;
  // For batches that share content (SendGrid, Mailgun): the template and the variables it
  // was rendered with, to build the batch's skeleton and this message's substitutions.
  const TemplateRenderer* renderer = nullptr;
  nlohmann::json vars;
  // Campaign email for a provider that shares one content per batch is rendered only if it
  // cannot take its batch's skeleton without (see personalize_same_shape); until then its
  // content is not in `outcome` or `outbound`. Content the log does not keep also leaves with
  // its request, and a re-route renders it again.
  bool unrendered = false;
  bool personalized = false;  // its content is its batch's skeleton plus its substitutions
  bool done = false;          // outcome is final for this pass
  bool recorded = false;      // outcome written (moved out of `outcome`)
};

// Messages that go to the provider in one request (a batch, or a single message).
using SendUnit = std::vector<Job*>;

// A template's skeleton once it has (or has not) reproduced one rendering exactly: messages
// shaped like that one take their values from it without Mustache.
struct Shortcut {
  std::optional<Skeleton> skeleton;
  bool proven = false;
};

// Random numbers for backoff jitter (libsodium's in the service, fixed ones in tests).
using RandomSource = std::uint64_t (*)();

// Everything one pass holds: its messages and their jobs, and what it looked up once for all
// of them (agents, parsed templates, skeletons, integrations' health).
struct Pass {
  std::string worker;
  TimePoint now;
  const RetryPolicy* retry = nullptr;
  RandomSource random = nullptr;
  // Claimed messages; recipients taken straight from running campaigns' audiences start at
  // `fresh_from` and are kept by `chunks` until their outcomes are recorded.
  std::vector<Message> claimed;
  std::vector<TakenChunk> chunks;
  std::size_t fresh_from = std::numeric_limits<std::size_t>::max();
  std::vector<Job> jobs;
  std::map<std::string, Result<Agent>> agents;
  std::map<std::string, std::pair<std::optional<TemplateRenderer>, std::string>> renderers;
  std::map<const TemplateRenderer*, Shortcut> shortcuts;
  // The integrations' health as this pass knows it, so each change is written once.
  std::map<std::pair<std::string, Channel>, IntegrationStatus> integration_status;
  bool all_recorded = true;  // every flush succeeded
  // Given a failed store call's error: true when the database could not be reached and the
  // dispatcher waited for it (try the call again); false to give up (the claims' leases then
  // hand the messages over). Unset: give up at once.
  std::function<bool(const Error&)> wait_for_store;
};

// Ends `job` for this pass with `status`, the reason kept as its last error and in its history.
void finish(Job& job, TimePoint at, MessageStatus status, std::string why);

// Ends a job whose handling threw (a bug, or input no stage expected): it retries with the
// reason ("internal error: …"), attempts counted, after its backoff, or fails at the last
// attempt, and the rest of its pass goes on. `counted`: the pass already counted this attempt.
void fail_internally(Pass& pass, Job& job, std::string_view what, bool counted = false);

// The adapter for a route's provider: the one place delivery looks a provider up.
const providers::Provider& provider_of(const Route& route);

}  // namespace herald::delivery
