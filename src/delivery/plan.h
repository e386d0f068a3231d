// Stage 3, plan: a round's jobs become send units. Agents take turns; jobs for the same
// provider account share a request where the provider has a batch API; shared-content batches
// (SendGrid, Mailgun) are personalized from one skeleton of their template; whatever goes with
// content of its own is rendered now.
#pragma once

#include <vector>

#include "delivery/job.h"

namespace herald::delivery {

// A personalized message's substitutions must stay within what the provider takes per
// recipient (SendGrid: 10,000 bytes per personalization, tags included).
inline constexpr std::size_t kMaxSubstitutionBytes = 9000;

// Agents take turns (one message each, in queue order) so that where several agents share an
// account, its batches and its rate budget are shared between them too.
void interleave_agents(std::vector<Job*>& round);

// Groups jobs, in order, into send units: one per provider account (and route) up to the
// provider's batch size; one per job where the provider has no batch API. A message already
// sent in a batch goes again in exactly that batch (same idempotency key). A shared-content
// batch also shares from, reply-to and template, and holds each address once.
std::vector<SendUnit> group_jobs(const std::vector<Job*>& round);

// Shared-content batches become the template's skeleton plus each message's values; a message
// the skeleton cannot reproduce exactly (or whose values are too big) goes alone. Then every
// message with content of its own is rendered; units left empty go, and each unit is in id
// order, as its request will be.
void personalize_units(Pass& pass, std::vector<SendUnit>& units);

// The round's send units: interleave, group, personalize.
std::vector<SendUnit> plan_round(Pass& pass, std::vector<Job*>& round);

}  // namespace herald::delivery
