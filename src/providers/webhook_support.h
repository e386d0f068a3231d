// Building blocks the webhook twins share (providers/<name>_webhook.cpp), so that each twin
// only states its provider's headers, fields and names: HMAC and constant-time comparison
// (OpenSSL), the freshness window, the time formats providers write, and the shapes of
// registration (and unregistration) steps and of their failures. Pure functions; no I/O, no
// clock.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "core/http_message.h"
#include "providers/webhook.h"

namespace herald::providers {

// A twin's mapping table: the provider's event names and what each is in Herald's terms.
template <class T, std::size_t N>
using NameTable = std::array<std::pair<std::string_view, T>, N>;

// The entry for `name` in `table`, or nullopt when the provider's name is not there.
template <class T, std::size_t N>
constexpr std::optional<T> lookup(const NameTable<T, N>& table, std::string_view name) {
  for (const auto& [k, v] : table) {
    if (k == name) return v;
  }
  return std::nullopt;
}

// HMAC-SHA256 of `data` keyed with `key`, as raw bytes (OpenSSL's HMAC()).
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lowercase hex of `bytes`.
std::string hex_lower(std::string_view bytes);

// Whether two signatures are equal, in time that depends only on their lengths (which are
// public: a signature's length is fixed by its algorithm) (OpenSSL's CRYPTO_memcmp).
bool same_signature(std::string_view a, std::string_view b);

// The request carries no signature to check (Errc::unauthorized): `what` says which part is
// missing ("no svix-signature header").
Error unsigned_request(std::string what);

// The signature is wrong, malformed or stale, or the key cannot check it (Errc::forbidden).
Error bad_signature(std::string what);

// A body that is not the provider's shape (Errc::invalid_input naming `field`).
Error malformed(std::string field, std::string why);

// Whole seconds since the Unix epoch as a header or field writes them ("1700000000").
std::optional<TimePoint> parse_unix_seconds(std::string_view text);

// Seconds since the epoch as a JSON number (Mailgun's 1521472262.908181, SendGrid's
// 1600112492) or a string holding one; nullopt for anything else.
std::optional<TimePoint> parse_unix_time(const nlohmann::json& value);

// An RFC 3339 / ISO 8601 time such as Resend's "2023-10-06T23:47:56.678Z" (fraction and a
// numeric offset allowed; a space may stand for the T).
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// Ok when `signed_at` is within kWebhookTolerance of `now` (either side: clocks drift);
// else a forbidden "stale" error naming `what`, so a captured request cannot be replayed
// later.
Result<void> check_fresh(TimePoint signed_at, TimePoint now, std::string_view what);

// The member `key` of a JSON object when it is an object (else nullptr).
const nlohmann::json* json_object(const nlohmann::json& parent, std::string_view key);

// Registration steps: the next request, the key the registration ends with, or its failure.
RegistrationStep ask(HttpRequest request);
RegistrationStep done(std::string key);
RegistrationStep failed(Error error);
// The end of an unregistration: nothing at the provider posts to the receiver any more.
RegistrationStep removed();

// A 2xx answer.
bool succeeded(const HttpResponse& answer);

// A 2xx answer to a removal, or a 404: what was to be removed is not there (any more), which
// is the end sought.
bool removed_or_gone(const HttpResponse& answer);

// What a webhook API request was for, as its errors say it.
enum class WebhookTask { set_up, remove };

// Why a registration request (or, for WebhookTask::remove, an unregistration request) failed,
// for the agent to read: no answer (retryable), the account's credentials refused (401/403,
// in plain words), or the provider's own `reason` (cleaned of anything shaped like a key; else
// the status in words).
Error registration_error(const HttpResponse& answer, std::string_view provider_id,
                         std::string_view display_name, std::string_view reason,
                         WebhookTask task = WebhookTask::set_up);

// A 2xx answer that lacks what the step needed (`what`: "a signing_secret").
Error unexpected_answer(const HttpResponse& answer, std::string_view provider_id,
                        std::string_view display_name, std::string_view what);

}  // namespace herald::providers
