// The sandbox's shared state (recorded messages, injected faults, idempotency keys) and the
// small helpers every provider emulation uses. Internal to src/sandbox.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "http/server/server.h"
#include "sandbox/event_poster.h"
#include "sandbox/events.h"
#include "sandbox/sandbox.h"
#include "sandbox/webhook_registry.h"

namespace herald::sandbox {

// The emulated providers, as named in /sandbox endpoints and recorded messages.
inline constexpr std::string_view kResend = "resend";
inline constexpr std::string_view kSendGrid = "sendgrid";
inline constexpr std::string_view kMailgun = "mailgun";
inline constexpr std::string_view kTwilio = "twilio";
// Mail received over SMTP by the sandbox's mail server (smtp_sink.h), whoever sent it.
inline constexpr std::string_view kSmtp = "smtp";
inline constexpr std::string_view kProviders[] = {kResend, kSendGrid, kMailgun, kTwilio, kSmtp};
// Index of a provider name in kProviders, or -1.
int provider_index(std::string_view name);
// "resend, sendgrid, mailgun, twilio, smtp": the names, for error messages.
std::string provider_names();

// One accepted message to one recipient, as GET /sandbox/messages shows it.
struct RecordedMessage {
  std::string provider;
  // Twilio Account SID, the SMTP login, or "…" + last 4 characters of the API key
  std::string account;
  std::string from;
  std::string to;
  std::optional<std::string> reply_to;
  std::optional<std::string> subject;
  std::optional<std::string> text;
  std::optional<std::string> html;
  std::optional<std::string> body;  // SMS text
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> idempotency_key;
  std::string herald_message_id;  // empty when the request carried none
  std::string provider_message_id;
  TimePoint received_at;
};

// Counts over every message recorded since the last clear.
struct StoreStats {
  std::uint64_t total = 0;
  std::uint64_t per_provider[std::size(kProviders)] = {};
  std::uint64_t duplicates = 0;  // same provider + Herald message id + recipient seen again
  std::size_t stored = 0;        // bodies currently kept
};

// Recorded messages. One lock per accepted request; keeps the last max_bodies when bounded.
class MessageStore {
 public:
  explicit MessageStore(std::size_t max_bodies);
  void record(std::vector<RecordedMessage> messages);
  // Stored messages, oldest first, filtered by provider and recipient when non-empty;
  // at most `limit` (the newest ones) when limit > 0.
  std::vector<RecordedMessage> list(std::string_view provider, std::string_view to,
                                    std::size_t limit = 0) const;
  StoreStats stats() const;
  void clear();

 private:
  const std::size_t max_bodies_;
  mutable std::mutex mutex_;
  std::vector<RecordedMessage> items_;  // a ring buffer when max_bodies_ > 0
  std::size_t head_ = 0;                // oldest item when the ring is full
  std::unordered_set<std::string> seen_;
  StoreStats stats_;
};

// A fault to inject into a provider's next send requests, or (with `events`) into the
// events of its next accepted messages.
struct Fault {
  std::string provider;
  int status = 0;  // 0: answer normally (only delay)
  std::uint32_t count = 1;
  std::optional<std::uint32_t> retry_after;  // seconds, sent as Retry-After
  std::chrono::milliseconds delay{0};
  std::optional<EventFault> events;  // set: an event fault (status and delay unused)
};

// Faults waiting to be applied, first in first out per provider.
class FaultTable {
 public:
  void add(Fault fault);
  // Takes one use of the provider's oldest fault (nullopt if none).
  std::optional<Fault> take(std::string_view provider) { return take_if(provider, nullptr); }
  // The same, but only if `applies` (when given) holds for that oldest fault: the SMTP sink
  // answers AUTH with a fault only when the next fault in line is an authentication one.
  std::optional<Fault> take_if(std::string_view provider, bool (*applies)(const Fault&));
  std::vector<Fault> list() const;
  void clear();

 private:
  std::atomic<std::size_t> active_{0};  // lets take() skip the lock when there are none
  mutable std::mutex mutex_;
  std::vector<Fault> faults_;
};

// Resend's idempotency keys: the first successful response per (API key, key) is replayed for
// the same request body and a different body is a conflict, for `ttl`.
class IdempotencyCache {
 public:
  enum class Outcome { fresh, replay, conflict, in_progress };
  struct Begin {
    Outcome outcome = Outcome::fresh;
    int status = 0;    // replay: the stored status
    std::string body;  // replay: the stored body
  };
  explicit IdempotencyCache(std::chrono::seconds ttl) : ttl_(ttl) {}
  // Starts a request; on `fresh` the caller must call finish() or abandon() with the same scope.
  Begin begin(const std::string& scope, std::string_view request, TimePoint now);
  void finish(const std::string& scope, int status, std::string body);
  void abandon(const std::string& scope);
  void clear();

 private:
  struct Entry {
    std::uint64_t request_hash = 0;
    bool done = false;
    int status = 0;
    std::string body;
    TimePoint created;
  };
  const std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<TimePoint, std::string>> by_age_;  // for expiry, oldest first
};

// Everything the emulations share.
struct SandboxState {
  explicit SandboxState(const SandboxOptions& options);
  TimePoint now() const { return clock->now(); }
  // Takes one use of a fault for a send request; the fault's delay is applied by the caller.
  std::optional<Fault> take_fault(std::string_view provider) { return faults.take(provider); }
  // Hands the events of a request's accepted messages to the poster, each with one use of the
  // provider's event fault if one is waiting. The caller has checked that the account has a
  // receiver.
  void queue_events(std::vector<Delivery> deliveries, std::string_view provider);

  std::shared_ptr<const TimeSource> clock;
  MessageStore messages;
  FaultTable faults;
  FaultTable event_faults;
  IdempotencyCache idempotency;
  WebhookRegistry webhooks;
  EventPoster events;  // after `webhooks`, which its threads read
};

// The Delivery of an accepted message `m`, whose events `shaper` shapes for `scope`'s
// receivers.
Delivery delivery_of(const RecordedMessage& m, Shaper shaper, std::string scope);

// Adds Retry-After and the fault's delay to a provider's error response.
http::Response with_fault(http::Response response, const Fault& fault);

// --- helpers shared by the emulations ---

// Serializes JSON, replacing invalid UTF-8 from client input instead of throwing.
std::string json_text(const nlohmann::json& j);

// A random UUIDv4 (lowercase).
std::string random_uuid();
// `n` random lowercase hex digits.
std::string random_hex(std::size_t n);
// `n` random characters of the URL-safe base64 alphabet.
std::string random_base64url(std::size_t n);
// Decodes base64 (standard or URL-safe alphabet, padding optional); nullopt on a stray character.
std::optional<std::string> base64_decode(std::string_view in);
// "…" and the last 4 characters of a key: never the whole key.
std::string key_hint(std::string_view key);
// True for keys and tokens the sandbox treats as revoked (they begin with "revoked").
bool is_revoked(std::string_view secret);
// The token of "Authorization: Bearer <token>", if any.
std::optional<std::string> bearer_token(const http::Request& request);
// The user and password of "Authorization: Basic ...", if well-formed.
std::optional<std::pair<std::string, std::string>> basic_credentials(const http::Request& request);
// The address part of "Name <addr>" or "addr", trimmed; empty if malformed.
std::string email_address(std::string_view mailbox);
// True if `mailbox` is "addr" or "Name <addr>" with a plausible address.
bool valid_mailbox(std::string_view mailbox);
// ISO 8601 UTC with milliseconds ("2026-01-02T03:04:05.678Z").
std::string iso8601(TimePoint t);
// RFC 2822 date as Twilio writes it ("Thu, 24 Aug 2023 05:01:45 +0000").
std::string rfc2822(TimePoint t);
// Case-insensitive ASCII comparison and prefix test.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// Splits an address list on commas outside quotes and angle brackets; trims each item.
std::vector<std::string> split_addresses(std::string_view list);

}  // namespace herald::sandbox
