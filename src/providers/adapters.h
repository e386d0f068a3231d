// The adapter instances behind provider_for(): each lives in its provider's file, and its
// webhook twin (Provider::webhook()) in <provider>_webhook.cpp.
#pragma once

#include "providers/provider.h"

namespace herald::providers {

const Provider& resend_adapter();
const Provider& sendgrid_adapter();
const Provider& mailgun_adapter();
const Provider& twilio_adapter();
const Provider& smtp_adapter();

const WebhookTwin& resend_webhook();
const WebhookTwin& sendgrid_webhook();
const WebhookTwin& mailgun_webhook();
const WebhookTwin& twilio_webhook();

}  // namespace herald::providers
