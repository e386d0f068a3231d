// SendGrid's Event Webhook: ECDSA-signed JSON arrays of events, and the Event Webhook
// settings API that points them at Herald and turns signing on. Facts and sources:
// provider-specs/WEBHOOKS.md § SendGrid; spec provider-specs/sendgrid/tsg_webhooks_v3.json;
// the verifier @sendgrid/eventwebhook 8.0.0 (src/eventwebhook.js).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "providers/adapters.h"
#include "providers/encoding.h"
#include "providers/webhook_support.h"

namespace herald::providers {
namespace {

constexpr std::string_view kId = "sendgrid";
constexpr std::string_view kName = "SendGrid";
constexpr std::string_view kSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
constexpr std::string_view kTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";

// SendGrid's event names and what each is in Herald's vocabulary (WEBHOOKS.md § SendGrid;
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event). Everything
// else (group_resubscribe, account status changes) is EventType::unknown.
constexpr NameTable<EventType, 10> kEvents = {{
    {"processed", EventType::queued},
    {"dropped", EventType::rejected},  // SendGrid would not send (suppressed, invalid, spam)
    {"delivered", EventType::delivered},
    {"deferred", EventType::deferred},
    {"bounce", EventType::bounced},  // hard or soft by its `type`, below
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"spamreport", EventType::complained},
    {"unsubscribe", EventType::unsubscribed},
    {"group_unsubscribe", EventType::unsubscribed},
}};

// The event booleans of the settings body (spec "Create and Update Event Webhook Request
// Body"): every delivery and engagement event; group_resubscribe is left off.
constexpr std::array<std::string_view, 10> kSubscribed = {
    "processed", "dropped", "delivered",   "deferred",    "bounce",
    "open",      "click",   "spam_report", "unsubscribe", "group_unsubscribe"};

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// The verification key's DER bytes: SendGrid shows base64 of the DER SubjectPublicKeyInfo
// without PEM armour; armour pasted by hand (-----BEGIN PUBLIC KEY-----) is dropped too.
std::optional<std::string> key_der(std::string_view key) {
  std::string base64;
  while (!key.empty()) {
    const auto end = key.find('\n');
    std::string_view line = key.substr(0, end);
    if (!line.starts_with("-----")) {
      for (char c : line) {
        if (c != ' ' && c != '\t' && c != '\r') base64 += c;
      }
    }
    if (end == std::string_view::npos) break;
    key.remove_prefix(end + 1);
  }
  return base64_decode(base64);
}

// Whether `signature` (DER ECDSA) signs `content` under the P-256 key `der` with SHA-256.
Result<void> check_ecdsa(std::string_view der, std::string_view signature,
                         std::string_view content) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<EVP_PKEY, PkeyFree> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
    ERR_clear_error();
    return fail(bad_signature("the account's SendGrid verification key is not an EC public key"));
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(content.data()),
                       content.size()) == 1;
  // A malformed DER signature leaves errors on the thread's queue; they mean "no match".
  ERR_clear_error();
  if (!ok) return fail(bad_signature(std::string(kSignatureHeader) + " does not match the body"));
  return {};
}

// `sg_message_id` is the send's X-Message-Id, a dot, and a per-recipient suffix
// ("LRzXl_NHStOGhQ4kofSm_A.filterdrecv-…"): the part before the first dot joins the send.
std::string send_id(std::string_view sg_message_id) {
  return std::string(sg_message_id.substr(0, sg_message_id.find('.')));
}

DeliveryEvent event_of(const nlohmann::json& event) {
  DeliveryEvent e;
  e.provider_event = json_string(event, "event");
  e.type = lookup(kEvents, e.provider_event).value_or(EventType::unknown);
  const std::string raw = event.dump();
  // sg_event_id is documented on every event but reported missing on some asynchronous
  // bounces (WEBHOOKS.md § SendGrid): the event's own JSON then keys it, so a repeat of the
  // same post is still one event.
  e.event_key = json_string(event, "sg_event_id");
  if (e.event_key.empty()) e.event_key = "sha256:" + sha256_hex(raw);
  // custom_args from the send's personalization are merged in at the top level.
  e.message_id = json_string(event, "herald_message_id");
  e.provider_message_id = send_id(json_string(event, "sg_message_id"));
  e.recipient = json_string(event, "email");
  if (const auto at = event.find("timestamp"); at != event.end())
    e.occurred_at = parse_unix_time(*at);
  e.reason = json_string(event, "reason");                          // bounce, dropped
  if (e.reason.empty()) e.reason = json_string(event, "response");  // deferred
  if (e.type == EventType::bounced) {
    // `type` is "bounce" (the receiving server refused the address: hard) or "blocked"
    // (it refused this message, usually for the sender's reputation or the content: the
    // address is fine, so soft; it suppresses only after several in a row).
    e.bounce = json_string(event, "type") == "blocked" ? BounceKind::soft : BounceKind::hard;
  }
  e.url = json_string(event, "url");
  e.raw = cap_raw_event(raw);
  return e;
}

constexpr std::string_view kSettings = "/v3/user/webhooks/event/settings";

// A request without a body (GET, DELETE).
HttpRequest authorized(std::string method, std::string path, const Credentials& credentials) {
  return HttpRequest{
      .method = std::move(method),
      .url = sendgrid_adapter().base_url(credentials) + path,
      .headers = {{"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
                  {"User-Agent", std::string(kUserAgent)}},
  };
}

// A request with a JSON body (its Content-Type after the Authorization header, where
// registration has always sent it).
HttpRequest authorized(std::string method, std::string path, const Credentials& credentials,
                       const nlohmann::json& body) {
  HttpRequest request = authorized(std::move(method), std::move(path), credentials);
  request.headers.insert(request.headers.begin() + 1, {"Content-Type", "application/json"});
  request.body = json_body(body);
  return request;
}

nlohmann::json settings_body(std::string_view receiver_url) {
  nlohmann::json body = {{"enabled", true},
                         {"url", std::string(receiver_url)},
                         {"friendly_name", "Herald delivery tracking"}};
  for (std::string_view event : kSubscribed) body[std::string(event)] = true;
  body["group_resubscribe"] = false;
  return body;
}

// SendGrid's error body {"errors":[{"message", "id"?, "url"?}]}.
std::string error_message(const HttpResponse& answer) {
  const auto body = parse_json(answer.body);
  std::string out;
  if (!body || !body->is_object()) return out;
  const auto errors = body->find("errors");
  if (errors == body->end() || !errors->is_array()) return out;
  for (const auto& e : *errors) {
    const std::string message = json_string(e, "message");
    if (message.empty()) continue;
    if (!out.empty()) out += "; ";
    out += message;
  }
  return out;
}

// The webhook id in a 400 "Webhook at '<url>' already exists" answer (spec example
// "Exists"), which names the existing webhook so it can be updated instead.
std::string existing_webhook(const HttpResponse& answer) {
  if (answer.status != 400) return {};
  const auto body = parse_json(answer.body);
  if (!body || !body->is_object() || !body->contains("errors") || !(*body)["errors"].is_array()) {
    return {};
  }
  for (const auto& e : (*body)["errors"]) {
    if (json_string(e, "message").find("already exists") != std::string::npos) {
      return json_string(e, "id");
    }
  }
  return {};
}

Error refused(const HttpResponse& answer, WebhookTask task = WebhookTask::set_up) {
  return registration_error(answer, kId, kName, error_message(answer), task);
}

// The ids of the webhooks posting to `receiver_url` in a GET …/settings/all answer
// ({"max_allowed", "webhooks": [{"id", "url", …}]}, spec EventWebhookAllResponse).
std::vector<std::string> webhooks_at(const HttpResponse& answer, std::string_view receiver_url) {
  std::vector<std::string> ids;
  const auto body = parse_json(answer.body);
  if (!body || !body->is_object()) return ids;
  const auto webhooks = body->find("webhooks");
  if (webhooks == body->end() || !webhooks->is_array()) return ids;
  for (const auto& webhook : *webhooks) {
    const std::string id = json_string(webhook, "id");
    if (!id.empty() && json_string(webhook, "url") == receiver_url) ids.push_back(id);
  }
  return ids;
}

class SendGridWebhook final : public WebhookTwin {
 public:
  // ECDSA P-256 with SHA-256 over the timestamp header followed by the raw body bytes; the
  // signature header is base64 DER (WEBHOOKS.md § SendGrid; @sendgrid/eventwebhook
  // verifySignature). SendGrid documents no freshness window and its verifier checks none;
  // Herald applies the same 5 minutes as Svix and Mailgun, so a captured post cannot be
  // replayed later (SendGrid's own retries are signed afresh).
  Result<void> verify(const WebhookRequest& request, std::string_view key,
                      TimePoint now) const override {
    const auto signature = request.header(kSignatureHeader);
    const auto timestamp = request.header(kTimestampHeader);
    if (!signature || signature->empty()) {
      return fail(unsigned_request("no " + std::string(kSignatureHeader) + " header"));
    }
    if (!timestamp || timestamp->empty()) {
      return fail(unsigned_request("no " + std::string(kTimestampHeader) + " header"));
    }
    const auto signed_at = parse_unix_seconds(*timestamp);
    if (!signed_at)
      return fail(bad_signature(std::string(kTimestampHeader) + " is not a Unix time"));
    if (auto fresh = check_fresh(*signed_at, now, kTimestampHeader); !fresh) return fresh;
    const auto der = key_der(key);
    if (!der || der->empty()) {
      return fail(bad_signature("the account's SendGrid verification key is not base64"));
    }
    const auto signature_der = base64_decode(*signature);
    if (!signature_der || signature_der->empty()) {
      return fail(bad_signature(std::string(kSignatureHeader) + " is not base64"));
    }
    std::string content;
    content.reserve(timestamp->size() + request.body.size());
    content.append(*timestamp).append(request.body);
    return check_ecdsa(*der, *signature_der, content);
  }

  // A JSON array of events, several recipients' and several kinds in one post.
  Result<std::vector<DeliveryEvent>> parse(const WebhookRequest& request) const override {
    const auto body = parse_json(request.body);
    if (!body || !body->is_array()) return fail(malformed("body", "is not a JSON array of events"));
    std::vector<DeliveryEvent> events;
    events.reserve(body->size());
    for (std::size_t i = 0; i < body->size(); ++i) {
      const nlohmann::json& event = (*body)[i];
      // Appended, not "[" + to_string(i): GCC 12's -Wrestrict misfires on that at -O2.
      std::string at = "[";
      at += std::to_string(i);
      at += ']';
      if (!event.is_object()) return fail(malformed(at, "is not an object"));
      if (!event.contains("event") || !event["event"].is_string()) {
        return fail(malformed(at + ".event", "is missing or not a string"));
      }
      events.push_back(event_of(event));
    }
    return events;
  }

  // POST /v3/user/webhooks/event/settings creates a webhook for the receiver (201 with its
  // id); when one already posts there SendGrid answers 400 "already exists" with its id and
  // Herald PATCHes …/settings/{id} with the same settings instead. Then PATCH
  // …/settings/signed/{id} {"enabled": true} turns signing on and answers the public key
  // (spec paths; signing cannot be set at creation, the spec says).
  RegistrationStep register_step(const Credentials& credentials, std::string_view receiver_url,
                                 std::span<const HttpResponse> answers) const override {
    const nlohmann::json settings = settings_body(receiver_url);
    if (answers.empty())
      return ask(authorized("POST", std::string(kSettings), credentials, settings));
    std::size_t next = 1;
    std::string id;
    if (succeeded(answers[0])) {
      const auto body = parse_json(answers[0].body);
      id = body ? json_string(*body, "id") : "";
      if (id.empty()) return failed(unexpected_answer(answers[0], kId, kName, "a webhook id"));
    } else {
      id = existing_webhook(answers[0]);
      if (id.empty()) return failed(refused(answers[0]));
      if (answers.size() == next) {
        return ask(authorized("PATCH", std::string(kSettings) + "/" + percent_encode(id),
                              credentials, settings));
      }
      if (!succeeded(answers[next])) return failed(refused(answers[next]));
      ++next;
    }
    if (answers.size() == next) {
      return ask(authorized("PATCH", std::string(kSettings) + "/signed/" + percent_encode(id),
                            credentials, {{"enabled", true}}));
    }
    const HttpResponse& signed_answer = answers[next];
    if (!succeeded(signed_answer)) return failed(refused(signed_answer));
    const auto body = parse_json(signed_answer.body);
    const std::string key = body ? json_string(*body, "public_key") : "";
    if (key.empty()) return failed(unexpected_answer(signed_answer, kId, kName, "a public_key"));
    return done(key);
  }

  // GET …/settings/all lists the account's webhooks; each one whose url is the receiver (one,
  // as SendGrid refuses a second webhook at the same URL) is removed with DELETE
  // …/settings/{id} (spec DeleteEventWebhook: 204, or 404 for an id that is gone). The
  // account's other webhooks are left alone.
  RegistrationStep unregister_step(const Credentials& credentials, std::string_view receiver_url,
                                   std::span<const HttpResponse> answers) const override {
    if (answers.empty())
      return ask(authorized("GET", std::string(kSettings) + "/all", credentials));
    if (!succeeded(answers[0])) return failed(refused(answers[0], WebhookTask::remove));
    const std::vector<std::string> ids = webhooks_at(answers[0], receiver_url);
    for (std::size_t i = 1; i < answers.size(); ++i) {
      if (!removed_or_gone(answers[i])) return failed(refused(answers[i], WebhookTask::remove));
    }
    const std::size_t deleted = answers.size() - 1;
    if (deleted >= ids.size()) return removed();
    return ask(authorized("DELETE", std::string(kSettings) + "/" + percent_encode(ids[deleted]),
                          credentials));
  }
};

}  // namespace

const WebhookTwin& sendgrid_webhook() {
  static const SendGridWebhook instance;
  return instance;
}

}  // namespace herald::providers
