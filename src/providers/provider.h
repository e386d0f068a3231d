// The provider interface: one adapter per provider translates a normalized message into
// the provider's HTTP request and classifies the provider's response. Adapters own no
// loop, retry or rate limit (those live in delivery/) and perform no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/http_message.h"
#include "core/message.h"
#include "core/route.h"
#include "core/types.h"
#include "providers/webhook.h"

namespace herald::providers {

// Herald's User-Agent on every provider request (Resend refuses requests without one).
inline constexpr std::string_view kUserAgent = "herald/0.1 (+https://github.com/herald)";

// How a provider answered a send, per message.
enum class OutcomeKind { accepted, retryable, permanent, bad_credentials };
std::string_view to_string(OutcomeKind k);

struct SendOutcome {
  OutcomeKind kind = OutcomeKind::permanent;
  std::string provider_message_id;                  // when accepted
  std::optional<std::chrono::seconds> retry_after;  // when retryable and the provider said
  std::string reason;                               // provider's error text (never a secret)
  int http_status = 0;
  // The provider refused because the recipient opted out of this sender (Twilio 21610: they
  // replied STOP). The address goes on the suppression list with the failure.
  bool recipient_opted_out = false;
};

// How a provider answered a read-only credential check.
struct VerifyOutcome {
  bool ok = false;
  bool bad_credentials = false;  // the provider rejected the key
  bool retryable = false;        // 429/5xx: try again later
  std::string detail;            // human-readable, e.g. "key is valid (send-only)"
  int http_status = 0;
};

// How a credential field is entered and checked.
enum class FieldKind {
  text,    // a single line (max_length applies)
  secret,  // sealed at rest, shown as a hint only, never returned
  email,   // the account's sender address (the route's From)
  phone,   // the account's sender number, normalized to E.164 (the route's From)
  choice,  // one of `choices`
  port,    // a TCP port, 1–65535
  host,    // a host name or IP address
};

// The kind's name as the API and the dashboard spell it ("secret", "port", …).
std::string_view to_string(FieldKind k);

// One value of a choice field: what is stored and what the dashboard shows ("eu", "EU").
struct Choice {
  std::string_view value;
  std::string_view label;
};

// One field a provider needs for an account (the API's JSON field and the dashboard's input).
struct CredentialField {
  std::string_view name;   // JSON field: apiKey, fromEmail, domain, accountSid, host, …
  std::string_view label;  // the dashboard's label
  FieldKind kind = FieldKind::text;
  bool required = true;
  std::string_view placeholder;      // an example value for the input
  std::string_view help;             // one line of plain advice under the input
  std::vector<Choice> choices;       // kind == choice
  std::string_view default_value;    // used when the field is left out
  std::string_view pattern;          // an ECMAScript regex the whole value must match
  std::string_view pattern_message;  // the error when it does not ("must be AC followed…")
  std::size_t max_length = 256;
  // The platform's environment variable for this field (RESEND_API_KEY, EMAIL_FROM, …).
  std::string_view env;
};

// What a provider's delivery webhooks can do (used by delivery tracking).
struct WebhookCapabilities {
  bool delivery_events = false;   // posts delivered / bounced / … events
  std::string_view signature;     // how they are signed: svix, ecdsa, hmac-sha256, …
  bool registration_api = false;  // receivers can be registered through the provider's API
  // The secret field of an account that verifies its posts (Twilio signs with the Auth Token).
  std::string_view key_field = "webhookSecret";
  // The answer to a post for an account Herald does not have: 404, or what stops the
  // provider's retries (Mailgun: 406).
  int not_found_status = 404;
  // Every event it posts names Herald's message (Resend's tags, SendGrid's custom_args,
  // Mailgun's user-variables, Twilio's callback URL), so its messages are not indexed by the
  // provider's own id: Resend's and Twilio's are unique and random, and that index cost a
  // fifth of a Resend campaign's speed. A provider whose events may lack Herald's id leaves
  // this false, and its messages are found by its id (the event's recipient picks one row of
  // a batch that shares it).
  bool events_name_the_message = false;
};

// A provider's description of itself: everything outside providers/ reads this instead of
// naming providers.
struct ProviderInfo {
  std::string_view id;            // registry id, stored with integrations ("sendgrid")
  std::string_view display_name;  // spelled the vendor's way ("SendGrid")
  Channel channel = Channel::email;
  std::vector<CredentialField> fields;
  std::string_view base_url_env;      // HERALD_<PROVIDER>_BASE_URL
  std::string_view default_base_url;  // the provider's API host (empty: none, e.g. SMTP)
  std::string_view rate_limit_env;    // HERALD_RATE_LIMIT_<PROVIDER>
  double default_rate_limit = 10;     // requests per second per account (burst: twice that)
  std::size_t max_batch = 1;          // messages per send request (1 = no batch API used)
  bool idempotency_keys = false;      // the provider dedupes retries by key (Resend)
  // A batch shares one from, reply-to, subject and content; what differs per recipient goes
  // through the provider's substitutions (SendGrid, Mailgun). False: each message in a batch
  // carries its own content (Resend).
  bool shared_content = false;
  // Regexes matching this provider's key shapes, replaced by [redacted] in any error text.
  std::vector<std::string_view> redact;
  // The fields that name one account at the provider, which shares one rate limit however
  // many integrations use it (Twilio: the Account SID). Empty: every field.
  std::vector<std::string_view> account_fields;
  WebhookCapabilities webhooks;

  // The field named `name`, or nullptr.
  const CredentialField* field(std::string_view name) const;
  // The field that holds the sender (kind email or phone), or nullptr.
  const CredentialField* sender_field() const;
};

// The From address field every email provider has (the platform's is EMAIL_FROM).
inline CredentialField sender_email_field(std::string_view help) {
  return {.name = "fromEmail",
          .label = "From Email",
          .kind = FieldKind::email,
          .placeholder = "you@yourdomain.com",
          .help = help,
          .max_length = 254,
          .env = "EMAIL_FROM"};
}

// The optional key that verifies an account's delivery events, for an agent who sets the
// webhook up by hand in the provider's dashboard (then Herald does not register one). Its
// name is WebhookCapabilities' default key_field.
inline CredentialField webhook_key_field(std::string_view label, std::string_view placeholder,
                                         std::string_view help, std::string_view env) {
  return {.name = "webhookSecret",
          .label = label,
          .kind = FieldKind::secret,
          .required = false,
          .placeholder = placeholder,
          .help = help,
          .max_length = 1024,
          .env = env};
}

// What a provider can do (the send path's view of ProviderInfo).
struct Capabilities {
  Channel channel = Channel::email;
  std::size_t max_batch = 1;
  bool idempotency_keys = false;
  bool shared_content = false;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The provider's description of itself (static; lives as long as the program).
  virtual const ProviderInfo& info() const = 0;
  ProviderId id() const { return ProviderId(info().id); }
  Capabilities capabilities() const {
    const ProviderInfo& i = info();
    return {i.channel, i.max_batch, i.idempotency_keys, i.shared_content};
  }

  // Checks the fields together, beyond what each field's description says (e.g. SMTP's
  // "none" security only for a loopback host); appends one error per offending field.
  virtual void check(const Params& /*params*/, std::vector<FieldError>& /*errors*/) const {}

  // The API host: the operator's override (credentials.base_url) or the provider's own.
  virtual std::string base_url(const Credentials& credentials) const {
    return credentials.base_url.empty() ? std::string(info().default_base_url)
                                        : credentials.base_url;
  }

  // The request that sends `messages` (1 ≤ size ≤ capabilities().max_batch).
  virtual HttpRequest build_send(const Credentials& credentials,
                                 std::span<const OutboundMessage> messages) const = 0;

  // Per-message outcomes of a send response, in the order of the request's messages.
  // A response with status 0 (no response: timeout, connection error) is retryable.
  virtual std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                                 std::size_t count) const = 0;

  // The tag a shared-content batch writes where the substitution `name` goes (SendGrid
  // "-name-", Mailgun "%recipient.name%"); empty when the provider has none.
  virtual std::string placeholder(std::string_view /*name*/) const { return {}; }

  // A read-only request proving the credentials are real.
  virtual HttpRequest build_verify(const Credentials& credentials) const = 0;
  virtual VerifyOutcome classify_verify(const HttpResponse& response) const = 0;

  // Its delivery webhooks (verify, parse, register), or nullptr when it has none (SMTP).
  virtual const WebhookTwin* webhook() const { return nullptr; }
};

// Every provider Herald speaks to, in the registry's order (src/providers/registry.cpp).
std::span<const Provider* const> all_providers();

// The provider registered under `id`, or nullptr when Herald does not know it.
const Provider* find_provider(std::string_view id);

// The provider registered under `id`, where `id` is known to be one (validated when it was
// stored or configured); anything else is a bug and aborts.
const Provider& provider_for(std::string_view id);

// The display name of `id` ("SendGrid"), or `id` itself when Herald does not know it.
std::string display_name(std::string_view id);

// Parses a Retry-After header value given in seconds (HTTP-date forms are ignored).
std::optional<std::chrono::seconds> parse_retry_after(const HttpResponse& response);

}  // namespace herald::providers
