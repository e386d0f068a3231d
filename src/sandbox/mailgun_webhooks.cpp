// Mailgun's domain webhooks: the API (/v3/domains/{domain}/webhooks, …/{type}, and the
// account's GET /v5/accounts/http_signing_key) and the event posts, one event each, signed in
// the body. Contract: provider-specs/mailgun/mailgun-openapi.yaml and
// provider-specs/WEBHOOKS.md § Mailgun.
#include <nlohmann/json.hpp>

#include "sandbox/emulators.h"
#include "sandbox/signing.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

// The webhook types of a domain (spec: `id` of POST /v3/domains/{domain}/webhooks).
constexpr std::string_view kTypes[] = {"accepted",       "clicked",   "opened",
                                       "unsubscribed",   "delivered", "permanent_fail",
                                       "temporary_fail", "complained"};
constexpr std::size_t kMaxUrls = 3;  // per type (spec)

// How an event is named: the webhook type it goes to, its `event`, and for `failed` its
// severity and reason.
struct Name {
  std::string_view hook;
  std::string_view event;
  std::string_view severity;
  std::string_view reason;
};

Name name_of(EventKind kind) {
  switch (kind) {
    case EventKind::sent:
      return {"accepted", "accepted", {}, {}};
    case EventKind::delivered:
      return {"delivered", "delivered", {}, {}};
    case EventKind::deferred:
      return {"temporary_fail", "failed", "temporary", "generic"};
    case EventKind::bounced:
    case EventKind::undelivered:
      return {"permanent_fail", "failed", "permanent", "bounce"};
    case EventKind::complained:
      return {"complained", "complained", {}, {}};
    case EventKind::opened:
      return {"opened", "opened", {}, {}};
    case EventKind::clicked:
      return {"clicked", "clicked", {}, {}};
  }
  return {"delivered", "delivered", {}, {}};
}

bool valid_url(std::string_view url) {
  std::string_view rest = url.starts_with("https://")  ? url.substr(8)
                          : url.starts_with("http://") ? url.substr(7)
                                                       : std::string_view();
  return !rest.empty() && rest.front() != '/' && url.find_first_of(" \t\r\n") == url.npos;
}

bool known_type(std::string_view type) {
  return std::ranges::find(kTypes, type) != std::end(kTypes);
}

json urls_json(const Hook& hook) {
  return {{"urls", hook.urls}};
}

// What every domain route checks first: the key, then the domain. Sets `scope`.
std::optional<http::Response> begin(const http::Request& request, std::string& scope) {
  std::string key;
  if (auto denied = mailgun::authenticate(request, key)) return denied;
  const std::string& domain = request.param("domain");
  if (domain.find('.') == std::string::npos) return mailgun::message(404, "Domain not found");
  scope = mailgun_scope(key, domain);
  return std::nullopt;
}

// The `url` fields of a create or update form (1 to 3 valid URLs), or the 400 to answer.
std::expected<std::vector<std::string>, http::Response> read_urls(const mailgun::Fields& fields) {
  std::vector<std::string> urls;
  for (const auto& [name, value] : fields) {
    if (name != "url") continue;
    if (!valid_url(value)) {
      return std::unexpected(
          http::Response::json(400, json_text({{"Reason", value + " is not a valid url"}})));
    }
    urls.push_back(value);
  }
  if (urls.empty())
    return std::unexpected(mailgun::message(400, "Missing mandatory parameter: url"));
  if (urls.size() > kMaxUrls) {
    return std::unexpected(mailgun::message(400, "Maximum of 3 urls per webhook type"));
  }
  return urls;
}

// GET /v3/domains/{domain}/webhooks: {"webhooks": {type: {"urls": […]}}}.
http::Response list_hooks(SandboxState& state, http::Request& request) {
  std::string scope;
  if (auto denied = begin(request, scope)) return std::move(*denied);
  json hooks = json::object();
  for (const Hook& h : state.webhooks.mailgun.list(scope)) hooks[h.id] = urls_json(h);
  return http::Response::json(200, json_text({{"webhooks", std::move(hooks)}}));
}

// POST /v3/domains/{domain}/webhooks (form: id, url…); 400 when the type has URLs already.
http::Response create_hook(SandboxState& state, http::Request& request) {
  std::string scope;
  if (auto denied = begin(request, scope)) return std::move(*denied);
  auto fields = mailgun::read_fields(request);
  if (!fields) return mailgun::message(400, "Malformed multipart/form-data body");
  std::string type;
  for (const auto& [name, value] : *fields) {
    if (name == "id") type = value;
  }
  if (!known_type(type)) return mailgun::message(400, "Invalid webhook id: '" + type + "'");
  auto urls = read_urls(*fields);
  if (!urls) return std::move(urls.error());
  if (state.webhooks.mailgun.find(scope, type)) {
    return mailgun::message(400, "Webhook already exists");
  }
  Hook hook;
  hook.id = type;
  hook.urls = std::move(*urls);
  hook.events = {type};
  hook.created = hook.updated = state.now();
  json out = {{"message", "Webhook has been created"}, {"webhook", urls_json(hook)}};
  state.webhooks.mailgun.put(scope, std::move(hook));
  return http::Response::json(200, json_text(out));
}

// GET /v3/domains/{domain}/webhooks/{type}.
http::Response get_hook(SandboxState& state, http::Request& request) {
  std::string scope;
  if (auto denied = begin(request, scope)) return std::move(*denied);
  auto hook = state.webhooks.mailgun.find(scope, request.param("type"));
  if (!hook) return mailgun::message(404, "Webhook not found");
  return http::Response::json(200, json_text({{"webhook", urls_json(*hook)}}));
}

// PUT /v3/domains/{domain}/webhooks/{type} (form: url…): replaces the type's URLs.
http::Response update_hook(SandboxState& state, http::Request& request) {
  std::string scope;
  if (auto denied = begin(request, scope)) return std::move(*denied);
  auto fields = mailgun::read_fields(request);
  if (!fields) return mailgun::message(400, "Malformed multipart/form-data body");
  auto urls = read_urls(*fields);
  if (!urls) return std::move(urls.error());
  const TimePoint now = state.now();
  auto hook = state.webhooks.mailgun.update(scope, request.param("type"), [&](Hook& h) {
    h.urls = *urls;
    h.updated = now;
  });
  if (!hook) return mailgun::message(404, "Webhook not found");
  return http::Response::json(
      200, json_text({{"message", "Webhook has been updated"}, {"webhook", urls_json(*hook)}}));
}

// DELETE /v3/domains/{domain}/webhooks/{type}.
http::Response remove_hook(SandboxState& state, http::Request& request) {
  std::string scope;
  if (auto denied = begin(request, scope)) return std::move(*denied);
  auto hook = state.webhooks.mailgun.find(scope, request.param("type"));
  if (!hook || !state.webhooks.mailgun.remove(scope, hook->id)) {
    return mailgun::message(404, "Webhook not found");
  }
  return http::Response::json(
      200, json_text({{"message", "Webhook has been deleted"}, {"webhook", urls_json(*hook)}}));
}

// GET /v5/accounts/http_signing_key: the account's key that signs every webhook post.
http::Response signing_key(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = mailgun::authenticate(request, key)) return std::move(*denied);
  return http::Response::json(
      200, json_text({{"http_signing_key", state.webhooks.mailgun_keys.get(key)}}));
}

std::string bare_id(const std::string& id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

double seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// What the receiving side said: delivery-status for deliveries and failures, the reader's
// client for opens and clicks.
void add_details(json& data, const Delivery& d, const Step& step, const Name& name) {
  if (step.kind == EventKind::delivered) {
    data["delivery-status"] = {{"tls", true},
                               {"mx-host", "mx.sandbox.invalid"},
                               {"code", 250},
                               {"description", ""},
                               {"attempt-no", 1},
                               {"message", "OK"},
                               {"session-seconds", 0.1},
                               {"certificate-verified", true}};
  } else if (name.event == "failed" && name.severity == "permanent") {
    data["delivery-status"] = {
        {"code", 550},
        {"bounce-code", "5.1.1"},
        {"attempt-no", 1},
        {"description", ""},
        {"message", "5.1.1 The email account that you tried to reach does not exist"}};
  } else if (name.event == "failed") {
    data["delivery-status"] = {
        {"code", 452},
        {"attempt-no", 1},
        {"retry-seconds", 600},
        {"description", ""},
        {"message", "4.2.2 The email account that you tried to reach is over quota"}};
  } else if (step.kind == EventKind::opened || step.kind == EventKind::clicked) {
    data["ip"] = "192.0.2.10";
    data["geolocation"] = {{"country", "US"}, {"region", "CA"}, {"city", "San Francisco"}};
    data["client-info"] = {{"client-type", "browser"},
                           {"client-os", "OS X"},
                           {"device-type", "desktop"},
                           {"client-name", "Chrome"},
                           {"user-agent", "Mozilla/5.0 (Macintosh) Sandbox"}};
    if (step.kind == EventKind::clicked) data["url"] = d.link;
  }
}

// The event-data object (Mailgun's events API shape).
json event_data(const Delivery& d, const Step& step) {
  const Name name = name_of(step.kind);
  const auto at = d.to.find('@');
  json data = {
      {"id", step.id.substr(0, 22)},  // the same for a duplicate: it is one event
      {"timestamp", seconds(step.at)},
      {"log-level", name.severity == "permanent"   ? "error"
                    : name.severity == "temporary" ? "warn"
                                                   : "info"},
      {"event", name.event},
      {"recipient", d.to},
      {"recipient-domain", at == std::string::npos ? "" : d.to.substr(at + 1)},
      {"message",
       {{"headers",
         {{"to", d.to},
          {"message-id", bare_id(d.provider_message_id)},
          {"from", d.from},
          {"subject", d.subject}}},
        {"attachments", json::array()}}},
      {"envelope", {{"transport", "smtp"}, {"sender", email_address(d.from)}, {"targets", d.to}}},
      {"flags", {{"is-routed", false}, {"is-authenticated", true}, {"is-test-mode", false}}},
      {"tags", json::array()},
      {"campaigns", json::array()},
      {"user-variables", json::object()}};
  if (!d.herald_message_id.empty()) {
    data["user-variables"]["herald_message_id"] = d.herald_message_id;
  }
  if (!name.severity.empty()) {
    data["severity"] = name.severity;
    data["reason"] = name.reason;
  }
  add_details(data, d, step, name);
  return data;
}

// {"signature": {timestamp, token, signature}, "event-data": …}: the signature is hex
// HMAC-SHA256 of timestamp + token under the account's signing key. Each post gets its own
// token, a duplicate too, as each of Mailgun's posts is signed when it is made.
Post signed_post(const std::string& url, const std::string& key, const json& data, TimePoint now) {
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string token = random_hex(50);
  json body = {{"signature",
                {{"timestamp", timestamp},
                 {"token", token},
                 {"signature", hex_encode(hmac_sha256(key, timestamp + token))}}},
               {"event-data", data}};
  Post post;
  post.request.method = "POST";
  post.request.url = url;
  post.request.headers = {{"Content-Type", "application/json"},
                          {"User-Agent", "mailgun/treq-16.12.0"}};
  post.request.body = json_text(body);
  post.final_status = 406;  // Mailgun never retries a 406 (WEBHOOKS.md § Mailgun)
  return post;
}

}  // namespace

namespace mailgun {

// Each event goes to every URL of its webhook type on the sending domain.
std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& registry,
                              TimePoint now) {
  std::vector<Post> posts;
  for (const EventItem& item : items) {
    const Delivery& d = *item.delivery;
    auto hook = registry.mailgun.find(d.scope, std::string(name_of(item.step->kind).hook));
    if (!hook) continue;
    const std::string key = registry.mailgun_keys.get(d.account);
    const json data = event_data(d, *item.step);
    for (const std::string& url : hook->urls) posts.push_back(signed_post(url, key, data, now));
  }
  return posts;
}

}  // namespace mailgun

void add_mailgun_webhook_routes(http::Router& router, SandboxState& state) {
  const std::string base = "/v3/domains/{domain}/webhooks";
  router.add("GET", base, [&state](http::Request& r) { return list_hooks(state, r); });
  router.add("POST", base, [&state](http::Request& r) { return create_hook(state, r); });
  router.add("GET", base + "/{type}", [&state](http::Request& r) { return get_hook(state, r); });
  router.add("PUT", base + "/{type}", [&state](http::Request& r) { return update_hook(state, r); });
  router.add("DELETE", base + "/{type}",
             [&state](http::Request& r) { return remove_hook(state, r); });
  router.add("GET", "/v5/accounts/http_signing_key",
             [&state](http::Request& r) { return signing_key(state, r); });
}

}  // namespace herald::sandbox
