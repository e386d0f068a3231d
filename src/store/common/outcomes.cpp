#include "store/common/outcomes.h"

namespace herald::store::common {

const Attempt* first_try_acceptance(const Outcome& o) {
  if (o.status != MessageStatus::sent || o.attempts != 1 || !o.route) return nullptr;
  if (o.attempts_made.size() != 1 || o.events.size() != 1) return nullptr;
  const Attempt& a = o.attempts_made.front();
  const StatusEvent& e = o.events.front();
  if (a.number != 1 || a.outcome != "accepted" || !a.error.empty()) return nullptr;
  if (a.provider_message_id != o.provider_message_id) return nullptr;
  if (a.route != *o.route) return nullptr;
  if (e.status != MessageStatus::sent || e.at != a.at ||
      e.detail != accepted_detail(a.route.provider))
    return nullptr;
  return &a;
}

std::optional<CampaignCounter> campaign_counter(MessageStatus status) {
  switch (status) {
    case MessageStatus::sent:
    case MessageStatus::delivered:
      return CampaignCounter::sent;
    case MessageStatus::failed:
    case MessageStatus::bounced:
      return CampaignCounter::failed;
    case MessageStatus::suppressed:
      return CampaignCounter::suppressed;
    default:
      return std::nullopt;  // still on its way
  }
}

}  // namespace herald::store::common
