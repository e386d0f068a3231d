// Mailgun's delivery webhooks: JSON posts of one event each, signed in the body with the
// account's webhook signing key, and the domain webhooks API that points them at Herald.
// Facts and sources: provider-specs/WEBHOOKS.md § Mailgun, provider-specs/README.md § Mailgun;
// spec provider-specs/mailgun/mailgun-openapi.yaml (/v3/domains/{domain}/webhooks,
// /v3/domains/{domain_name}/webhooks/{webhook_name}, /v5/accounts/http_signing_key).
#include <algorithm>
#include <string>

#include "providers/adapters.h"
#include "providers/encoding.h"
#include "providers/webhook_support.h"

namespace herald::providers {
namespace {

constexpr std::string_view kId = "mailgun";
constexpr std::string_view kName = "Mailgun";

// Mailgun's event names (`event-data.event`) and what each is in Herald's vocabulary;
// `failed` is refined by severity and reason below. Anything else is EventType::unknown.
constexpr NameTable<EventType, 8> kEvents = {{
    {"accepted", EventType::queued},
    {"rejected", EventType::rejected},
    {"delivered", EventType::delivered},
    {"failed", EventType::bounced},
    {"opened", EventType::opened},
    {"clicked", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
    {"complained", EventType::complained},
}};

// The domain webhook types Herald registers (spec: `id` of POST /v3/domains/{domain}/webhooks).
// `accepted` is left out: it says no more than the send's own answer.
constexpr std::array<std::string_view, 7> kHooks = {
    "delivered", "permanent_fail", "temporary_fail", "opened",
    "clicked",   "complained",     "unsubscribed",
};

// Mailgun keeps at most 3 URLs per webhook type (spec, `url` of the same endpoint).
constexpr std::size_t kMaxUrls = 3;

// The signed fields: timestamp, token and the hex signature, as strings.
struct SignedFields {
  std::string timestamp;
  std::string token;
  std::string signature;
};

std::string text_of(const nlohmann::json& object, std::string_view key) {
  const auto it = object.find(key);
  if (it == object.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<unsigned long long>());
  return {};
}

std::optional<SignedFields> signed_fields(const nlohmann::json& body) {
  const auto* signature = json_object(body, "signature");
  if (signature == nullptr) return std::nullopt;
  return SignedFields{text_of(*signature, "timestamp"), json_string(*signature, "token"),
                      json_string(*signature, "signature")};
}

// Mailgun's Message-Id without the angle brackets the send answer wraps it in.
std::string bare_message_id(std::string id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

// What went wrong: the receiving server's words from `delivery-status` ("550 5.1.1 The email
// account that you tried to reach does not exist"), else a rejection's, else Mailgun's
// category (`reason`: bounce, generic, greylisted, suppress-bounce, …).
std::string reason_of(const nlohmann::json& data) {
  if (const auto* status = json_object(data, "delivery-status")) {
    std::string text = json_string(*status, "message");
    if (text.empty()) text = json_string(*status, "description");
    const auto code = status->find("code");
    if (code != status->end() && code->is_number_integer() && code->get<long long>() != 0) {
      text = text.empty() ? std::to_string(code->get<long long>())
                          : std::to_string(code->get<long long>()) + " " + text;
    }
    if (!text.empty()) return text;
  }
  if (const auto* reject = json_object(data, "reject")) {
    std::string text = json_string(*reject, "reason");
    if (text.empty()) text = json_string(*reject, "description");
    if (!text.empty()) return text;
  }
  return json_string(data, "reason");
}

// `failed` by severity and reason: temporary is a deferral (Mailgun keeps trying), not a
// bounce; a permanent failure Mailgun did not even attempt because the address is on its
// suppression lists (reason suppress-bounce / suppress-complaint / suppress-unsubscribe) is a
// rejection; any other permanent failure is a hard bounce.
void refine_failed(const nlohmann::json& data, DeliveryEvent& e) {
  if (json_string(data, "severity") == "temporary") {
    e.type = EventType::deferred;
  } else if (json_string(data, "reason").starts_with("suppress-")) {
    e.type = EventType::rejected;
  } else {
    e.bounce = BounceKind::hard;
  }
}

HttpRequest authorized(std::string method, std::string path, const Credentials& credentials) {
  return HttpRequest{
      .method = std::move(method),
      .url = mailgun_adapter().base_url(credentials) + path,
      .headers = {{"Authorization", basic_auth("api", credentials.secrets.get("apiKey").reveal())},
                  {"User-Agent", std::string(kUserAgent)}},
  };
}

HttpRequest with_form(HttpRequest request, const FormFields& fields) {
  Multipart form = multipart_form(fields);
  request.headers.emplace_back("Content-Type", std::move(form.content_type));
  request.body = std::move(form.body);
  return request;
}

std::string webhooks_path(const Credentials& credentials) {
  return "/v3/domains/" + percent_encode(credentials.params.get("domain")) + "/webhooks";
}

// One webhook type's path (spec /v3/domains/{domain_name}/webhooks/{webhook_name}).
std::string hook_path(const Credentials& credentials, std::string_view hook) {
  return webhooks_path(credentials) + "/" + percent_encode(hook);
}

// Mailgun's error text: {"message"}, {"Reason"} (spec 400 examples) or a bare string.
std::string error_text(const HttpResponse& answer) {
  const auto body = parse_json(answer.body);
  if (!body) return answer.body;
  if (body->is_string()) return body->get<std::string>();
  std::string text = json_string(*body, "message");
  if (text.empty()) text = json_string(*body, "Reason");
  return text;
}

bool already_exists(const HttpResponse& answer) {
  if (answer.status != 400) return false;
  std::string text = error_text(answer);
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text.find("already exists") != std::string::npos;
}

Error refused(const HttpResponse& answer, const Credentials& credentials,
              WebhookTask task = WebhookTask::set_up) {
  if (answer.status == 404) {
    return registration_error(
        answer, kId, kName,
        "Mailgun has no domain " + credentials.params.get("domain") + " in this account and region",
        task);
  }
  return registration_error(answer, kId, kName, error_text(answer), task);
}

// The `urls` of one webhook type's entry ({"urls": […]}).
std::vector<std::string> urls_in(const nlohmann::json* entry) {
  std::vector<std::string> urls;
  if (entry == nullptr) return urls;
  const auto list = entry->find("urls");
  if (list == entry->end() || !list->is_array()) return urls;
  for (const auto& url : *list) {
    if (url.is_string()) urls.push_back(url.get<std::string>());
  }
  return urls;
}

// The URLs webhook type `hook` has now, from GET /v3/domains/{domain}/webhooks
// ({"webhooks": {"delivered": {"urls": […]}, …}}).
std::vector<std::string> urls_of(const nlohmann::json& listing, std::string_view hook) {
  const auto* webhooks = json_object(listing, "webhooks");
  return urls_in(webhooks ? json_object(*webhooks, hook) : nullptr);
}

// One webhook type's request: POST when it has no URL yet; PUT with its URLs plus Herald's
// when it has some (PUT replaces the list, so keeping the others keeps the agent's own
// integrations); nothing when Herald's is already there.
struct HookRequest {
  std::optional<HttpRequest> request;
  bool is_post = false;
  std::optional<Error> error;
};

HttpRequest put_urls(const Credentials& credentials, std::string_view hook,
                     const std::vector<std::string>& urls) {
  FormFields fields;
  for (const auto& url : urls) fields.emplace_back("url", url);
  return with_form(authorized("PUT", hook_path(credentials, hook), credentials), fields);
}

// The request that takes `receiver_url` out of webhook type `hook`, whose URLs are `urls`:
// DELETE the type when the receiver is its only URL, else PUT its other URLs (PUT replaces
// the list, so the agent's own integrations keep theirs); none when the receiver is not there.
std::optional<HttpRequest> removal_request(const Credentials& credentials, std::string_view hook,
                                           std::vector<std::string> urls,
                                           std::string_view receiver_url) {
  if (std::erase(urls, receiver_url) == 0) return std::nullopt;
  if (urls.empty()) return authorized("DELETE", hook_path(credentials, hook), credentials);
  return put_urls(credentials, hook, urls);
}

HookRequest hook_request(const Credentials& credentials, std::string_view hook,
                         std::vector<std::string> urls, std::string_view receiver_url) {
  if (std::ranges::find(urls, receiver_url) != urls.end()) return {};
  if (urls.empty()) {
    return {with_form(authorized("POST", webhooks_path(credentials), credentials),
                      {{"id", std::string(hook)}, {"url", std::string(receiver_url)}}),
            true};
  }
  if (urls.size() >= kMaxUrls) {
    Error e{Errc::provider, "Mailgun's " + std::string(hook) + " webhook already has " +
                                std::to_string(kMaxUrls) +
                                " URLs, the most it allows: remove one in Mailgun to let "
                                "Herald track deliveries"};
    e.provider = std::string(kId);
    return {.error = std::move(e)};
  }
  urls.emplace_back(receiver_url);
  return {put_urls(credentials, hook, urls)};
}

class MailgunWebhook final : public WebhookTwin {
 public:
  // hex(HMAC-SHA256(signing key, timestamp + token)) in the body's `signature` object,
  // timestamp within 5 minutes (WEBHOOKS.md § Mailgun; Mailgun's "Securing webhooks" page).
  Result<void> verify(const WebhookRequest& request, std::string_view key,
                      TimePoint now) const override {
    const auto body = parse_json(request.body);
    const auto fields = body ? signed_fields(*body) : std::nullopt;
    if (!fields) return fail(unsigned_request("no signature object in the body"));
    if (fields->timestamp.empty()) return fail(unsigned_request("no signature.timestamp"));
    if (fields->token.empty()) return fail(unsigned_request("no signature.token"));
    if (fields->signature.empty()) return fail(unsigned_request("no signature.signature"));
    const auto signed_at = parse_unix_seconds(fields->timestamp);
    if (!signed_at) return fail(bad_signature("signature.timestamp is not a Unix time"));
    if (auto fresh = check_fresh(*signed_at, now, "signature.timestamp"); !fresh) return fresh;
    if (key.empty()) return fail(bad_signature("the account has no Mailgun webhook signing key"));
    const std::string expected = hex_lower(hmac_sha256(key, fields->timestamp + fields->token));
    std::string given = fields->signature;
    std::ranges::transform(given, given.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!same_signature(given, expected)) {
      return fail(bad_signature("signature.signature does not match"));
    }
    return {};
  }

  // The token is signed and unique per post: one seen before is a replay.
  std::string replay_key(const WebhookRequest& request) const override {
    const auto body = parse_json(request.body);
    const auto fields = body ? signed_fields(*body) : std::nullopt;
    return fields ? fields->token : std::string();
  }

  // {"signature": {…}, "event-data": {event, timestamp, recipient, severity, reason,
  // delivery-status, message.headers.message-id, user-variables, url, …}}: one event.
  Result<std::vector<DeliveryEvent>> parse(const WebhookRequest& request) const override {
    const auto body = parse_json(request.body);
    if (!body || !body->is_object()) return fail(malformed("body", "is not a JSON object"));
    const auto* data = json_object(*body, "event-data");
    if (data == nullptr) return fail(malformed("event-data", "is missing or not an object"));
    const auto name = data->find("event");
    if (name == data->end() || !name->is_string()) {
      return fail(malformed("event-data.event", "is missing or not a string"));
    }

    DeliveryEvent e;
    e.provider_event = name->get<std::string>();
    e.type = lookup(kEvents, e.provider_event).value_or(EventType::unknown);
    if (e.provider_event == "failed") refine_failed(*data, e);
    // event-data.id is unique within a day, and a redelivery of the event keeps it (with a
    // new signature token): id and day key the event. Without an id, the token (unique per
    // post), else the body.
    const auto fields = signed_fields(*body);
    const std::string id = json_string(*data, "id");
    const auto at = data->find("timestamp");
    const std::optional<TimePoint> when =
        at != data->end() ? parse_unix_time(*at) : std::optional<TimePoint>();
    if (!id.empty() && when) {
      const auto day = std::chrono::floor<std::chrono::days>(*when).time_since_epoch().count();
      e.event_key = "id:" + id + "@" + std::to_string(day);
    } else {
      e.event_key = fields ? fields->token : "";
    }
    if (e.event_key.empty()) e.event_key = "sha256:" + sha256_hex(request.body);
    // v:herald_message_id comes back here (per recipient in a batch, by recipient-variables).
    if (const auto* variables = json_object(*data, "user-variables")) {
      e.message_id = json_string(*variables, "herald_message_id");
    }
    if (const auto* message = json_object(*data, "message")) {
      if (const auto* headers = json_object(*message, "headers")) {
        e.provider_message_id = bare_message_id(json_string(*headers, "message-id"));
      }
    }
    e.recipient = json_string(*data, "recipient");
    e.occurred_at = when;
    if (e.type != EventType::delivered && e.type != EventType::queued) e.reason = reason_of(*data);
    e.url = json_string(*data, "url");
    e.raw = cap_raw_event(request.body);
    return std::vector<DeliveryEvent>{std::move(e)};
  }

  // GET the domain's webhooks; then for each type Herald needs, POST it (no URL yet) or PUT
  // its URLs plus Herald's (skipping types that already post to Herald); a POST answered
  // "already exists" (another writer since the listing) reads that type's URLs and PUTs them
  // plus Herald's, never replacing someone else's URL; finally GET
  // /v5/accounts/http_signing_key, the account's key that signs every post.
  RegistrationStep register_step(const Credentials& credentials, std::string_view receiver_url,
                                 std::span<const HttpResponse> answers) const override {
    if (answers.empty()) return ask(authorized("GET", webhooks_path(credentials), credentials));
    if (!succeeded(answers[0])) return failed(refused(answers[0], credentials));
    const nlohmann::json listing = parse_json(answers[0].body).value_or(nlohmann::json::object());
    std::size_t next = 1;
    for (std::string_view hook : kHooks) {
      HookRequest planned = hook_request(credentials, hook, urls_of(listing, hook), receiver_url);
      if (planned.error) return failed(std::move(*planned.error));
      if (!planned.request) continue;
      if (answers.size() == next) return ask(std::move(*planned.request));
      const HttpResponse& answer = answers[next++];
      if (succeeded(answer)) continue;
      if (!planned.is_post || !already_exists(answer)) return failed(refused(answer, credentials));
      // Someone added this type since the listing: read its URLs and PUT them plus Herald's.
      if (answers.size() == next) {
        return ask(authorized("GET", hook_path(credentials, hook), credentials));
      }
      const HttpResponse& current = answers[next++];
      if (!succeeded(current)) return failed(refused(current, credentials));
      const nlohmann::json one = parse_json(current.body).value_or(nlohmann::json::object());
      HookRequest retry =
          hook_request(credentials, hook, urls_in(json_object(one, "webhook")), receiver_url);
      if (retry.error) return failed(std::move(*retry.error));
      if (!retry.request) continue;  // Herald's URL is there already
      if (retry.is_post) {
        return failed(registration_error(
            current, kId, kName,
            "the " + std::string(hook) + " webhook changed while Herald set it up; try again"));
      }
      if (answers.size() == next) return ask(std::move(*retry.request));
      const HttpResponse& retried = answers[next++];
      if (!succeeded(retried)) return failed(refused(retried, credentials));
    }
    if (answers.size() == next) {
      return ask(authorized("GET", "/v5/accounts/http_signing_key", credentials));
    }
    const HttpResponse& answer = answers[next];
    if (!succeeded(answer)) return failed(refused(answer, credentials));
    const auto body = parse_json(answer.body);
    const std::string key = body ? json_string(*body, "http_signing_key") : "";
    if (key.empty()) return failed(unexpected_answer(answer, kId, kName, "an http_signing_key"));
    return done(key);
  }

  // GET the domain's webhooks (as registration does, on the region's host); then each type
  // whose URLs include the receiver, whichever types they are, loses it: DELETE
  // …/webhooks/{type} when it was the only URL, else PUT with the type's other URLs, never
  // dropping the agent's own. A 404 (the type or the domain gone since) counts as removed. The
  // account's signing key signs every webhook of the account and stays.
  RegistrationStep unregister_step(const Credentials& credentials, std::string_view receiver_url,
                                   std::span<const HttpResponse> answers) const override {
    if (answers.empty()) return ask(authorized("GET", webhooks_path(credentials), credentials));
    if (!succeeded(answers[0])) {
      return failed(refused(answers[0], credentials, WebhookTask::remove));
    }
    const nlohmann::json listing = parse_json(answers[0].body).value_or(nlohmann::json::object());
    const auto* webhooks = json_object(listing, "webhooks");
    if (webhooks == nullptr) return removed();
    std::size_t next = 1;
    for (const auto& item : webhooks->items()) {
      const std::string& hook = item.key();
      auto request = removal_request(credentials, hook, urls_of(listing, hook), receiver_url);
      if (!request) continue;
      if (answers.size() == next) return ask(std::move(*request));
      const HttpResponse& answer = answers[next++];
      if (!removed_or_gone(answer)) {
        return failed(refused(answer, credentials, WebhookTask::remove));
      }
    }
    return removed();
  }
};

}  // namespace

const WebhookTwin& mailgun_webhook() {
  static const MailgunWebhook instance;
  return instance;
}

}  // namespace herald::providers
