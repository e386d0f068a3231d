// SendGrid: JSON over POST /v3/mail/send, Bearer API key, 202 with the id in the
// X-Message-Id header. Contract facts and their sources: provider-specs/README.md
// § SendGrid; specs provider-specs/sendgrid/tsg_mail_v3.json and tsg_scopes_v3.json.
#include <algorithm>
#include <chrono>
#include <string>

#include "providers/adapters.h"
#include "providers/classify.h"
#include "providers/encoding.h"

namespace herald::providers {
namespace {

// Up to 1,000 personalizations per request (spec `maxItems`; also at most 1,000 recipients
// in all, and Herald puts one in each). A request has one from, subject and content for all
// of them, so a batch is the shared content of a template rendered once, with each
// recipient's values in its personalization's `substitutions`
// (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send: they apply to the
// subject and the text and html content).
constexpr std::size_t kMaxBatch = 1000;

// A substitution's tag in the shared content. Any string works as a tag; this one is
// unlikely in real text, and the dispatcher checks each personalized message reproduces its
// own rendering exactly before it batches it.
std::string substitution_tag(std::string_view name) {
  return "-herald-" + std::string(name) + "-";
}

// {email, name?} as in spec `MailFrom` / `MailTo`.
nlohmann::json address_json(const Mailbox& mailbox) {
  nlohmann::json j = {{"email", mailbox.address}};
  if (!mailbox.name.empty()) j["name"] = mailbox.name;
  return j;
}

// One envelope per message: its recipient and its id. The id goes in the personalization's
// custom_args (typed object), not the top-level custom_args, which both official specs type
// as a string, so Prism rejects the object the real API wants (README § SendGrid, "Spec
// quirk"). SendGrid merges custom_args into every event webhook for the message.
// In a personalized batch each personalization also carries its message's substitutions and
// its own headers (List-Unsubscribe differs per recipient; substitutions do not apply to
// headers).
nlohmann::json personalization_json(const OutboundMessage& m) {
  nlohmann::json p = {
      {"to", nlohmann::json::array({address_json(m.to)})},
      {"custom_args", {{"herald_message_id", m.id}}},
  };
  if (!m.substitutions.empty()) {
    auto subs = nlohmann::json::object();
    for (const auto& [name, value] : m.substitutions) subs[substitution_tag(name)] = value;
    p["substitutions"] = std::move(subs);
    if (!m.headers.empty()) {
      auto headers = nlohmann::json::object();
      for (const auto& [name, value] : m.headers) headers[name] = value;
      p["headers"] = std::move(headers);
    }
  }
  return p;
}

// The mail/send body. Everything but the envelopes comes from the first message: a batch
// is only valid for messages that share from, reply-to, subject and content (the shared
// content of a personalized batch), and, unless personalized, headers.
nlohmann::json mail_json(std::span<const OutboundMessage> messages) {
  const OutboundMessage& first = messages.front();
  auto personalizations = nlohmann::json::array();
  for (const auto& m : messages) personalizations.push_back(personalization_json(m));
  nlohmann::json mail = {
      {"personalizations", std::move(personalizations)},
      {"from", address_json(first.from)},
      {"subject", first.subject},
  };
  if (!first.reply_to.empty()) mail["reply_to"] = {{"email", first.reply_to}};
  // text/plain must come before text/html; an empty value is refused (minLength 1).
  auto content = nlohmann::json::array();
  if (!first.text.empty()) content.push_back({{"type", "text/plain"}, {"value", first.text}});
  if (!first.html.empty()) content.push_back({{"type", "text/html"}, {"value", first.html}});
  if (!content.empty()) mail["content"] = std::move(content);
  if (!first.headers.empty() && first.substitutions.empty()) {
    auto headers = nlohmann::json::object();
    for (const auto& [name, value] : first.headers) headers[name] = value;
    mail["headers"] = std::move(headers);
  }
  return mail;
}

// SendGrid's error body {"errors":[{"message","field","help"}]} (spec `ErrorResponse`),
// as its messages joined by "; ".
std::string reason_of(const HttpResponse& response) {
  const auto body = parse_json(response.body);
  std::string reason;
  if (body && body->is_object()) {
    const auto errors = body->find("errors");
    if (errors != body->end() && errors->is_array()) {
      for (const auto& e : *errors) {
        const std::string message = json_string(e, "message");
        if (message.empty()) continue;
        if (!reason.empty()) reason += "; ";
        reason += message;
      }
    }
  }
  return reason.empty() ? fallback_reason(response, "SendGrid") : reason;
}

// On 429 without Retry-After: X-RateLimit-Reset is the epoch second the limit resets
// (https://twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits).
// It is measured against the response's own Date header (SendGrid's clock, so our clock's
// skew doesn't matter), or against ours when Date is absent.
std::optional<std::chrono::seconds> rate_limit_reset(const HttpResponse& response) {
  const auto reset_header = response.header("X-RateLimit-Reset");
  if (!reset_header) return std::nullopt;
  const auto reset = parse_decimal(*reset_header);
  if (!reset) return std::nullopt;
  const auto date_header = response.header("Date");
  const auto server_now = date_header ? parse_http_date(*date_header) : std::nullopt;
  const auto now = server_now.value_or(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  const auto wait = std::chrono::seconds(*reset) - now.time_since_epoch();
  return std::max(wait, std::chrono::seconds(0));
}

const ProviderInfo kInfo{
    .id = "sendgrid",
    .display_name = "SendGrid",
    .channel = Channel::email,
    .fields = {{.name = "apiKey",
                .label = "API Key",
                .kind = FieldKind::secret,
                .placeholder = "SG.…",
                .help = "Create one under Settings → API Keys in SendGrid (Mail Send access).",
                .max_length = 512,
                .env = "SENDGRID_API_KEY"},
               sender_email_field("A sender or domain you verified in SendGrid."),
               webhook_key_field("Event Webhook Verification Key", "MFkwEwYHKoZIzj0CAQYI…",
                                 "Optional: leave empty and Herald sets up the Event Webhook "
                                 "with signing in SendGrid itself.",
                                 "SENDGRID_WEBHOOK_PUBLIC_KEY")},
    .base_url_env = "HERALD_SENDGRID_BASE_URL",
    .default_base_url = "https://api.sendgrid.com",
    .rate_limit_env = "HERALD_RATE_LIMIT_SENDGRID",
    .default_rate_limit = 100,  // no published mail/send figure
    .max_batch = kMaxBatch,
    .shared_content = true,
    .redact = {R"(SG\.[A-Za-z0-9_.\-]{8,})"},
    // Events carry the personalization's custom_args; the asynchronous bounces that lack them
    // lack sg_message_id too, so the provider's id would not find those either.
    .webhooks = {.delivery_events = true,
                 .signature = "ecdsa-p256",
                 .registration_api = true,
                 .events_name_the_message = true},
};

class SendGrid final : public Provider {
 public:
  const ProviderInfo& info() const override { return kInfo; }

  const WebhookTwin* webhook() const override { return &sendgrid_webhook(); }

  std::string placeholder(std::string_view name) const override { return substitution_tag(name); }

  HttpRequest build_send(const Credentials& credentials,
                         std::span<const OutboundMessage> messages) const override {
    return HttpRequest{
        .method = "POST",
        .url = base_url(credentials) + "/v3/mail/send",
        .headers = {{"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
                    {"Content-Type", "application/json"},
                    {"User-Agent", std::string(kUserAgent)}},
        .body = json_body(mail_json(messages)),
    };
  }

  // 202 means every personalization was accepted; their events' sg_message_id values all
  // begin with the one X-Message-Id (https://www.twilio.com/docs/sendgrid/glossary/x-message-id).
  std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                         std::size_t count) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) {
      const auto id = response.header("X-Message-Id");
      return for_each_message(accepted(status, std::string(id.value_or(""))), count);
    }
    const std::string reason = reason_of(response);
    // 401: missing or wrong key. 403: a real key that may not send — no mail.send scope,
    // a From that is not a verified Sender Identity, or an account block (README
    // § SendGrid, "Errors"). Each is a fault of the account, not of this message, so the
    // integration is marked failing (the agent sees it) and fallbackToPlatform applies,
    // instead of failing every message the agent sends one by one.
    if (status == 401 || status == 403) {
      return for_each_message(bad_credentials(status, reason), count);
    }
    if (status == 429) {
      return for_each_message(retryable(response, reason, rate_limit_reset(response)), count);
    }
    if (is_transient(status)) return for_each_message(retryable(response, reason), count);
    // 400 validation, 413 payload too large, 404/405: the request itself is wrong.
    return for_each_message(permanent(status, reason), count);
  }

  HttpRequest build_verify(const Credentials& credentials) const override {
    return HttpRequest{
        .method = "GET",
        .url = base_url(credentials) + "/v3/scopes",
        .headers = {{"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
                    {"User-Agent", std::string(kUserAgent)}},
    };
  }

  // GET /v3/scopes lists what the key may do; Herald needs mail.send.
  VerifyOutcome classify_verify(const HttpResponse& response) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) {
      const auto body = parse_json(response.body);
      if (!body || !body->is_object() || !body->contains("scopes") ||
          !body->at("scopes").is_array()) {
        return verify_failed(status, "unexpected answer from GET /v3/scopes");
      }
      const nlohmann::json& scopes = body->at("scopes");
      if (std::ranges::find(scopes, nlohmann::json("mail.send")) == scopes.end()) {
        return verify_rejected(status, "key lacks the mail.send scope");
      }
      return verify_ok(status, "key is valid (mail.send)");
    }
    if (status == 401 || status == 403) return verify_rejected(status, reason_of(response));
    if (is_transient(status)) return verify_retryable(status, reason_of(response));
    return verify_failed(status, reason_of(response));
  }
};

}  // namespace

const Provider& sendgrid_adapter() {
  static const SendGrid instance;
  return instance;
}

}  // namespace herald::providers
