// The adapter instances behind provider_for(): each lives in its provider's file.
#pragma once

#include "providers/provider.h"

namespace herald::providers {

const Provider& resend_adapter();
const Provider& sendgrid_adapter();
const Provider& mailgun_adapter();
const Provider& twilio_adapter();
const Provider& smtp_adapter();

}  // namespace herald::providers
