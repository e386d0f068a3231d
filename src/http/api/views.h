// JSON views of domain values as the API shows them. Secrets appear only as hints.
#pragma once

#include "app/agents.h"
#include "http/api/common.h"
#include "providers/provider.h"
#include "store/store.h"

namespace herald::api {

json agent_view(const store::AgentRow& a);
json branding_view(const Branding& b);
// An integration, with its delivery tracking set-up under "tracking".
json integration_view(const std::optional<store::IntegrationRow>& row,
                      const std::optional<store::TrackingSetup>& tracking);
// Both channels' integrations, with their tracking set-ups (email, sms).
json integrations_view(const store::AgentRecord& rec,
                       const std::optional<store::TrackingSetup>& email_tracking,
                       const std::optional<store::TrackingSetup>& sms_tracking);
// How an account's delivery events reach Herald: status on | settingUp | notSetUp | failing.
json tracking_view(const std::optional<store::TrackingSetup>& setup);
json route_view(const Result<Route>& route);
json message_view(const Message& m);
json message_detail_view(const store::MessageDetail& d);
// A message's delivery events (its timeline after the provider accepted it), oldest first.
json delivery_events_view(const std::vector<store::StoredEvent>& events);
// A provider's registry entry as GET /api/v1/providers shows it (what the dashboard's
// Integrations cards are drawn from).
json provider_view(const providers::Provider& provider);

}  // namespace herald::api
