// Delivery events: what a provider says happened to a message after it accepted it, in one
// closed vocabulary whatever the provider (each provider's webhook maps its own names onto it),
// and how an event moves a message's status: only forward, so events that arrive late, twice
// or out of order never overwrite a worse outcome with a better one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/message.h"

namespace herald {

enum class EventType {
  queued,        // the provider took it in (SendGrid processed, Mailgun accepted)
  sent,          // handed to the next hop (Twilio sent)
  deferred,      // a temporary failure; the provider keeps trying
  delivered,     // the receiving server (or handset) accepted it
  bounced,       // the receiving server refused it (BounceKind says hard or soft)
  rejected,      // the provider refused to send it (dropped, suppressed by the provider)
  failed,        // the provider could not send it (Twilio failed / undelivered)
  complained,    // the recipient marked it as spam
  opened,        // the recipient opened it (pixel)
  clicked,       // the recipient followed a link
  unsubscribed,  // the recipient unsubscribed through the provider
  opted_out,     // an SMS recipient opted out (STOP)
  unknown,       // an event Herald does not know: kept, never an error
};
std::string_view to_string(EventType t);
std::optional<EventType> parse_event_type(std::string_view s);

enum class BounceKind { none, hard, soft };
std::string_view to_string(BounceKind b);

// The most of a provider's payload kept with each event.
inline constexpr std::size_t kMaxRawEventBytes = 8192;

// One normalized event. Parsing fills what the provider gives; the receiver resolves the
// message (by Herald's id, else the provider's) and the owner.
struct DeliveryEvent {
  EventType type = EventType::unknown;
  BounceKind bounce = BounceKind::none;  // bounced: hard (suppress now) or soft (count)
  std::string provider_event;  // the provider's own name ("email.delivery_delayed", "bounce")
  // The provider's dedupe key for this event (Svix id, Mailgun signature token, SendGrid
  // sg_event_id, Twilio MessageSid + status): the same key twice is one event.
  std::string event_key;
  std::string message_id;                // Herald's message id, when the provider echoed it back
  std::string provider_message_id;       // the provider's id for the message (the fallback join)
  std::string recipient;                 // the address (or number) the event is about
  std::optional<TimePoint> occurred_at;  // when the provider says it happened
  std::string reason;                    // bounce or failure text, error code
  std::string url;                       // clicked: the link
  std::string raw;                       // this event's payload, at most kMaxRawEventBytes
};

// Cuts `raw` to kMaxRawEventBytes (on a UTF-8 boundary).
std::string cap_raw_event(std::string_view raw);

// The message's status after `event`, or nullopt when the event does not change it: delivery
// states only move forward (sent → deferred → delivered → bounced | complained; a later
// delivered never replaces bounced or complained), engagement events (opened, clicked,
// unsubscribed) never change the status, and nothing moves a message the provider never
// accepted (queued, sending, retrying, suppressed).
std::optional<MessageStatus> status_after(MessageStatus current, const DeliveryEvent& event);

// What an event does to its recipient's place on the agent's suppression list: a hard bounce,
// a complaint, an unsubscribe through the provider and an SMS opt-out suppress at once, with
// their reason; a soft bounce counts, and suppresses when it is the `soft_limit`-th in a row; a
// delivery ends the row.
enum class SuppressAction { none, suppress, count_soft_bounce, reset_soft_bounces };
struct SuppressionDecision {
  SuppressAction action = SuppressAction::none;
  std::string_view reason;  // suppress: "bounced" | "complained" | "unsubscribed" | "stop"
};
SuppressionDecision suppression_for(const DeliveryEvent& event, int soft_bounces_before,
                                    int soft_limit);

}  // namespace herald
