#include "delivery/admit.h"

#include <spdlog/spdlog.h>

#include <set>
#include <span>
#include <string>

namespace herald::delivery {

namespace {

// Names the unit's batch in its messages; returns the ids to write down in the queue (empty
// when none: a single message taken from an audience is written down with its chunk) and adds
// the chunks to rewrite.
std::vector<std::string> name_batch(Pass& pass, SendUnit& unit, std::set<std::size_t>& rewrite) {
  const std::string batch = unit.front()->message->id;
  std::vector<std::string> ids{batch};  // the first names the batch
  for (Job* j : unit) {
    j->message->batch_id = batch;
    if (j->outcome.fresh) {
      auto at = static_cast<std::size_t>(j->message - pass.claimed.data());
      for (std::size_t c = 0; c < pass.chunks.size(); ++c) {
        const auto& chunk = pass.chunks[c];
        if (at >= chunk.first && at < chunk.first + chunk.count) rewrite.insert(c);
      }
    } else if (j != unit.front()) {
      ids.push_back(j->message->id);
    }
  }
  if (ids.size() > 1 || !unit.front()->outcome.fresh) return ids;
  return {};
}

// Back to the queue shortly, without a batch: the units whose write-down failed.
void requeue_unwritten(Pass& pass, std::vector<SendUnit>& ready, const std::vector<bool>& unit) {
  std::vector<SendUnit> kept;
  for (std::size_t g = 0; g < ready.size(); ++g) {
    if (!unit[g]) {
      kept.push_back(std::move(ready[g]));
      continue;
    }
    for (Job* j : ready[g]) {
      j->message->batch_id.clear();
      j->outcome.status = MessageStatus::queued;
      j->outcome.next_attempt_at = pass.now + std::chrono::seconds(1);
      j->done = true;
    }
  }
  ready = std::move(kept);
}

}  // namespace

bool admit_unit(SendUnit& unit, RateLimiter& limiter, RateLimit limit, TimePoint now) {
  const Route& route = *unit.front()->route;
  auto wait = limiter.try_acquire(account_key(route.credentials), limit);
  if (!wait) return true;
  for (Job* j : unit) {
    j->outcome.status = MessageStatus::queued;
    j->outcome.next_attempt_at = now + *wait;
    j->done = true;
  }
  return false;
}

bool needs_write_down(const SendUnit& unit) {
  return provider_of(*unit.front()->route).capabilities().idempotency_keys &&
         unit.front()->message->batch_id.empty();
}

void write_down_units(Pass& pass, Queue& queue, std::vector<SendUnit>& ready) {
  // Decided for every unit before any batch id is set.
  std::vector<bool> unit(ready.size());
  for (std::size_t g = 0; g < ready.size(); ++g) unit[g] = needs_write_down(ready[g]);
  std::vector<std::vector<std::string>> units;
  std::set<std::size_t> rewrite;  // chunks, by index
  for (std::size_t g = 0; g < ready.size(); ++g) {
    if (!unit[g]) continue;
    if (auto ids = name_batch(pass, ready[g], rewrite); !ids.empty())
      units.push_back(std::move(ids));
  }
  Result<void> assigned;
  if (!units.empty()) assigned = queue.assign_batches(units);
  for (std::size_t c : rewrite) {
    if (!assigned) break;
    const auto& chunk = pass.chunks[c];
    assigned =
        queue.update_chunk(chunk.id, std::span(pass.claimed).subspan(chunk.first, chunk.count));
  }
  if (assigned) return;
  spdlog::error("worker {}: cannot record batches: {}", pass.worker, assigned.error().message);
  requeue_unwritten(pass, ready, unit);
}

}  // namespace herald::delivery
