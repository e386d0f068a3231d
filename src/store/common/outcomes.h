// What both stores decide about a recorded outcome before writing it: whether its first-try
// acceptance fits in the message row, and which campaign counter it moves. Dialect-free.
#pragma once

#include <optional>
#include <string>

#include "store/store.h"

namespace herald::store::common {

// The outcome's only attempt when it is an acceptance on the first try whose history is just
// "sent" at the same moment, in accepted_detail's words: then the message row can hold all of
// it (sent_at, sent_http_status) and no history rows are written.
const Attempt* first_try_acceptance(const Outcome& o);

// The campaign counter a message's new status moves: sent, failed or suppressed.
enum class CampaignCounter { sent = 0, failed = 1, suppressed = 2 };
std::optional<CampaignCounter> campaign_counter(MessageStatus status);

// Whether a campaign message with this outcome is still to be sent (queued or retrying).
inline bool still_to_send(MessageStatus s) {
  return s == MessageStatus::queued || s == MessageStatus::retrying;
}

// "agent" or "platform", as stored for a route's via and payer.
inline Via parse_via(const std::string& s) {
  return s == "agent" ? Via::agent : Via::platform;
}

}  // namespace herald::store::common
