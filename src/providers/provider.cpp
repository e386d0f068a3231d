#include "providers/provider.h"

#include <cstdlib>

#include "providers/adapters.h"
#include "providers/encoding.h"

namespace herald::providers {

std::string_view to_string(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::accepted:
      return "accepted";
    case OutcomeKind::retryable:
      return "retryable";
    case OutcomeKind::permanent:
      return "permanent";
    case OutcomeKind::bad_credentials:
      return "bad_credentials";
  }
  return "unknown";
}

const Provider& provider_for(ProviderId id) {
  switch (id) {
    case ProviderId::resend:
      return resend_adapter();
    case ProviderId::sendgrid:
      return sendgrid_adapter();
    case ProviderId::mailgun:
      return mailgun_adapter();
    case ProviderId::twilio:
      return twilio_adapter();
  }
  // Only reachable with a ProviderId cast from an out-of-range integer: a bug.
  std::abort();
}

std::optional<std::chrono::seconds> parse_retry_after(const HttpResponse& response) {
  const auto value = response.header("Retry-After");
  if (!value) return std::nullopt;
  const auto seconds = parse_decimal(*value);
  if (!seconds) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

}  // namespace herald::providers
