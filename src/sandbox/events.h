// The delivery events the sandbox posts back after accepting a message: what happens to each
// recipient (by a rule on the address, below), and the pieces the poster (event_poster.h)
// and each provider's event shaping (*_webhooks.cpp) pass between them. Internal to
// src/sandbox.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"

namespace herald::sandbox {

struct WebhookRegistry;

// What happened, in provider-neutral terms; each provider names and shapes it its own way.
enum class EventKind {
  sent,         // Twilio: handed to the carrier
  delivered,    // accepted by the receiving server (SMS: the handset)
  deferred,     // a temporary failure (the provider keeps trying)
  bounced,      // a permanent refusal (a hard bounce)
  complained,   // marked as spam
  opened,       // the tracking pixel loaded
  clicked,      // a tracked link followed
  undelivered,  // Twilio: the carrier could not deliver (with an error code)
};

// One recipient's events, in the order they happen.
struct Outcome {
  std::vector<EventKind> events;
  int error_code = 0;  // undelivered: Twilio's error code
};

// Email, by the address's local part (case-insensitive): "bounce…" bounces (hard), "soft…"
// is deferred, "complain…" is delivered then a complaint, "open…" delivered then opened,
// "click…" delivered, opened, clicked; anything else is delivered.
Outcome email_outcome(std::string_view address);

// SMS, by the number's last four digits: 000N where 3000N is one of Twilio's delivery errors
// (30003 unreachable, 30005 unknown number, 30006 landline, 30007 carrier filtering, 30008
// unknown) is sent then undelivered with that ErrorCode; any other number is sent then
// delivered.
Outcome sms_outcome(std::string_view number);

// Whether the number stands for a recipient who replied STOP to every sender: Twilio refuses
// sends to it with error 21610. A number ending in 21610.
bool sms_opted_out(std::string_view number);

// An injected fault on a message's events (POST /sandbox/faults with "events").
struct EventFault {
  bool duplicate = false;              // post every event twice (a redelivery: the same event id)
  bool reorder = false;                // post the message's events last first
  std::chrono::milliseconds delay{0};  // wait this long before posting them
};

struct Delivery;

// One event of a delivery, as the poster scheduled it.
struct Step {
  EventKind kind = EventKind::delivered;
  std::string id;      // the event's id: the same for a duplicate, so receivers can dedupe
  TimePoint at;        // when it happened
  int error_code = 0;  // undelivered: Twilio's ErrorCode
};

// One event to post: which message, which event.
struct EventItem {
  const Delivery* delivery = nullptr;
  const Step* step = nullptr;
};

// One HTTP post carrying `events` events to a receiver.
struct Post {
  HttpRequest request;
  std::size_t events = 1;
  int final_status = 0;  // a status the provider never retries (Mailgun: 406); 0: none
};

// A provider's event shaping: the posts that carry `items` (all of that provider) to the
// receivers registered now, signed at `now`. Posts of one call may go out concurrently.
using Shaper = std::vector<Post> (*)(std::span<const EventItem> items, WebhookRegistry& registry,
                                     TimePoint now);

// One accepted message to one recipient whose events are to be posted.
struct Delivery {
  Shaper shaper = nullptr;
  bool sms = false;
  std::string scope;     // whose registrations apply: the API key (Mailgun: key and domain)
  std::string account;   // Twilio: the AccountSid
  std::string secret;    // Twilio: the auth token the callbacks are signed with
  std::string domain;    // Mailgun: the sending domain
  std::string callback;  // Twilio: the message's StatusCallback
  std::string to;        // the bare address or number
  std::string from;
  std::string subject;
  std::string herald_message_id;
  std::string provider_message_id;
  std::string link;  // a click's link: the message's first one
  TimePoint accepted_at;
  EventFault fault;
};

// The steps of `delivery`'s events from `now` on, with fresh event ids, the fault applied.
std::vector<Step> schedule(const Delivery& delivery, TimePoint now);

}  // namespace herald::sandbox
