// Resend's delivery webhooks: Svix-signed (Standard Webhooks) JSON posts of one event each,
// and the webhook registration API. Facts and sources: provider-specs/WEBHOOKS.md § Resend,
// provider-specs/README.md § Resend; spec provider-specs/resend/resend.yaml (top-level
// `webhooks`, schemas Email*Event, paths /webhooks and /webhooks/{webhook_id}).
#include <openssl/crypto.h>

#include <string>

#include "providers/adapters.h"
#include "providers/encoding.h"
#include "providers/webhook_support.h"

namespace herald::providers {
namespace {

constexpr std::string_view kId = "resend";
constexpr std::string_view kName = "Resend";

// Resend's email event types and what each is in Herald's vocabulary (spec `webhooks`).
// Registration subscribes to exactly these; anything else that arrives (email.scheduled,
// email.received, contact.*, domain.*) is EventType::unknown.
constexpr NameTable<EventType, 9> kEvents = {{
    {"email.sent", EventType::sent},
    {"email.delivered", EventType::delivered},
    {"email.delivery_delayed", EventType::deferred},
    {"email.bounced", EventType::bounced},  // hard or soft by bounce.type
    {"email.complained", EventType::complained},
    {"email.opened", EventType::opened},
    {"email.clicked", EventType::clicked},
    {"email.failed", EventType::failed},
    {"email.suppressed", EventType::rejected},  // Resend refused to send to a suppressed address
}};

// The HMAC key of a signing secret: base64-decode of what follows `whsec_` (the Svix and
// Standard Webhooks libraries also accept the bare base64, and so does Herald).
std::optional<std::string> signing_key(std::string_view secret) {
  if (secret.starts_with("whsec_")) secret.remove_prefix(6);
  auto key = base64_decode(secret);
  if (!key || key->empty()) return std::nullopt;
  return key;
}

// Herald's message id from `data.tags`: a {name: value} map in webhooks (spec
// OutboundEmailEventData), though sends write tags as [{name, value}]; both are read.
std::string herald_id(const nlohmann::json& data) {
  const auto tags = data.find("tags");
  if (tags == data.end()) return {};
  if (tags->is_object()) return json_string(*tags, "herald_message_id");
  if (tags->is_array()) {
    for (const auto& tag : *tags) {
      if (json_string(tag, "name") == "herald_message_id") return json_string(tag, "value");
    }
  }
  return {};
}

// The one recipient of the email: Herald sends one per email, so `to[0]`.
std::string recipient_of(const nlohmann::json& data) {
  const auto to = data.find("to");
  if (to == data.end()) return {};
  if (to->is_string()) return to->get<std::string>();
  if (to->is_array() && !to->empty() && to->front().is_string()) return to->front();
  return {};
}

// What went wrong, from the event's sub-object (spec WebhookEventBounce / Failed / Suppressed).
std::string reason_of(const nlohmann::json& data) {
  if (const auto* bounce = json_object(data, "bounce")) {
    std::string reason = json_string(*bounce, "message");
    if (reason.empty()) reason = json_string(*bounce, "subType");
    return reason;
  }
  if (const auto* failed = json_object(data, "failed")) return json_string(*failed, "reason");
  if (const auto* suppressed = json_object(data, "suppressed")) {
    std::string reason = json_string(*suppressed, "message");
    if (reason.empty()) reason = json_string(*suppressed, "reason");
    return reason;
  }
  return {};
}

HttpRequest authorized(std::string method, std::string path, const Credentials& credentials) {
  return HttpRequest{
      .method = std::move(method),
      .url = resend_adapter().base_url(credentials) + path,
      .headers = {{"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
                  {"User-Agent", std::string(kUserAgent)}},
  };
}

HttpRequest with_json(HttpRequest request, const nlohmann::json& body) {
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = json_body(body);
  return request;
}

nlohmann::json subscribed_events() {
  auto events = nlohmann::json::array();
  for (const auto& [name, type] : kEvents) events.push_back(name);
  return events;
}

// The most pages of GET /webhooks read while looking for Herald's receiver (100 each): past
// 2,000 webhooks on one account, a new one is made rather than reading on.
constexpr std::size_t kMaxListPages = 20;
constexpr std::string_view kListPath = "/webhooks?limit=100";

// One page of a GET /webhooks answer: the webhook already pointing at the receiver (a
// reconnected integration), if any, and where the next page starts.
struct WebhookPage {
  std::string match;  // its id, "" = not on this page
  std::string last;   // the page's last webhook id (the next page's `after` cursor)
  bool has_more = false;
};

WebhookPage read_page(const HttpResponse& list, std::string_view receiver_url) {
  WebhookPage page;
  const auto body = parse_json(list.body);
  if (!body || !body->is_object()) return page;
  const auto data = body->find("data");
  if (data == body->end() || !data->is_array()) return page;
  for (const auto& webhook : *data) {
    if (page.match.empty() && json_string(webhook, "endpoint") == receiver_url)
      page.match = json_string(webhook, "id");
    page.last = json_string(webhook, "id");
  }
  const auto more = body->find("has_more");
  page.has_more = more != body->end() && more->is_boolean() && more->get<bool>();
  return page;
}

// Whether to ask for the page after `page` (no match yet, Resend says there is more, and a
// cursor to ask with), `pages_read` pages in.
bool more_to_read(const WebhookPage& page, std::size_t pages_read) {
  return page.match.empty() && page.has_more && !page.last.empty() && pages_read < kMaxListPages;
}

// Resend's error body {"statusCode", "name", "message"}.
Error refused(const HttpResponse& answer, WebhookTask task = WebhookTask::set_up) {
  const auto body = parse_json(answer.body);
  std::string reason = body ? json_string(*body, "message") : "";
  if (reason.empty() && body) reason = json_string(*body, "name");
  return registration_error(answer, kId, kName, reason, task);
}

// Where reading the account's webhooks got to: a step to take first (the next page to ask
// for, or the refusal of a page), else the receiver's webhook (its id; "" = none on any page
// read) and how many of the leading answers were pages.
struct Listing {
  std::optional<RegistrationStep> step;
  std::string match;
  std::size_t pages = 0;
};

// GET /webhooks, page by page (`after` the last id while has_more, at most kMaxListPages),
// until one points at the receiver; `task` words a refused page. Shared by registration
// (which reuses that webhook) and unregistration (which deletes it).
Listing find_receiver(const Credentials& credentials, std::string_view receiver_url,
                      std::span<const HttpResponse> answers, WebhookTask task) {
  if (answers.empty()) return {ask(authorized("GET", std::string(kListPath), credentials))};
  Listing listing;
  WebhookPage page;
  while (true) {
    const HttpResponse& answer = answers[listing.pages];
    if (!succeeded(answer)) return {failed(refused(answer, task))};
    page = read_page(answer, receiver_url);
    ++listing.pages;
    if (!more_to_read(page, listing.pages)) break;
    if (listing.pages == answers.size()) {
      return {ask(authorized("GET", std::string(kListPath) + "&after=" + percent_encode(page.last),
                             credentials))};
    }
  }
  listing.match = std::move(page.match);
  return listing;
}

// The signing_secret of a 2xx answer (POST /webhooks, GET /webhooks/{id}).
RegistrationStep secret_from(const HttpResponse& answer) {
  if (!succeeded(answer)) return failed(refused(answer));
  const auto body = parse_json(answer.body);
  const std::string secret = body ? json_string(*body, "signing_secret") : "";
  if (secret.empty()) return failed(unexpected_answer(answer, kId, kName, "a signing_secret"));
  return done(secret);
}

class ResendWebhook final : public WebhookTwin {
 public:
  // Svix: HMAC-SHA256 over "<svix-id>.<svix-timestamp>.<raw body>", base64, in one of the
  // space-separated "v1,<b64>" entries of svix-signature (several while a secret rotates),
  // timestamp within 5 minutes (WEBHOOKS.md § Resend; the svix SDK's verify()).
  Result<void> verify(const WebhookRequest& request, std::string_view key,
                      TimePoint now) const override {
    const auto id = request.header("svix-id");
    const auto timestamp = request.header("svix-timestamp");
    const auto signatures = request.header("svix-signature");
    if (!id || id->empty()) return fail(unsigned_request("no svix-id header"));
    if (!timestamp || timestamp->empty()) return fail(unsigned_request("no svix-timestamp header"));
    if (!signatures || signatures->empty()) {
      return fail(unsigned_request("no svix-signature header"));
    }
    const auto signed_at = parse_unix_seconds(*timestamp);
    if (!signed_at) return fail(bad_signature("svix-timestamp is not a Unix time"));
    if (auto fresh = check_fresh(*signed_at, now, "svix-timestamp"); !fresh) return fresh;
    auto secret = signing_key(key);
    if (!secret) {
      return fail(bad_signature("the account's Resend signing secret is not a whsec_ secret"));
    }
    std::string content;
    content.reserve(id->size() + timestamp->size() + request.body.size() + 2);
    content.append(*id).append(".").append(*timestamp).append(".").append(request.body);
    const std::string expected = base64_encode(hmac_sha256(*secret, content));
    OPENSSL_cleanse(secret->data(), secret->size());
    std::string_view rest = *signatures;
    while (!rest.empty()) {
      const auto space = rest.find(' ');
      const std::string_view entry = rest.substr(0, space);
      // Only v1 (HMAC) entries; v1a (asymmetric) ones are not Resend's.
      if (entry.starts_with("v1,") && same_signature(entry.substr(3), expected)) return {};
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    return fail(bad_signature("no svix-signature entry matches the body"));
  }

  // One event per post: {type, created_at, data}. The svix-id is the event's key (a
  // redelivery keeps it); the time is the payload's created_at, not the (new) svix-timestamp.
  Result<std::vector<DeliveryEvent>> parse(const WebhookRequest& request) const override {
    const auto body = parse_json(request.body);
    if (!body || !body->is_object()) return fail(malformed("body", "is not a JSON object"));
    const auto type = body->find("type");
    if (type == body->end() || !type->is_string()) {
      return fail(malformed("type", "is missing or not a string"));
    }
    const auto* data = json_object(*body, "data");
    if (data == nullptr) return fail(malformed("data", "is missing or not an object"));

    DeliveryEvent e;
    e.provider_event = type->get<std::string>();
    e.type = lookup(kEvents, e.provider_event).value_or(EventType::unknown);
    e.event_key = std::string(request.header("svix-id").value_or(""));
    if (e.event_key.empty()) e.event_key = "sha256:" + sha256_hex(request.body);
    e.message_id = herald_id(*data);
    e.provider_message_id = json_string(*data, "email_id");
    e.recipient = recipient_of(*data);
    e.occurred_at = parse_rfc3339(json_string(*body, "created_at"));
    e.reason = reason_of(*data);
    if (e.type == EventType::bounced) {
      // bounce.type is Permanent, Transient or Undetermined (spec WebhookEventBounce): only a
      // permanent one is certain enough to suppress at once.
      const auto* bounce = json_object(*data, "bounce");
      const bool permanent = bounce != nullptr && json_string(*bounce, "type") == "Permanent";
      e.bounce = permanent ? BounceKind::hard : BounceKind::soft;
    }
    if (const auto* click = json_object(*data, "click")) e.url = json_string(*click, "link");
    e.raw = cap_raw_event(request.body);
    return std::vector<DeliveryEvent>{std::move(e)};
  }

  // GET /webhooks, page by page (`after` the last id while has_more), until one points at the
  // receiver (a reconnected integration): PATCH it back to enabled with Herald's events and GET
  // it for its secret; if none does, POST /webhooks, whose answer holds the signing_secret.
  // Reusing the existing webhook keeps Resend from posting every event twice, once signed with
  // a secret Herald no longer has.
  RegistrationStep register_step(const Credentials& credentials, std::string_view receiver_url,
                                 std::span<const HttpResponse> answers) const override {
    const Listing listing = find_receiver(credentials, receiver_url, answers, WebhookTask::set_up);
    if (listing.step) return *listing.step;
    const auto after_list = answers.subspan(listing.pages);
    if (listing.match.empty()) {
      if (after_list.empty()) {
        return ask(
            with_json(authorized("POST", "/webhooks", credentials),
                      {{"endpoint", std::string(receiver_url)}, {"events", subscribed_events()}}));
      }
      return secret_from(after_list[0]);
    }
    const std::string path = "/webhooks/" + percent_encode(listing.match);
    if (after_list.empty()) {
      return ask(with_json(authorized("PATCH", path, credentials),
                           {{"endpoint", std::string(receiver_url)},
                            {"events", subscribed_events()},
                            {"status", "enabled"}}));
    }
    if (!succeeded(after_list[0])) return failed(refused(after_list[0]));
    if (after_list.size() == 1) return ask(authorized("GET", path, credentials));
    return secret_from(after_list[1]);
  }

  // The same listing finds the receiver's webhook (registration keeps one per receiver), and
  // DELETE /webhooks/{id} removes it (spec operation webhooks/remove). None on any page read,
  // or a 404 to the DELETE (removed since): done. Other webhooks are never touched.
  RegistrationStep unregister_step(const Credentials& credentials, std::string_view receiver_url,
                                   std::span<const HttpResponse> answers) const override {
    const Listing listing = find_receiver(credentials, receiver_url, answers, WebhookTask::remove);
    if (listing.step) return *listing.step;
    if (listing.match.empty()) return removed();
    const auto after_list = answers.subspan(listing.pages);
    if (after_list.empty()) {
      return ask(authorized("DELETE", "/webhooks/" + percent_encode(listing.match), credentials));
    }
    if (removed_or_gone(after_list[0])) return removed();
    return failed(refused(after_list[0], WebhookTask::remove));
  }
};

}  // namespace

const WebhookTwin& resend_webhook() {
  static const ResendWebhook instance;
  return instance;
}

}  // namespace herald::providers
