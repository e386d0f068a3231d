// Resend's webhooks: the registration API (GET / POST /webhooks, GET / PATCH / DELETE
// /webhooks/{id}) and the event posts, one event each, signed the Svix way. Contract:
// provider-specs/resend/resend.yaml (paths /webhooks, schemas *WebhookRequest/Response and
// Email*Event) and provider-specs/WEBHOOKS.md § Resend.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "sandbox/emulators.h"
#include "sandbox/signing.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

// The event types a webhook may subscribe to (spec `webhooks`).
constexpr std::string_view kEventTypes[] = {
    "email.sent",      "email.delivered", "email.delivery_delayed", "email.complained",
    "email.bounced",   "email.opened",    "email.clicked",          "email.received",
    "email.failed",    "email.scheduled", "email.suppressed",       "contact.created",
    "contact.updated", "contact.deleted", "domain.created",         "domain.updated",
    "domain.deleted",
};

std::string_view type_of(EventKind kind) {
  switch (kind) {
    case EventKind::sent:
      return "email.sent";
    case EventKind::delivered:
      return "email.delivered";
    case EventKind::deferred:
      return "email.delivery_delayed";
    case EventKind::bounced:
      return "email.bounced";
    case EventKind::complained:
      return "email.complained";
    case EventKind::opened:
      return "email.opened";
    case EventKind::clicked:
      return "email.clicked";
    case EventKind::undelivered:
      return "email.failed";
  }
  return "email.delivered";
}

// Resend writes webhook times as "2023-10-06 23:47:56.678+00" (spec ListWebhooksResponse).
std::string created_at(TimePoint t) {
  std::string s = iso8601(t);
  s[10] = ' ';
  s.pop_back();  // the Z
  return s + "+00";
}

bool valid_url(std::string_view url) {
  std::string_view rest = url.starts_with("https://")  ? url.substr(8)
                          : url.starts_with("http://") ? url.substr(7)
                                                       : std::string_view();
  return !rest.empty() && rest.front() != '/' && url.find_first_of(" \t\r\n") == url.npos;
}

http::Response not_found() {
  return resend::error(404, "not_found", "Webhook not found");
}

// Reads an `events` array of known types into `out`; else the 422 to answer.
std::optional<http::Response> read_events(const json& events, std::set<std::string>& out) {
  if (!events.is_array() || events.empty()) {
    return resend::error(422, "validation_error", "The `events` field must be a non-empty array.");
  }
  for (const json& e : events) {
    if (!e.is_string() ||
        std::ranges::find(kEventTypes, e.get<std::string>()) == std::end(kEventTypes)) {
      return resend::error(422, "validation_error",
                           "Invalid event type " + json_text(e) + " in the `events` field.");
    }
    out.insert(e.get<std::string>());
  }
  return std::nullopt;
}

// Applies a create or update body to `hook`; `create` requires endpoint and events.
std::optional<http::Response> apply_body(const json& body, Hook& hook, bool create) {
  if (!body.is_object()) {
    return resend::error(422, "validation_error", "The request body must be an object.");
  }
  auto endpoint = body.find("endpoint");
  if (endpoint == body.end() && create) {
    return resend::error(422, "missing_required_field", "Missing `endpoint` field.");
  }
  if (endpoint != body.end()) {
    if (!endpoint->is_string() || !valid_url(endpoint->get_ref<const std::string&>())) {
      return resend::error(422, "validation_error", "The `endpoint` field must be a valid URL.");
    }
    hook.urls = {endpoint->get<std::string>()};
  }
  auto events = body.find("events");
  if (events == body.end() && create) {
    return resend::error(422, "missing_required_field", "Missing `events` field.");
  }
  if (events != body.end()) {
    std::set<std::string> types;
    if (auto bad = read_events(*events, types)) return bad;
    hook.events = std::move(types);
  }
  if (auto status = body.find("status"); status != body.end()) {
    if (*status != "enabled" && *status != "disabled") {
      return resend::error(422, "validation_error",
                           "The `status` field must be `enabled` or `disabled`.");
    }
    hook.enabled = *status == "enabled";
  }
  return std::nullopt;
}

json hook_json(const Hook& h) {
  json events = json::array();
  for (const std::string& e : h.events) events.push_back(e);
  return {{"id", h.id},
          {"endpoint", h.urls.empty() ? "" : h.urls.front()},
          {"events", std::move(events)},
          {"status", h.enabled ? "enabled" : "disabled"},
          {"created_at", created_at(h.created)}};
}

// GET /webhooks[?limit=&after=]: the account's webhooks, oldest first, a page at a time:
// `after` a webhook's id starts the page past it (an unknown id gives an empty page), and
// has_more says whether another page follows.
http::Response list_hooks(SandboxState& state, http::Request& request) {
  auto key = resend::authenticate(request);
  if (!key) return std::move(key.error());
  std::size_t limit = 100;
  if (auto l = request.query_param("limit")) limit = std::strtoul(l->c_str(), nullptr, 10);
  if (limit == 0 || limit > 100) {
    return resend::error(422, "validation_error", "The `limit` must be between 1 and 100.");
  }
  const auto after = request.query_param("after");
  const auto hooks = state.webhooks.resend.list(*key);
  auto from = hooks.begin();
  if (after) {
    from = std::find_if(hooks.begin(), hooks.end(), [&](const Hook& h) { return h.id == *after; });
    if (from != hooks.end()) ++from;
  }
  json data = json::array();
  for (auto it = from; it != hooks.end() && data.size() < limit; ++it)
    data.push_back(hook_json(*it));
  const bool has_more = static_cast<std::size_t>(hooks.end() - from) > data.size();
  return http::Response::json(
      200, json_text({{"object", "list"}, {"has_more", has_more}, {"data", std::move(data)}}));
}

// POST /webhooks {endpoint, events}: 201 with the new webhook's signing_secret, whose key is
// 24 random bytes, as Svix makes them.
http::Response create_hook(SandboxState& state, http::Request& request) {
  auto key = resend::authenticate(request);
  if (!key) return std::move(key.error());
  json body = parse_json(request.body);
  if (body.is_discarded()) {
    return resend::error(400, "validation_error", "The request body is not valid JSON.");
  }
  Hook hook;
  if (auto bad = apply_body(body, hook, true)) return std::move(*bad);
  hook.id = random_uuid();
  hook.secret = "whsec_" + base64_encode(random_bytes(24));
  hook.created = hook.updated = state.now();
  json out = {{"object", "webhook"}, {"id", hook.id}, {"signing_secret", hook.secret}};
  state.webhooks.resend.put(*key, std::move(hook));
  return http::Response::json(201, json_text(out));
}

// GET /webhooks/{id}: the webhook with its signing_secret.
http::Response get_hook(SandboxState& state, http::Request& request) {
  auto key = resend::authenticate(request);
  if (!key) return std::move(key.error());
  auto hook = state.webhooks.resend.find(*key, request.param("id"));
  if (!hook) return not_found();
  json out = hook_json(*hook);
  out["object"] = "webhook";
  out["signing_secret"] = hook->secret;
  return http::Response::json(200, json_text(out));
}

// PATCH /webhooks/{id} {endpoint?, events?, status?}.
http::Response update_hook(SandboxState& state, http::Request& request) {
  auto key = resend::authenticate(request);
  if (!key) return std::move(key.error());
  json body = parse_json(request.body);
  if (body.is_discarded()) {
    return resend::error(400, "validation_error", "The request body is not valid JSON.");
  }
  auto hook = state.webhooks.resend.find(*key, request.param("id"));
  if (!hook) return not_found();
  if (auto bad = apply_body(body, *hook, false)) return std::move(*bad);
  hook->updated = state.now();
  json out = {{"object", "webhook"}, {"id", hook->id}};
  state.webhooks.resend.put(*key, std::move(*hook));
  return http::Response::json(200, json_text(out));
}

// DELETE /webhooks/{id}.
http::Response remove_hook(SandboxState& state, http::Request& request) {
  auto key = resend::authenticate(request);
  if (!key) return std::move(key.error());
  const std::string& id = request.param("id");
  if (!state.webhooks.resend.remove(*key, id)) return not_found();
  return http::Response::json(200,
                              json_text({{"object", "webhook"}, {"id", id}, {"deleted", true}}));
}

// The event's payload {type, created_at, data} (spec Email*Event, OutboundEmailEventData).
std::string event_body(const Delivery& d, const Step& step) {
  json data = {{"email_id", d.provider_message_id},
               {"created_at", iso8601(d.accepted_at)},
               {"from", d.from},
               {"to", json::array({d.to})},
               {"subject", d.subject}};
  if (!d.herald_message_id.empty()) {
    data["tags"] = {{"herald_message_id", d.herald_message_id}};
  }
  if (step.kind == EventKind::bounced) {
    data["bounce"] = {
        {"diagnosticCode",
         {"smtp; 550 5.1.1 The email account that you tried to reach does "
          "not exist"}},
        {"message",
         "The recipient's email provider sent a hard bounce message: the address does not "
         "exist."},
        {"subType", "General"},
        {"type", "Permanent"}};
  }
  if (step.kind == EventKind::clicked) {
    data["click"] = {{"ipAddress", "192.0.2.10"},
                     {"link", d.link},
                     {"timestamp", iso8601(step.at)},
                     {"userAgent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Sandbox"}};
  }
  json event = {
      {"type", type_of(step.kind)}, {"created_at", iso8601(step.at)}, {"data", std::move(data)}};
  return json_text(event);
}

// Svix signs "<svix-id>.<svix-timestamp>.<body>" with the secret's base64-decoded key.
Post signed_post(const std::string& url, const std::string& secret, const std::string& id,
                 TimePoint now, std::string body) {
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string key = base64_decode(std::string_view(secret).substr(6)).value_or("");
  const std::string signature = base64_encode(hmac_sha256(key, id + "." + timestamp + "." + body));
  Post post;
  post.request.method = "POST";
  post.request.url = url;
  post.request.headers = {{"Content-Type", "application/json"},
                          {"User-Agent", "Svix-Webhooks/1.0 (Herald sandbox)"},
                          {"svix-id", id},
                          {"svix-timestamp", timestamp},
                          {"svix-signature", "v1," + signature}};
  post.request.body = std::move(body);
  return post;
}

}  // namespace

namespace resend {

std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now) {
  std::vector<Post> posts;
  for (const EventItem& item : items) {
    const std::string type(type_of(item.step->kind));
    const std::string body = event_body(*item.delivery, *item.step);
    // The svix-id names the event, so a redelivery (a duplicate) keeps it.
    const std::string id = "msg_" + item.step->id;
    for (const Hook& hook : registry.resend.list(item.delivery->scope)) {
      if (!hook.enabled || !hook.events.contains(type) || hook.urls.empty()) continue;
      posts.push_back(signed_post(hook.urls.front(), hook.secret, id, now, body));
    }
  }
  return posts;
}

}  // namespace resend

void add_resend_webhook_routes(http::Router& router, SandboxState& state) {
  router.add("GET", "/webhooks", [&state](http::Request& r) { return list_hooks(state, r); });
  router.add("POST", "/webhooks", [&state](http::Request& r) { return create_hook(state, r); });
  router.add("GET", "/webhooks/{id}", [&state](http::Request& r) { return get_hook(state, r); });
  router.add("PATCH", "/webhooks/{id}",
             [&state](http::Request& r) { return update_hook(state, r); });
  router.add("DELETE", "/webhooks/{id}",
             [&state](http::Request& r) { return remove_hook(state, r); });
}

}  // namespace herald::sandbox
