#include "http/api/views.h"

#include "providers/provider.h"

namespace herald::api {

json agent_view(const store::AgentRow& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"email", a.email},
          {"fallbackToPlatform", a.fallback_to_platform},
          {"createdAt", format_time(a.created_at)}};
}

json branding_view(const Branding& b) {
  return {{"companyName", b.company_name}, {"replyEmail", b.reply_email},
          {"smsPhone", b.sms_phone},       {"emailSignature", b.email_signature},
          {"website", b.website},          {"postalAddress", b.postal_address}};
}

json tracking_view(const std::optional<store::TrackingSetup>& t) {
  if (!t) return {{"status", "notSetUp"}, {"reason", nullptr}, {"receiverUrl", nullptr}};
  using store::TrackingState;
  const char* status = t->state == TrackingState::on || t->state == TrackingState::manual ? "on"
                       : t->state == TrackingState::pending ? "settingUp"
                       : t->state == TrackingState::failing ? "failing"
                                                            : "notSetUp";
  return {{"status", status},
          // who set the provider's webhook up: the agent by hand (a key given) or Herald
          {"setUpBy", t->state == TrackingState::manual ? json("you")
                      : t->state == TrackingState::on   ? json("herald")
                                                        : json(nullptr)},
          {"reason", t->reason.empty() ? json(nullptr) : json(t->reason)},
          {"receiverUrl", t->receiver_url.empty() ? json(nullptr) : json(t->receiver_url)},
          {"updatedAt", format_time(t->updated_at)}};
}

json integration_view(const std::optional<store::IntegrationRow>& row,
                      const std::optional<store::TrackingSetup>& tracking) {
  if (!row) return nullptr;
  // connected | inactive | failing: what the dashboard's badge shows.
  std::string status = !row->active                                ? "inactive"
                       : row->status == IntegrationStatus::failing ? "failing"
                                                                   : "connected";
  json j = {{"provider", row->provider},
            {"providerName", providers::display_name(row->provider)},
            {"active", row->active},
            {"status", status},
            {"statusReason", row->status_reason},
            // null: Herald's default for the provider
            {"rateLimitPerSecond", row->rate_limit > 0 ? json(row->rate_limit) : json(nullptr)},
            {"connectedAt", format_time(row->connected_at)},
            {"updatedAt", format_time(row->updated_at)}};
  // The provider's fields by their own names; the sender under its field's name (fromEmail,
  // phoneNumber); secrets only as "<field>Hint".
  const providers::Provider* provider = providers::find_provider(row->provider);
  const providers::CredentialField* sender = provider ? provider->info().sender_field() : nullptr;
  j[sender ? std::string(sender->name)
           : (row->channel == Channel::email ? "fromEmail" : "phoneNumber")] = row->sender;
  for (const auto& [name, value] : row->params) j[name] = value;
  for (const auto& [name, field] : row->secrets) j[name + "Hint"] = field.hint;
  j["tracking"] = tracking_view(tracking);
  return j;
}

json integrations_view(const store::AgentRecord& rec,
                       const std::optional<store::TrackingSetup>& email_tracking,
                       const std::optional<store::TrackingSetup>& sms_tracking) {
  return {{"email", integration_view(rec.email, email_tracking)},
          {"sms", integration_view(rec.sms, sms_tracking)}};
}

json route_view(const Result<Route>& route) {
  if (!route) return {{"error", route.error().message}};
  json j = {{"provider", route->provider},
            {"providerName", providers::display_name(route->provider)},
            {"via", to_string(route->via)},
            {"from", route->from_display()},
            {"payer", to_string(route->payer())}};
  j["replyTo"] = route->reply_to.empty() ? json(nullptr) : json(route->reply_to);
  return j;
}

static json summary_view(const std::optional<RouteSummary>& r) {
  if (!r) return nullptr;
  return {{"provider", r->provider},
          {"providerName", providers::display_name(r->provider)},
          {"via", to_string(r->via)},
          {"from", r->from},
          {"replyTo", r->reply_to.empty() ? json(nullptr) : json(r->reply_to)},
          {"payer", to_string(r->payer)}};
}

json message_view(const Message& m) {
  json j = {{"id", m.id},
            {"agentId", m.agent_id},
            {"channel", to_string(m.channel)},
            {"kind", to_string(m.kind)},
            {"template", m.template_key},
            {"to", m.to_address},
            {"toName", m.to_name},
            {"status", to_string(m.status)},
            {"attempts", m.attempts},
            {"lastError", m.last_error.empty() ? json(nullptr) : json(m.last_error)},
            {"providerMessageId",
             m.provider_message_id.empty() ? json(nullptr) : json(m.provider_message_id)},
            {"route", summary_view(m.route)},
            {"payer", m.route ? json(to_string(m.route->payer)) : json(nullptr)},
            {"createdAt", format_time(m.created_at)},
            {"updatedAt", format_time(m.updated_at)}};
  if (!m.listing_id.empty()) j["listingId"] = m.listing_id;
  if (!m.campaign_id.empty()) j["campaignId"] = m.campaign_id;
  if (m.status == MessageStatus::retrying) j["nextAttemptAt"] = format_time(m.next_attempt_at);
  return j;
}

// A status entry's words: the log keeps "accepted by <provider id>", an agent reads the
// provider's own name ("accepted by SendGrid").
static std::string history_detail(const StatusEvent& e) {
  constexpr std::string_view kAccepted = "accepted by ";
  if (e.status != MessageStatus::sent || !e.detail.starts_with(kAccepted)) return e.detail;
  return std::string(kAccepted) +
         providers::display_name(std::string_view(e.detail).substr(kAccepted.size()));
}

json message_detail_view(const store::MessageDetail& d) {
  json j = message_view(d.message);
  j["content"] = {
      {"subject", d.message.subject}, {"text", d.message.text}, {"html", d.message.html}};
  json attempts = json::array();
  for (const auto& a : d.attempts) {
    attempts.push_back(
        {{"number", a.number},
         {"at", format_time(a.at)},
         {"route", summary_view(a.route)},
         {"outcome", a.outcome},
         {"httpStatus", a.http_status},
         {"error", a.error.empty() ? json(nullptr) : json(a.error)},
         {"providerMessageId",
          a.provider_message_id.empty() ? json(nullptr) : json(a.provider_message_id)}});
  }
  j["attemptLog"] = std::move(attempts);
  json history = json::array();
  for (const auto& e : d.history) {
    history.push_back({{"at", format_time(e.at)},
                       {"status", to_string(e.status)},
                       {"detail", history_detail(e)}});
  }
  j["history"] = std::move(history);
  return j;
}

json delivery_events_view(const std::vector<store::StoredEvent>& events) {
  json out = json::array();
  for (const store::StoredEvent& s : events) {
    const DeliveryEvent& e = s.event;
    json j = {{"type", to_string(e.type)},
              {"at", format_time(e.occurred_at.value_or(s.received_at))},
              {"receivedAt", format_time(s.received_at)},
              {"provider", s.provider},
              {"providerName", providers::display_name(s.provider)},
              {"providerEvent", e.provider_event},
              {"recipient", e.recipient}};
    if (e.bounce != BounceKind::none) j["bounce"] = to_string(e.bounce);
    if (!e.reason.empty()) j["reason"] = e.reason;
    if (!e.url.empty()) j["url"] = e.url;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace herald::api

namespace herald::api {

json provider_view(const providers::Provider& provider) {
  const providers::ProviderInfo& info = provider.info();
  json fields = json::array();
  for (const auto& f : info.fields) {
    json field = {{"name", f.name},
                  {"label", f.label},
                  {"kind", providers::to_string(f.kind)},
                  {"required", f.required},
                  {"placeholder", f.placeholder},
                  {"help", f.help},
                  {"maxLength", f.max_length}};
    if (!f.choices.empty()) {
      json choices = json::array();
      for (const providers::Choice& c : f.choices)
        choices.push_back({{"value", c.value}, {"label", c.label}});
      field["choices"] = std::move(choices);
    }
    if (!f.default_value.empty()) field["default"] = f.default_value;
    if (!f.pattern.empty()) field["pattern"] = f.pattern;
    fields.push_back(std::move(field));
  }
  return {{"id", info.id},
          {"name", info.display_name},
          {"channel", to_string(info.channel)},
          {"fields", std::move(fields)},
          {"defaultRateLimitPerSecond", info.default_rate_limit},
          {"maxBatch", info.max_batch},
          {"idempotencyKeys", info.idempotency_keys},
          {"deliveryEvents", info.webhooks.delivery_events}};
}

}  // namespace herald::api
