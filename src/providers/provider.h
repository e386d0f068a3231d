// The provider interface: one adapter per provider translates a normalized message into
// the provider's HTTP request and classifies the provider's response. Adapters own no
// loop, retry or rate limit (those live in delivery/) and perform no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/http_message.h"
#include "core/message.h"
#include "core/route.h"
#include "core/types.h"

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
};

// How a provider answered a read-only credential check.
struct VerifyOutcome {
  bool ok = false;
  bool bad_credentials = false;  // the provider rejected the key
  bool retryable = false;        // 429/5xx: try again later
  std::string detail;            // human-readable, e.g. "key is valid (send-only)"
  int http_status = 0;
};

// What a provider can do.
struct Capabilities {
  Channel channel = Channel::email;
  std::size_t max_batch = 1;      // messages per send request (1 = no batch API used)
  bool idempotency_keys = false;  // provider dedupes retries by key (Resend)
  // A batch shares one from, reply-to, subject and content; what differs per recipient goes
  // through the provider's substitutions (SendGrid, Mailgun). False: each message in a batch
  // carries its own content (Resend).
  bool shared_content = false;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual ProviderId id() const = 0;
  virtual Capabilities capabilities() const = 0;

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
};

// The adapter for a provider (static instances; never null).
const Provider& provider_for(ProviderId id);

// Parses a Retry-After header value given in seconds (HTTP-date forms are ignored).
std::optional<std::chrono::seconds> parse_retry_after(const HttpResponse& response);

}  // namespace herald::providers
