#include "delivery/record.h"

#include <spdlog/spdlog.h>

#include "delivery/outage.h"

namespace herald::delivery {

void flush(Pass& pass, Queue& queue) {
  std::vector<store::Outcome> outcomes;
  for (Job& j : pass.jobs) {
    if (!j.done || j.recorded) continue;
    outcomes.push_back(std::move(j.outcome));
    j.recorded = true;
  }
  if (outcomes.empty()) return;
  // The messages were sent: their outcomes wait for a database that went away rather than be
  // dropped (dropped, the messages would be sent again once their leases expire).
  if (auto r = until_stored(pass.wait_for_store, [&] { return queue.record_outcomes(outcomes); });
      !r) {
    spdlog::error("worker {}: recording outcomes failed: {}", pass.worker, r.error().message);
    pass.all_recorded = false;
  }
}

void finish_pass(Pass& pass, Queue& queue) {
  for (Job& j : pass.jobs) j.done = true;
  flush(pass, queue);
  if (pass.chunks.empty() || !pass.all_recorded) return;
  std::vector<std::string> ids;
  for (const auto& c : pass.chunks) ids.push_back(c.id);
  if (auto r = until_stored(pass.wait_for_store, [&] { return queue.finish_chunks(ids); }); !r)
    spdlog::error("worker {}: cannot end campaign chunks: {}", pass.worker, r.error().message);
}

}  // namespace herald::delivery
