// The provider registry: every provider Herald speaks to, one line each. Adding a provider is
// its own file (src/providers/<name>.cpp, declaring its adapter in adapters.h) plus a line here.
#include "providers/adapters.h"

namespace herald::providers {

std::span<const Provider* const> all_providers() {
  static const Provider* const kProviders[] = {
      &resend_adapter(), &sendgrid_adapter(), &mailgun_adapter(),
      &twilio_adapter(), &smtp_adapter(),
  };
  return kProviders;
}

}  // namespace herald::providers
