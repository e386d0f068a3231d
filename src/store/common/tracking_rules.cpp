#include "store/common/tracking_rules.h"

#include <algorithm>
#include <chrono>

namespace herald::store::common {

namespace {

// Where an event falls in a message's life, for events stamped in the same second.
int lifecycle_rank(EventType t) {
  switch (t) {
    case EventType::queued:
      return 0;
    case EventType::sent:
      return 1;
    case EventType::deferred:
      return 2;
    case EventType::delivered:
    case EventType::bounced:
    case EventType::rejected:
    case EventType::failed:
      return 3;
    case EventType::opened:
      return 4;
    case EventType::clicked:
      return 5;
    case EventType::complained:
    case EventType::unsubscribed:
    case EventType::opted_out:
      return 6;
    case EventType::unknown:
      return 7;
  }
  return 7;
}

}  // namespace

std::string history_detail(const std::string& provider, const DeliveryEvent& e) {
  std::string out(to_string(e.type));
  if (e.bounce != BounceKind::none) out += " (" + std::string(to_string(e.bounce)) + ")";
  out += " — " + provider + " " + e.provider_event;
  if (!e.reason.empty()) out += ": " + e.reason;
  return out;
}

void sort_timeline(std::vector<StoredEvent>& events) {
  std::ranges::stable_sort(events, [](const StoredEvent& a, const StoredEvent& b) {
    const TimePoint ta =
        std::chrono::floor<std::chrono::seconds>(a.event.occurred_at.value_or(a.received_at));
    const TimePoint tb =
        std::chrono::floor<std::chrono::seconds>(b.event.occurred_at.value_or(b.received_at));
    if (ta != tb) return ta < tb;
    const int ra = lifecycle_rank(a.event.type), rb = lifecycle_rank(b.event.type);
    if (ra != rb) return ra < rb;
    // Within one second and one kind: the order they happened in, then were received in
    // (the stores read them by time only, as their index holds them).
    return std::pair(a.event.occurred_at.value_or(a.received_at), a.received_at) <
           std::pair(b.event.occurred_at.value_or(b.received_at), b.received_at);
  });
}

const char* result_column(MessageStatus current, const DeliveryEvent& e) {
  if (e.type == EventType::delivered &&
      (current == MessageStatus::bounced || current == MessageStatus::failed))
    return nullptr;
  const bool hard = e.bounce == BounceKind::hard;
  return e.type == EventType::delivered      ? "delivered"
         : e.type == EventType::bounced      ? (hard ? "bounced" : nullptr)
         : e.type == EventType::complained   ? "complained"
         : e.type == EventType::opened       ? "unique_opens"
         : e.type == EventType::clicked      ? "unique_clicks"
         : e.type == EventType::unsubscribed ? "unsubscribed"
                                             : nullptr;
}

TimePoint retry_early_post_at(TimePoint received_at, TimePoint now) {
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - received_at);
  return now +
         std::clamp(waited, std::chrono::milliseconds(1000), std::chrono::milliseconds(30'000));
}

}  // namespace herald::store::common
