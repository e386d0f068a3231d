// Stage 5, send: a slice of send units becomes requests (one per unit, taking the messages'
// content), performed concurrently; each answer is classified per message, in request order.
#pragma once

#include <span>
#include <vector>

#include "delivery/job.h"
#include "net/http_client.h"

namespace herald::delivery {

// Requests per slice of a pass: each slice's outcomes are written before the next goes out, so
// a crash re-sends at most one slice per worker (providers without an idempotency key see those
// twice), not a whole pass.
inline constexpr std::size_t kRequestsPerSlice = 64;

// A message's answer from its provider.
struct Answer {
  Job* job = nullptr;
  providers::SendOutcome outcome;
};

// The request that sends `unit`. It takes the content: the jobs keep only what a re-route needs
// (their headers; a message whose body the log does not keep is rendered again for it), so a
// pass holds one copy of each body while its requests are out.
HttpRequest build_request(SendUnit& unit);

// The per-message answers to `unit`'s request (`response`), in the unit's order; a message the
// provider said nothing about is retryable ("no outcome").
void classify_answers(const SendUnit& unit, const Result<HttpResponse>& response,
                      std::vector<Answer>& answers);

// Sends `units` (one slice) with `http` and returns every message's answer, in request order.
// A unit whose request cannot be built or whose answer cannot be read (the adapter threw) has
// no answers: its messages retry (see fail_internally), and the slice goes on without them.
std::vector<Answer> send_slice(Pass& pass, net::HttpClient& http, std::span<SendUnit> units);

}  // namespace herald::delivery
