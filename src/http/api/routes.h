// Route registration for resources that live in their own handler files.
#pragma once

#include "app/app.h"
#include "http/server/server.h"

namespace herald::api {

// /api/v1/agents/{id}/contacts…, …/suppressions…, and the public unsubscribe pages /u/{token}.
void register_contact_routes(http::Router& router, app::App& app);
// /api/v1/admin/usage and /api/v1/admin/platform (the operator's views), and /readyz
void register_admin_routes(http::Router& router, app::App& app);
// /api/v1/agents/{id}/campaigns… (create, launch, pause, resume, cancel, live counts)
void register_campaign_routes(http::Router& router, app::App& app);
// /api/v1/providers (the registry, for the dashboard's Integrations cards)
void register_provider_routes(http::Router& router, app::App& app);
// /api/v1/agents/{id}/templates…
void register_template_routes(http::Router& router, app::App& app);
// The providers' delivery-event receivers: /webhooks/{provider}/{owner} (Resend, SendGrid,
// Mailgun) and /webhooks/twilio/{owner}/status.
void register_webhook_routes(http::Router& router, app::App& app);

}  // namespace herald::api
