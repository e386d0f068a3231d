// A job's content: the outbound message over its route, and its rendering (through the
// template's proven skeleton where the message has its shape, else Mustache).
#pragma once

#include "delivery/job.h"

namespace herald::delivery {

// The message's addresses over `route`; set_content adds what it says.
OutboundMessage make_outbound(const Message& m, const Route& route);

// Rendered content where the message's channel carries it.
void set_content(OutboundMessage& out, Rendered r);

// Renders a job's content into its outcome and its outbound message; false when the template
// cannot render these variables (the job failed, with the reason) or rendering threw (the job
// retries alone, see fail_internally).
bool render_job(Pass& pass, Job& job);

}  // namespace herald::delivery
