// One emulation per provider, each in its own files: the send side (<provider>_emulator.cpp)
// and the webhook side (<provider>_webhooks.cpp: registration routes and the shaping of the
// event posts). Each registers the provider's real paths on the sandbox's router. Internal to
// src/sandbox.
#pragma once

#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server/server.h"
#include "sandbox/events.h"
#include "sandbox/state.h"

namespace herald::sandbox {

// Resend: POST /emails, POST /emails/batch, GET /domains (resend_emulator.cpp).
void add_resend_routes(http::Router& router, SandboxState& state);
// SendGrid: POST /v3/mail/send, GET /v3/scopes (sendgrid_emulator.cpp).
void add_sendgrid_routes(http::Router& router, SandboxState& state);
// Mailgun: POST /v3/{domain}/messages, GET /v3/domains/{domain}, GET /v4/domains
// (mailgun_emulator.cpp).
void add_mailgun_routes(http::Router& router, SandboxState& state);
// Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json, GET /2010-04-01/Accounts/{sid}.json
// (twilio_emulator.cpp).
void add_twilio_routes(http::Router& router, SandboxState& state);

// Resend: GET and POST /webhooks, GET, PATCH and DELETE /webhooks/{id} (resend_webhooks.cpp).
void add_resend_webhook_routes(http::Router& router, SandboxState& state);
// SendGrid: the Event Webhook settings under /v3/user/webhooks/event/settings
// (sendgrid_webhooks.cpp).
void add_sendgrid_webhook_routes(http::Router& router, SandboxState& state);
// Mailgun: /v3/domains/{domain}/webhooks[/{type}] and GET /v5/accounts/http_signing_key
// (mailgun_webhooks.cpp).
void add_mailgun_webhook_routes(http::Router& router, SandboxState& state);

// What a provider's send side and webhook side share: its authentication and error shape,
// and its event shaping (a Shaper, events.h).
namespace resend {
// The API key of a request Resend would serve, or the answer that refuses it.
std::expected<std::string, http::Response> authenticate(const http::Request& request);
// Resend's error answer: {"statusCode","name","message"}.
http::Response error(int status, std::string_view name, std::string_view message);
// One post per event and webhook, signed the Svix way (resend_webhooks.cpp).
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now);
}  // namespace resend

namespace sendgrid {
// Bearer auth: nullopt and `key` set, or the 401 answer.
std::optional<http::Response> authenticate(const http::Request& request, std::string& key);
// SendGrid's error answer: {"errors":[{"message","field":null,"help":null}]}.
http::Response error(int status, std::string message);
// One array of events per post and webhook, ECDSA-signed (sendgrid_webhooks.cpp).
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now);
}  // namespace sendgrid

namespace mailgun {
using Fields = std::vector<std::pair<std::string, std::string>>;
// Basic auth as user "api": nullopt and `key` set, or the 401 answer.
std::optional<http::Response> authenticate(const http::Request& request, std::string& key);
// Mailgun's usual error answer: {"message"}.
http::Response message(int status, std::string_view text);
// The form fields of a multipart/form-data or urlencoded body; nullopt if malformed.
std::optional<Fields> read_fields(const http::Request& request);
// One post per event and URL of its webhook type, signed in the body (mailgun_webhooks.cpp).
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now);
}  // namespace mailgun

namespace twilio {
// One form post per status change to the message's StatusCallback (twilio_callbacks.cpp).
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now);
}  // namespace twilio

// The inbox page at GET / (inbox.cpp).
http::Response render_inbox(const std::vector<RecordedMessage>& newest_first,
                            const StoreStats& stats);

}  // namespace herald::sandbox
