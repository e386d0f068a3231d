// Messages as Herald queues, sends and logs them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"
#include "core/route.h"
#include "core/types.h"

namespace herald {

// Lifecycle: queued → sending → (retrying → sending)* → sent, then as the provider's delivery
// events say (core/events.h): → deferred → delivered → bounced | complained, or → failed; or
// failed / suppressed without a send. Everything from sent on is terminal as far as the queue
// is concerned.
enum class MessageStatus {
  queued,
  sending,
  retrying,
  sent,
  delivered,
  bounced,
  failed,
  suppressed,
  deferred,    // the provider accepted it and reports a temporary failure; it keeps trying
  complained,  // delivered, and the recipient marked it as spam
};
std::string_view to_string(MessageStatus s);
std::optional<MessageStatus> parse_message_status(std::string_view s);
bool is_terminal(MessageStatus s);

// Which lane a message travels in: transactional messages never wait behind campaigns.
enum class MessageKind { transactional, campaign };
std::string_view to_string(MessageKind k);
std::optional<MessageKind> parse_message_kind(std::string_view s);

// The route a message took, as recorded in the log (no credentials).
struct RouteSummary {
  ProviderId provider;
  Via via = Via::platform;
  std::string from;
  std::string reply_to;
  Via payer = Via::platform;
  bool operator==(const RouteSummary&) const = default;
};

// The status-history wording of a message the provider accepted ("accepted by sendgrid").
std::string accepted_detail(const ProviderId& provider);

// One call to a provider for a message.
struct Attempt {
  int number = 0;
  TimePoint at;
  RouteSummary route;
  std::string outcome;  // accepted | retryable | permanent | bad_credentials | error
  int http_status = 0;
  std::string error;
  std::string provider_message_id;
};

// One entry of a message's status history.
struct StatusEvent {
  TimePoint at;
  MessageStatus status = MessageStatus::queued;
  std::string detail;
};

// A message as stored. Content is rendered by the worker from template + vars + branding.
struct Message {
  std::string id;
  std::string agent_id;
  Channel channel = Channel::email;
  MessageKind kind = MessageKind::transactional;
  std::string template_key;  // e.g. "seller_welcome"
  std::string vars_json;     // template variables (JSON object)
  std::string to_address;    // email address or E.164 phone
  std::string to_name;
  std::string listing_id;
  std::string campaign_id;
  // The provider batch this message was sent in (kept so a retry re-forms the same batch and
  // reuses its idempotency key); empty until batched.
  std::string batch_id;
  // Rendered content (filled once rendered).
  std::string subject;
  std::string text;
  std::string html;
  MessageStatus status = MessageStatus::queued;
  int attempts = 0;
  TimePoint next_attempt_at;
  std::string last_error;
  std::string provider_message_id;
  std::optional<RouteSummary> route;
  TimePoint created_at;
  TimePoint updated_at;
};

// A fully rendered message handed to a provider adapter.
struct OutboundMessage {
  std::string id;  // Herald's message id: idempotency key and provider metadata
  std::string agent_id;
  Channel channel = Channel::email;
  // Email.
  Mailbox from;
  std::string reply_to;
  Mailbox to;
  std::string subject;
  std::string text;
  std::string html;
  Headers headers;  // extra headers, e.g. List-Unsubscribe
  // Batch personalization: when not empty, subject, text and html are the batch's shared
  // content, in which the provider's tag for each name (Provider::placeholder) stands for this
  // message's value. Empty: the content is this message's own.
  std::vector<std::pair<std::string, std::string>> substitutions;
  // SMS.
  std::string from_phone;
  std::string to_phone;
  std::string body;
  std::string status_callback;  // delivery webhook URL, optional
};

}  // namespace herald
