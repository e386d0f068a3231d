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

// The kind's name as the API and dashboard spell it.
std::string_view to_string(FieldKind k) {
  switch (k) {
    case FieldKind::text:
      return "text";
    case FieldKind::secret:
      return "secret";
    case FieldKind::email:
      return "email";
    case FieldKind::phone:
      return "phone";
    case FieldKind::choice:
      return "choice";
    case FieldKind::port:
      return "port";
    case FieldKind::host:
      return "host";
  }
  return "text";
}

const CredentialField* ProviderInfo::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

const CredentialField* ProviderInfo::sender_field() const {
  for (const auto& f : fields)
    if (f.kind == FieldKind::email || f.kind == FieldKind::phone) return &f;
  return nullptr;
}

const Provider* find_provider(std::string_view id) {
  for (const Provider* p : all_providers())
    if (p->info().id == id) return p;
  return nullptr;
}

const Provider& provider_for(std::string_view id) {
  if (const Provider* p = find_provider(id)) return *p;
  std::abort();
}

std::string display_name(std::string_view id) {
  const Provider* p = find_provider(id);
  return std::string(p ? p->info().display_name : id);
}

std::optional<std::chrono::seconds> parse_retry_after(const HttpResponse& response) {
  const auto value = response.header("Retry-After");
  if (!value) return std::nullopt;
  const auto seconds = parse_decimal(*value);
  if (!seconds) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

}  // namespace herald::providers
