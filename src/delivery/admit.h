// Stage 4, admit: each send unit spends its provider account's rate budget (one token per
// request), and where the provider dedupes by idempotency key (Resend) each new unit is written
// down before it is sent, so a crash cannot regroup it and change its key.
#pragma once

#include <vector>

#include "delivery/job.h"
#include "delivery/rate_limiter.h"

namespace herald::delivery {

// Takes a token for `unit`'s account if its bucket has one (true: the unit may go). Otherwise
// its messages wait their turn in the queue until the bucket will have one (not an attempt).
bool admit_unit(SendUnit& unit, RateLimiter& limiter, RateLimit limit, TimePoint now);

// True when `unit` must be written down before it goes: its provider takes an idempotency key
// and the unit is not yet a recorded batch.
bool needs_write_down(const SendUnit& unit);

// Writes down the round's new idempotent units in one transaction (queued members in their
// rows; members taken from an audience in their chunks, rewritten whole). When that fails they
// are not sent unrecorded: they leave `ready` and go back to the queue shortly, without a batch.
void write_down_units(Pass& pass, Queue& queue, std::vector<SendUnit>& ready);

}  // namespace herald::delivery
