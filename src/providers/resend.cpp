// Resend: JSON over POST /emails (one message) and POST /emails/batch (2–100 messages),
// Bearer API key, Idempotency-Key honoured for 24 h. Contract facts and their sources:
// provider-specs/README.md § Resend; spec provider-specs/resend/resend.yaml.
#include <string>

#include "providers/adapters.h"
#include "providers/classify.h"
#include "providers/encoding.h"

namespace herald::providers {
namespace {

// The batch endpoint takes "up to 100" emails (spec summary of /emails/batch and
// https://resend.com/docs/dashboard/emails/batch-sending); the schema doesn't enforce it.
constexpr std::size_t kMaxBatch = 100;

// Tag values may hold only ASCII letters, digits, `_` and `-`, at most 256 characters
// (spec `Tag`). Herald's ids are UUIDs and pass unchanged; anything else is mapped so the
// whole send is never refused over metadata.
std::string tag_value(std::string_view text) {
  std::string out(text.substr(0, 256));
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

// One message as Resend's SendEmailRequest. `to` carries the bare address: the docs
// describe it as "recipient email address" and only `from` as taking a display name.
// `text` is left out when empty so Resend derives it from the HTML.
nlohmann::json email_json(const OutboundMessage& m) {
  nlohmann::json email = {
      {"from", m.from.formatted()},
      {"to", nlohmann::json::array({m.to.address})},
      {"subject", m.subject},
  };
  if (!m.html.empty()) email["html"] = m.html;
  if (!m.text.empty()) email["text"] = m.text;
  if (!m.reply_to.empty()) email["reply_to"] = m.reply_to;
  if (!m.headers.empty()) {
    auto headers = nlohmann::json::object();
    for (const auto& [name, value] : m.headers) headers[name] = value;
    email["headers"] = std::move(headers);
  }
  // Delivery webhooks return tags as {name: value}, which is how events find the message.
  email["tags"] =
      nlohmann::json::array({{{"name", "herald_message_id"}, {"value", tag_value(m.id)}}});
  return email;
}

// The Idempotency-Key of a request. One message: its id. A batch: "batch-" + SHA-256 over
// the ids in order, so an identical retry of the batch replays Resend's first answer,
// while a batch regrouped differently gets a fresh key instead of Resend's 409
// invalid_idempotent_request ("same key, different body"). 70 chars, under the 256 limit.
std::string idempotency_key(std::span<const OutboundMessage> messages) {
  if (messages.size() == 1) return messages.front().id;
  std::string ids;
  for (const auto& m : messages) ids.append(m.id).append("\n");
  return "batch-" + sha256_hex(ids);
}

// Resend's error body {"statusCode", "name", "message"}
// (https://resend.com/docs/api-reference/errors).
struct ResendError {
  std::string name;
  std::string message;
};

ResendError parse_error(const HttpResponse& response) {
  const auto body = parse_json(response.body);
  if (!body) return {};
  return {json_string(*body, "name"), json_string(*body, "message")};
}

std::string reason_of(const ResendError& error, const HttpResponse& response) {
  if (!error.message.empty()) return error.message;
  if (!error.name.empty()) return error.name;
  return fallback_reason(response, "Resend");
}

const ProviderInfo kInfo{
    .id = "resend",
    .display_name = "Resend",
    .channel = Channel::email,
    .fields = {{.name = "apiKey",
                .label = "API Key",
                .kind = FieldKind::secret,
                .placeholder = "re_…",
                .help = "Create one under API Keys in Resend (sending access is enough).",
                .max_length = 512,
                .env = "RESEND_API_KEY"},
               sender_email_field("An address on a domain you verified in Resend."),
               webhook_key_field("Webhook Signing Secret", "whsec_…",
                                 "Optional: leave empty and Herald sets up delivery events in "
                                 "Resend itself.",
                                 "RESEND_WEBHOOK_SECRET")},
    .base_url_env = "HERALD_RESEND_BASE_URL",
    .default_base_url = "https://api.resend.com",
    .rate_limit_env = "HERALD_RATE_LIMIT_RESEND",
    // 2–5 requests per second per team (provider-specs/README.md § Resend); a batch call
    // counts once.
    .default_rate_limit = 5,
    .max_batch = kMaxBatch,
    .idempotency_keys = true,
    .redact = {R"(re_[A-Za-z0-9_.\-]{8,})", R"(whsec_[A-Za-z0-9+/=]{8,})"},
    .webhooks = {.delivery_events = true,
                 .signature = "svix",
                 .registration_api = true,
                 .events_name_the_message = true},
};

class Resend final : public Provider {
 public:
  const ProviderInfo& info() const override { return kInfo; }

  const WebhookTwin* webhook() const override { return &resend_webhook(); }

  HttpRequest build_send(const Credentials& credentials,
                         std::span<const OutboundMessage> messages) const override {
    HttpRequest request{.method = "POST"};
    nlohmann::json body;
    if (messages.size() == 1) {
      request.url = base_url(credentials) + "/emails";
      body = email_json(messages.front());
    } else {
      request.url = base_url(credentials) + "/emails/batch";
      body = nlohmann::json::array();
      for (const auto& m : messages) body.push_back(email_json(m));
    }
    request.headers = {
        {"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
        {"Content-Type", "application/json"},
        {"User-Agent", std::string(kUserAgent)},
        {"Idempotency-Key", idempotency_key(messages)},
    };
    // Strict (Resend's default, stated as the SDK does): one invalid email fails the
    // whole batch, so every message of a request shares one outcome.
    if (messages.size() > 1) request.headers.emplace_back("x-batch-validation", "strict");
    request.body = json_body(body);
    return request;
  }

  std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                         std::size_t count) const override {
    if (response.status >= 200 && response.status < 300) return accepted_ids(response, count);
    return for_each_message(failure(response), count);
  }

  HttpRequest build_verify(const Credentials& credentials) const override {
    return HttpRequest{
        .method = "GET",
        .url = base_url(credentials) + "/domains",
        .headers = {{"Authorization", bearer_auth(credentials.secrets.get("apiKey").reveal())},
                    {"User-Agent", std::string(kUserAgent)}},
    };
  }

  VerifyOutcome classify_verify(const HttpResponse& response) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) return verify_ok(status, "key is valid (full access)");
    const ResendError error = parse_error(response);
    // A sending-only key may not list domains, and saying so proves the key is real
    // (README § Resend, "Credential check").
    if (error.name == "restricted_api_key") return verify_ok(status, "key is valid (send-only)");
    if (error.name == "missing_api_key" || error.name == "invalid_api_key" || status == 401) {
      return verify_rejected(status, reason_of(error, response));
    }
    if (is_transient(status)) return verify_retryable(status, reason_of(error, response));
    return verify_failed(status, reason_of(error, response));
  }

 private:
  // 200: {"id"} for one message, {"data":[{"id"}…]} in request order for a batch. An id
  // that is missing leaves the message accepted with no provider id (its webhooks still
  // carry the herald_message_id tag).
  static std::vector<SendOutcome> accepted_ids(const HttpResponse& response, std::size_t count) {
    std::vector<SendOutcome> outcomes(count, accepted(response.status, ""));
    const auto body = parse_json(response.body);
    if (!body || !body->is_object()) return outcomes;
    if (count == 1) {
      outcomes.front().provider_message_id = json_string(*body, "id");
      return outcomes;
    }
    const auto data = body->find("data");
    if (data == body->end() || !data->is_array()) return outcomes;
    for (std::size_t i = 0; i < count && i < data->size(); ++i) {
      outcomes[i].provider_message_id = json_string((*data)[i], "id");
    }
    return outcomes;
  }

  // Resend's error names decide, not the status: 403 is both `invalid_api_key` and a
  // `validation_error` for an unverified sending domain (README § Resend, "Errors").
  static SendOutcome failure(const HttpResponse& response) {
    const int status = response.status;
    const ResendError error = parse_error(response);
    const std::string reason = reason_of(error, response);
    const std::string& name = error.name;
    if (name == "missing_api_key" || name == "invalid_api_key" || name == "restricted_api_key") {
      return bad_credentials(status, reason);
    }
    // Over the rate limit or a quota (429), or the same Idempotency-Key still in flight
    // (409: retry later with the same key), or Resend's own failure.
    if (name == "rate_limit_exceeded" || name == "daily_quota_exceeded" ||
        name == "monthly_quota_exceeded" || name == "concurrent_idempotent_requests" ||
        name == "application_error" || name == "internal_server_error") {
      return retryable(response, reason);
    }
    // Everything else is permanent: validation_error (400, and 403 when an unverified
    // domain sends to others — not a key problem), invalid_from_address, not_found, … An
    // unknown name or no error body (a proxy; Cloudflare's 403 "error code: 1010" when the
    // User-Agent is missing) falls back on the status.
    if (is_transient(status)) return retryable(response, reason);
    if (status == 401) return bad_credentials(status, reason);
    return permanent(status, reason);
  }
};

}  // namespace

const Provider& resend_adapter() {
  static const Resend instance;
  return instance;
}

}  // namespace herald::providers
