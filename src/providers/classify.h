// Building blocks the adapters use to classify provider responses, so that each adapter
// only states which of its statuses and error names mean what.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_message.h"
#include "providers/provider.h"

namespace herald::providers {

// Statuses worth retrying whatever the provider: no response (0), 408, 429 and 5xx.
bool is_transient(int http_status);

// An accepted message with the provider's id for it.
SendOutcome accepted(int http_status, std::string provider_message_id);

// A retryable outcome; retry_after comes from the Retry-After header, else `fallback`.
SendOutcome retryable(const HttpResponse& response, std::string_view reason,
                      std::optional<std::chrono::seconds> fallback = std::nullopt);

// A permanent failure with the provider's reason.
SendOutcome permanent(int http_status, std::string_view reason);

// The provider rejected the credentials (or the account cannot send with them).
SendOutcome bad_credentials(int http_status, std::string_view reason);

// The same outcome for each of the `count` messages of a request that failed as a whole.
std::vector<SendOutcome> for_each_message(const SendOutcome& outcome, std::size_t count);

// Verify outcomes: key proven good; key rejected; try again later; anything else.
VerifyOutcome verify_ok(int http_status, std::string_view detail);
VerifyOutcome verify_rejected(int http_status, std::string_view detail);
VerifyOutcome verify_retryable(int http_status, std::string_view detail);
VerifyOutcome verify_failed(int http_status, std::string_view detail);

// A provider's error text made fit for logs and the dashboard: control characters become
// spaces, anything shaped like an API key (Resend `re_…`, SendGrid `SG.…`, Mailgun `key-…`)
// is replaced by `[redacted]`, and the result is capped at 500 bytes. Providers do not echo
// keys in their errors, but a reason is shown to people, so it never gets the chance.
std::string clean_reason(std::string_view text);

// A reason for a response whose body had nothing better: `<what> (HTTP <status>)`, or the
// cleaned start of a non-JSON body such as Mailgun's bare `Forbidden`.
std::string fallback_reason(const HttpResponse& response, std::string_view provider);

}  // namespace herald::providers
