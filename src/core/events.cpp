#include "core/events.h"

#include <array>
#include <utility>

namespace herald {

namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 13> kTypes{{
    {EventType::queued, "queued"},
    {EventType::sent, "sent"},
    {EventType::deferred, "deferred"},
    {EventType::delivered, "delivered"},
    {EventType::bounced, "bounced"},
    {EventType::rejected, "rejected"},
    {EventType::failed, "failed"},
    {EventType::complained, "complained"},
    {EventType::opened, "opened"},
    {EventType::clicked, "clicked"},
    {EventType::unsubscribed, "unsubscribed"},
    {EventType::opted_out, "opted_out"},
    {EventType::unknown, "unknown"},
}};

// How far along its delivery a message the provider accepted is; an event moves it only to a
// higher rank. Not accepted (queued, sending, retrying, suppressed): none. (A message still in
// flight keeps its events on its timeline but not their status: a crash then requeues it as
// it was, so a provider that dedupes by key sees the same batch again.)
std::optional<int> rank(MessageStatus s) {
  switch (s) {
    case MessageStatus::sent:
      return 0;
    case MessageStatus::deferred:
      return 1;
    case MessageStatus::delivered:
      return 2;
    case MessageStatus::failed:
    case MessageStatus::bounced:
      return 3;
    case MessageStatus::complained:
      return 4;
    default:
      return std::nullopt;
  }
}

// The status an event reports, if it reports one.
std::optional<MessageStatus> reported(EventType t) {
  switch (t) {
    case EventType::deferred:
      return MessageStatus::deferred;
    case EventType::delivered:
    case EventType::opened:  // an open or a click shows it was delivered
    case EventType::clicked:
      return MessageStatus::delivered;
    case EventType::bounced:
      return MessageStatus::bounced;
    case EventType::rejected:
    case EventType::failed:
      return MessageStatus::failed;
    case EventType::complained:
      return MessageStatus::complained;
    default:
      return std::nullopt;  // queued, sent: not past what Herald knows; the rest: no status
  }
}

}  // namespace

std::string_view to_string(EventType t) {
  for (const auto& [v, name] : kTypes)
    if (v == t) return name;
  return "unknown";
}

std::optional<EventType> parse_event_type(std::string_view s) {
  for (const auto& [v, name] : kTypes)
    if (name == s) return v;
  return std::nullopt;
}

std::string_view to_string(BounceKind b) {
  switch (b) {
    case BounceKind::hard:
      return "hard";
    case BounceKind::soft:
      return "soft";
    default:
      return "";
  }
}

std::string cap_raw_event(std::string_view raw) {
  if (raw.size() <= kMaxRawEventBytes) return std::string(raw);
  std::size_t n = kMaxRawEventBytes;
  // Back off continuation bytes (10xxxxxx) so a character is never cut in half.
  while (n > 0 && (static_cast<unsigned char>(raw[n]) & 0xC0) == 0x80) --n;
  return std::string(raw.substr(0, n));
}

std::optional<MessageStatus> status_after(MessageStatus current, const DeliveryEvent& event) {
  const auto from = rank(current);
  const auto to = reported(event.type);
  if (!from || !to || *rank(*to) <= *from) return std::nullopt;
  return to;
}

SuppressionDecision suppression_for(const DeliveryEvent& event, int soft_bounces_before,
                                    int soft_limit) {
  switch (event.type) {
    case EventType::bounced:
      if (event.bounce == BounceKind::soft && soft_bounces_before + 1 < soft_limit)
        return {SuppressAction::count_soft_bounce, {}};
      return {SuppressAction::suppress, "bounced"};
    case EventType::complained:
      return {SuppressAction::suppress, "complained"};
    case EventType::unsubscribed:
      return {SuppressAction::suppress, "unsubscribed"};
    case EventType::opted_out:
      return {SuppressAction::suppress, "stop"};
    case EventType::delivered:
      return {soft_bounces_before > 0 ? SuppressAction::reset_soft_bounces : SuppressAction::none,
              {}};
    default:
      return {};
  }
}

}  // namespace herald
