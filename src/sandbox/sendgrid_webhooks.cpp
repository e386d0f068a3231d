// SendGrid's Event Webhook: the settings API (/v3/user/webhooks/event/settings, its {id} and
// signed/{id}) and the event posts, a JSON array of events each, ECDSA P-256 signed once
// signing is turned on. Contract: provider-specs/sendgrid/tsg_webhooks_v3.json and
// provider-specs/WEBHOOKS.md § SendGrid.
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "sandbox/emulators.h"
#include "sandbox/signing.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

constexpr std::string_view kSettings = "/v3/user/webhooks/event/settings";
constexpr std::size_t kMaxWebhooks = 5;  // the spec's example `max_allowed`

// The event switches of a webhook (spec EventWebhookRequest).
constexpr std::string_view kSwitches[] = {
    "account_status_change",
    "bounce",
    "click",
    "deferred",
    "delivered",
    "dropped",
    "group_resubscribe",
    "group_unsubscribe",
    "open",
    "processed",
    "spam_report",
    "unsubscribe",
};

// An event's name in the post, and the switch that turns it on.
struct Name {
  std::string_view event;
  std::string_view setting;
};

Name name_of(EventKind kind) {
  switch (kind) {
    case EventKind::sent:
      return {"processed", "processed"};
    case EventKind::delivered:
      return {"delivered", "delivered"};
    case EventKind::deferred:
      return {"deferred", "deferred"};
    case EventKind::bounced:
      return {"bounce", "bounce"};
    case EventKind::complained:
      return {"spamreport", "spam_report"};
    case EventKind::opened:
      return {"open", "open"};
    case EventKind::clicked:
      return {"click", "click"};
    case EventKind::undelivered:
      return {"dropped", "dropped"};
  }
  return {"delivered", "delivered"};
}

bool valid_url(std::string_view url) {
  std::string_view rest = url.starts_with("https://")  ? url.substr(8)
                          : url.starts_with("http://") ? url.substr(7)
                                                       : std::string_view();
  return !rest.empty() && rest.front() != '/' && url.find_first_of(" \t\r\n") == url.npos;
}

http::Response not_found() {
  return sendgrid::error(404, "Invalid id provided.");
}

// 400 naming the webhook that already posts to `url` (spec example "Exists").
http::Response exists(const Hook& hook) {
  json error = {{"id", hook.id},
                {"message", "Webhook at '" + hook.urls.front() +
                                "' already exists. Please provide a unique URL."},
                {"url", hook.urls.front()}};
  return http::Response::json(400, json_text({{"errors", json::array({error})}}));
}

json hook_json(const Hook& h) {
  json out = {{"enabled", h.enabled},
              {"url", h.urls.empty() ? "" : h.urls.front()},
              {"friendly_name", h.name.empty() ? json(nullptr) : json(h.name)},
              {"id", h.id},
              {"oauth_client_id", nullptr},
              {"oauth_token_url", nullptr},
              {"created_date", iso8601(h.created).substr(0, 19) + "Z"},
              {"updated_date", iso8601(h.updated).substr(0, 19) + "Z"}};
  for (std::string_view s : kSwitches) out[std::string(s)] = h.events.contains(std::string(s));
  return out;
}

// Applies a settings body to `hook`: url, enabled, friendly_name and the event switches
// given (create: absent switches are off). Nullopt, or the 400 to answer.
std::optional<http::Response> apply_settings(const json& body, Hook& hook) {
  if (!body.is_object()) return sendgrid::error(400, "request body is invalid JSON");
  if (auto url = body.find("url"); url != body.end()) {
    if (!url->is_string() || !valid_url(url->get_ref<const std::string&>())) {
      return sendgrid::error(
          400, "'" + (url->is_string() ? url->get<std::string>() : "") + "' is not a valid url");
    }
    hook.urls = {url->get<std::string>()};
  }
  if (hook.urls.empty()) return sendgrid::error(400, "url is required");
  if (auto enabled = body.find("enabled"); enabled != body.end() && enabled->is_boolean()) {
    hook.enabled = enabled->get<bool>();
  }
  if (auto name = body.find("friendly_name"); name != body.end() && name->is_string()) {
    hook.name = name->get<std::string>();
  }
  for (std::string_view s : kSwitches) {
    auto on = body.find(s);
    if (on == body.end() || !on->is_boolean()) continue;
    if (on->get<bool>()) {
      hook.events.insert(std::string(s));
    } else {
      hook.events.erase(std::string(s));
    }
  }
  return std::nullopt;
}

// POST …/settings: 201 with the new webhook and its id; 400 naming an existing webhook that
// already posts to the URL. Signing starts off (spec: it cannot be set at creation).
http::Response create_hook(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  json body = parse_json(request.body);
  Hook hook;
  hook.enabled = false;
  hook.signed_posts = false;
  if (auto bad = apply_settings(body.is_discarded() ? json() : body, hook)) return std::move(*bad);
  if (auto same = state.webhooks.sendgrid.find_url(key, hook.urls.front())) return exists(*same);
  if (state.webhooks.sendgrid.list(key).size() >= kMaxWebhooks) {
    return sendgrid::error(
        400, "You have reached the maximum number of webhooks per your current billing plan.");
  }
  hook.id = random_uuid();
  hook.created = hook.updated = state.now();
  json out = hook_json(hook);
  state.webhooks.sendgrid.put(key, std::move(hook));
  return http::Response::json(201, json_text(out));
}

// GET …/settings/all.
http::Response list_hooks(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  json hooks = json::array();
  for (const Hook& h : state.webhooks.sendgrid.list(key)) {
    json one = hook_json(h);
    one["public_key"] = h.signed_posts && h.signing_key ? h.signing_key->public_key() : "";
    hooks.push_back(std::move(one));
  }
  return http::Response::json(
      200, json_text({{"max_allowed", kMaxWebhooks}, {"webhooks", std::move(hooks)}}));
}

// GET …/settings/{id}.
http::Response get_hook(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  auto hook = state.webhooks.sendgrid.find(key, request.param("id"));
  if (!hook) return not_found();
  return http::Response::json(200, json_text(hook_json(*hook)));
}

// PATCH …/settings/{id}: the fields given; 400 when the new URL is another webhook's.
http::Response update_hook(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  json body = parse_json(request.body);
  auto hook = state.webhooks.sendgrid.find(key, request.param("id"));
  if (!hook) return not_found();
  if (auto bad = apply_settings(body.is_discarded() ? json() : body, *hook)) return std::move(*bad);
  auto same = state.webhooks.sendgrid.find_url(key, hook->urls.front());
  if (same && same->id != hook->id) return exists(*same);
  hook->updated = state.now();
  json out = hook_json(*hook);
  state.webhooks.sendgrid.put(key, std::move(*hook));
  return http::Response::json(200, json_text(out));
}

// DELETE …/settings/{id}.
http::Response remove_hook(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  if (!state.webhooks.sendgrid.remove(key, request.param("id"))) return not_found();
  return http::Response{204, {}, {}, {}};
}

json signed_json(const Hook& hook) {
  return {
      {"id", hook.id},
      {"public_key", hook.signed_posts && hook.signing_key ? hook.signing_key->public_key() : ""}};
}

// GET …/settings/signed/{id}: the webhook's public key ("" while signing is off).
http::Response get_signed(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  auto hook = state.webhooks.sendgrid.find(key, request.param("id"));
  if (!hook) return not_found();
  return http::Response::json(200, json_text(signed_json(*hook)));
}

// PATCH …/settings/signed/{id} {"enabled": bool}: turns signing on (making the webhook's key
// pair the first time) or off; answers the public key, or "" when off.
http::Response update_signed(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  json body = parse_json(request.body);
  if (body.is_discarded() || !body.is_object() || !body.contains("enabled") ||
      !body["enabled"].is_boolean()) {
    return sendgrid::error(400, "enabled is required and must be a boolean");
  }
  const bool enabled = body["enabled"].get<bool>();
  auto hook = state.webhooks.sendgrid.update(key, request.param("id"), [&](Hook& h) {
    h.signed_posts = enabled;
    if (enabled && !h.signing_key) h.signing_key = EcKey::generate();
  });
  if (!hook) return not_found();
  return http::Response::json(200, json_text(signed_json(*hook)));
}

// One event as SendGrid posts it, with Herald's custom_args merged in at the top level.
json event_json(const Delivery& d, const Step& step) {
  const auto timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(step.at.time_since_epoch()).count();
  // sg_message_id is the send's X-Message-Id and a per-recipient suffix.
  const std::string suffix = std::to_string(std::hash<std::string>{}(d.to) % 100000);
  json e = {{"email", d.to},
            {"timestamp", timestamp},
            {"smtp-id", "<" + d.provider_message_id + "@ismtpd-sandbox>"},
            {"event", name_of(step.kind).event},
            {"category", json::array()},
            {"sg_event_id", step.id},
            {"sg_message_id", d.provider_message_id + ".filterdrecv-sandbox-" + suffix + "-0"}};
  if (!d.herald_message_id.empty()) e["herald_message_id"] = d.herald_message_id;
  switch (step.kind) {
    case EventKind::delivered:
      e["response"] = "250 2.0.0 OK";
      break;
    case EventKind::deferred:
      e["response"] = "451 4.2.0 Mailbox temporarily unavailable, try again later";
      e["attempt"] = "1";
      break;
    case EventKind::bounced:
      e["reason"] = "550 5.1.1 The email account that you tried to reach does not exist";
      e["status"] = "5.1.1";
      e["type"] = "bounce";
      e["bounce_classification"] = "Invalid Address";
      break;
    case EventKind::opened:
      e["useragent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Sandbox";
      e["ip"] = "192.0.2.10";
      e["sg_machine_open"] = false;
      break;
    case EventKind::clicked:
      e["url"] = d.link;
      e["url_offset"] = {{"index", 0}, {"type", "html"}};
      e["useragent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Sandbox";
      e["ip"] = "192.0.2.10";
      break;
    default:
      break;
  }
  return e;
}

// The signature is over the timestamp header followed by the body.
Post array_post(const Hook& hook, json events, TimePoint now) {
  Post post;
  post.events = events.size();
  post.request.method = "POST";
  post.request.url = hook.urls.front();
  post.request.body = json_text(events);
  post.request.headers = {{"Content-Type", "application/json"},
                          {"User-Agent", "SendGrid Event API"}};
  if (hook.signed_posts && hook.signing_key) {
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    post.request.headers.emplace_back(
        "X-Twilio-Email-Event-Webhook-Signature",
        base64_encode(hook.signing_key->sign(timestamp + post.request.body)));
    post.request.headers.emplace_back("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
  }
  return post;
}

}  // namespace

namespace sendgrid {

// Every enabled webhook of an item's account that has the event switched on gets it; each
// webhook gets one post with all of its events.
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now) {
  std::vector<std::pair<Hook, json>> batches;
  for (const EventItem& item : items) {
    const std::string setting(name_of(item.step->kind).setting);
    for (Hook& hook : registry.sendgrid.list(item.delivery->scope)) {
      if (!hook.enabled || !hook.events.contains(setting) || hook.urls.empty()) continue;
      auto batch = std::ranges::find_if(batches, [&](const auto& b) {
        return b.first.id == hook.id && b.first.urls == hook.urls;
      });
      if (batch == batches.end()) {
        batches.emplace_back(std::move(hook), json::array());
        batch = batches.end() - 1;
      }
      batch->second.push_back(event_json(*item.delivery, *item.step));
    }
  }
  std::vector<Post> posts;
  for (auto& [hook, events] : batches) posts.push_back(array_post(hook, std::move(events), now));
  return posts;
}

}  // namespace sendgrid

void add_sendgrid_webhook_routes(http::Router& router, SandboxState& state) {
  const std::string base(kSettings);
  router.add("POST", base, [&state](http::Request& r) { return create_hook(state, r); });
  router.add("GET", base + "/all", [&state](http::Request& r) { return list_hooks(state, r); });
  router.add("GET", base + "/{id}", [&state](http::Request& r) { return get_hook(state, r); });
  router.add("PATCH", base + "/{id}", [&state](http::Request& r) { return update_hook(state, r); });
  router.add("DELETE", base + "/{id}",
             [&state](http::Request& r) { return remove_hook(state, r); });
  router.add("GET", base + "/signed/{id}",
             [&state](http::Request& r) { return get_signed(state, r); });
  router.add("PATCH", base + "/signed/{id}",
             [&state](http::Request& r) { return update_signed(state, r); });
}

}  // namespace herald::sandbox
