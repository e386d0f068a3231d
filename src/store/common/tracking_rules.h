// Delivery tracking's rules that do not depend on the database: a message's timeline order, the
// history line an event writes, which campaign result an event counts, and when a post that came
// too early is tried again. Dialect-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/events.h"
#include "store/tracking.h"

namespace herald::store::common {

// The history line an event writes: "bounced (hard) — resend email.bounced: 550 5.1.1 …".
std::string history_detail(const std::string& provider, const DeliveryEvent& e);

// Orders a message's events as it lived them: by second (providers stamp whole seconds), then
// by lifecycle (delivered before opened before clicked), keeping the stored order otherwise.
void sort_timeline(std::vector<StoredEvent>& events);

// The campaign_results column the first event of its kind for a message counts in (nullptr:
// none): delivered, hard bounce, complaint, open, click, unsubscribe. A delivered after a
// bounce or failure (`current` status) does not count.
const char* result_column(MessageStatus current, const DeliveryEvent& e);

// When a post with an event that came before its message is tried again: after as long again
// as it has waited (a second at least, half a minute at most). The events applied now are
// duplicates then.
TimePoint retry_early_post_at(TimePoint received_at, TimePoint now);

}  // namespace herald::store::common
