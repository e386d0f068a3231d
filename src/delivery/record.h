// Stage 7, record: outcomes are written as soon as they are final (a slice at a time), and a
// pass's campaign chunks end once every outcome of theirs is in the queue.
#pragma once

#include "delivery/job.h"

namespace herald::delivery {

// Writes the outcomes of every job that is final and not yet written, in one transaction; while
// the database cannot be reached it waits and tries again (Pass::wait_for_store). When that
// fails for good the claims expire and the messages are sent again: at-least-once, never lost.
void flush(Pass& pass, Queue& queue);

// Ends the pass: whatever is left (deferred, failed early) is final now and written; the pass's
// chunks end if every outcome was recorded (else they stay, and are queued again when their
// lease expires).
void finish_pass(Pass& pass, Queue& queue);

}  // namespace herald::delivery
