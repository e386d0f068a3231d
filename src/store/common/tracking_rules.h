// Delivery tracking's rules that do not depend on the database: a message's timeline order, the
// history line an event writes, and which campaign result an event counts. Dialect-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

}  // namespace herald::store::common
