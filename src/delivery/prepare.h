// Stage 2, prepare: each claimed message becomes a job with its agent, suppression check,
// variables, quiet hours, template and route, and its content where it has its own. A job that
// ends here (suppressed, deferred, no agent, template or route) is done with its outcome.
#pragma once

#include <set>
#include <span>
#include <string>
#include <tuple>

#include "app/app.h"
#include "app/unsubscribe.h"
#include "delivery/job.h"

namespace herald::delivery {

// Campaign messages' addresses on their agents' suppression lists: (agent, channel, address).
using Suppressed = std::set<std::tuple<std::string, Channel, std::string>>;

// The suppressed among the campaign messages of `messages` (unsubscribed, bounced, complained,
// STOP): one query per agent and channel.
Result<Suppressed> find_suppressed(store::ContactStore& contacts,
                                   std::span<const Message> messages);

// What preparing needs from outside the pass.
struct PrepareContext {
  app::App& app;
  const app::UnsubscribeSigner& unsubscribe;
  const Suppressed& suppressed;
};

// Makes the pass's jobs, one per claimed message, and prepares each (see above).
void prepare_jobs(Pass& pass, const PrepareContext& context);

}  // namespace herald::delivery
