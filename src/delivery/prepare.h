// Stage 2, prepare: each claimed message becomes a job with its agent, suppression check,
// variables, quiet hours, template and route, and its content where it has its own. A job that
// ends here (suppressed, deferred, no agent, template or route) is done with its outcome.
#pragma once

#include "core/quiet_hours.h"
#include "delivery/job.h"
#include "delivery/queue.h"
#include "delivery/sources.h"

namespace herald::delivery {

// What preparing needs from outside the pass.
struct PrepareContext {
  Sources& sources;
  const QuietHours& quiet_hours;
  const Suppressed& suppressed;  // the claimed campaign messages' (see Queue::suppressed)
};

// Makes the pass's jobs, one per claimed message, and prepares each (see above).
void prepare_jobs(Pass& pass, const PrepareContext& context);

}  // namespace herald::delivery
