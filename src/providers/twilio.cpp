// Twilio (SMS): form-encoded POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP
// Basic `AccountSid:AuthToken`, 201 with the Message's `sid`. Contract facts and their
// sources: provider-specs/README.md § Twilio; spec provider-specs/twilio/twilio_api_v2010.json.
#include <string>

#include "providers/adapters.h"
#include "providers/classify.h"
#include "providers/encoding.h"

namespace herald::providers {
namespace {

// The Messages resource creates one message per request; Twilio has no batch send.
constexpr std::size_t kMaxBatch = 1;

std::string account_url(const std::string& base_url, const Credentials& credentials) {
  return base_url + "/2010-04-01/Accounts/" + percent_encode(credentials.params.get("accountSid"));
}

// Twilio's error 21610: the recipient replied STOP to this sender and Twilio will not send to
// them until they reply START.
constexpr long long kOptedOut = 21610;

// The `code` of Twilio's error body, 0 when there is none.
long long error_code(const HttpResponse& response) {
  const auto body = parse_json(response.body);
  if (!body || !body->is_object()) return 0;
  const auto code = body->find("code");
  return code != body->end() && code->is_number_integer() ? code->get<long long>() : 0;
}

// Twilio's error body {"code", "message", "more_info", "status"} (SDK RestException) as
// "<code>: <message>", e.g. "21610: Attempt to send to unsubscribed recipient".
std::string reason_of(const HttpResponse& response) {
  const auto body = parse_json(response.body);
  if (!body || !body->is_object()) return fallback_reason(response, "Twilio");
  const std::string message = json_string(*body, "message");
  const auto code = body->find("code");
  const bool has_code = code != body->end() && code->is_number_integer();
  if (has_code && !message.empty()) return std::to_string(code->get<long long>()) + ": " + message;
  if (!message.empty()) return message;
  if (has_code) return std::to_string(code->get<long long>());
  return fallback_reason(response, "Twilio");
}

// Where Twilio posts this message's status changes: Herald's receiver for the account
// (credentials.status_callback_url, set when tracking is on) with ?message=<Herald's id>, which
// the callbacks carry back (twilio_webhook.cpp reads it); Twilio signs the URL with its query,
// so the id cannot be altered. Without a receiver, a URL the caller set on the message is
// used as it is; with neither, none (Twilio refuses an empty one).
std::string status_callback(const Credentials& credentials, const OutboundMessage& m) {
  const std::string& receiver = credentials.status_callback_url;
  if (receiver.empty()) return m.status_callback;
  const char separator = receiver.find('?') == std::string::npos ? '?' : '&';
  return receiver + separator + "message=" + percent_encode(m.id);
}

HttpRequest authorized(std::string method, std::string url, const Credentials& credentials) {
  return HttpRequest{
      .method = std::move(method),
      .url = std::move(url),
      .headers = {{"Authorization", basic_auth(credentials.params.get("accountSid"),
                                               credentials.secrets.get("authToken").reveal())},
                  {"User-Agent", std::string(kUserAgent)}},
  };
}

const ProviderInfo kInfo{
    .id = "twilio",
    .display_name = "Twilio",
    .channel = Channel::sms,
    .fields = {{.name = "accountSid",
                .label = "Account SID",
                .placeholder = "AC…",
                .help = "On your Twilio Console's home page.",
                .pattern = "AC[0-9a-fA-F]{32}",
                .pattern_message = "must be AC followed by 32 hexadecimal characters",
                .max_length = 34,
                .env = "TWILIO_ACCOUNT_SID"},
               {.name = "authToken",
                .label = "Auth Token",
                .kind = FieldKind::secret,
                .help = "Beside the Account SID in your Twilio Console.",
                .env = "TWILIO_AUTH_TOKEN"},
               {.name = "phoneNumber",
                .label = "Phone Number",
                .kind = FieldKind::phone,
                .placeholder = "+14155552671",
                .help = "A number on your Twilio account that can send SMS.",
                .max_length = 32,
                .env = "TWILIO_PHONE_NUMBER"}},
    .base_url_env = "HERALD_TWILIO_BASE_URL",
    .default_base_url = "https://api.twilio.com",
    .rate_limit_env = "HERALD_RATE_LIMIT_TWILIO",
    .default_rate_limit = 100,  // the account API; carriers pace per number
    .max_batch = kMaxBatch,
    .redact = {R"(\b[0-9a-fA-F]{32}\b)"},  // Auth Tokens are 32 hex characters
    .account_fields = {"accountSid"},
    // Status callbacks are signed with the account's Auth Token (X-Twilio-Signature), so the
    // key is the account's own secret, not a separate webhook secret.
    .webhooks = {.delivery_events = true,
                 .signature = "hmac-sha1",
                 .registration_api = false,
                 .key_field = "authToken",
                 .events_name_the_message = true},
};

class Twilio final : public Provider {
 public:
  const ProviderInfo& info() const override { return kInfo; }

  const WebhookTwin* webhook() const override { return &twilio_webhook(); }

  HttpRequest build_send(const Credentials& credentials,
                         std::span<const OutboundMessage> messages) const override {
    const OutboundMessage& m = messages.front();
    HttpRequest request = authorized(
        "POST", account_url(base_url(credentials), credentials) + "/Messages.json", credentials);
    FormFields fields = {{"To", m.to_phone}, {"From", m.from_phone}, {"Body", m.body}};
    // Per-message delivery webhook (spec `StatusCallback`).
    const std::string callback = status_callback(credentials, m);
    if (!callback.empty()) fields.emplace_back("StatusCallback", callback);
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = form_urlencode(fields);
    return request;
  }

  std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                         std::size_t count) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) {
      const auto body = parse_json(response.body);
      return for_each_message(accepted(status, body ? json_string(*body, "sid") : ""), count);
    }
    const std::string reason = reason_of(response);
    // 401 (20003): the SID/token pair is wrong. 403: the account may not do this (e.g.
    // suspended). Either way the integration, not the message, is at fault.
    if (status == 401 || status == 403)
      return for_each_message(bad_credentials(status, reason), count);
    // 429 (20429) and 5xx: the SDK's own autoRetry retries 429 with backoff.
    if (is_transient(status)) return for_each_message(retryable(response, reason), count);
    // 400: 21211 invalid To, 21610 recipient opted out (STOP), 21606/21614 not SMS-capable.
    SendOutcome refused = permanent(status, reason);
    refused.recipient_opted_out = error_code(response) == kOptedOut;
    return for_each_message(refused, count);
  }

  HttpRequest build_verify(const Credentials& credentials) const override {
    return authorized("GET", account_url(base_url(credentials), credentials) + ".json",
                      credentials);
  }

  // GET /Accounts/{Sid}.json: 200 proves the pair; a suspended or closed account answers
  // 200 too, with `status` saying so (spec `account_enum_status`), and cannot send.
  VerifyOutcome classify_verify(const HttpResponse& response) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) {
      const auto body = parse_json(response.body);
      const std::string account_status = body ? json_string(*body, "status") : "";
      if (account_status.empty() || account_status == "active") {
        return verify_ok(status, "account SID and auth token are valid");
      }
      return verify_rejected(status, "account is " + account_status);
    }
    if (status == 401 || status == 403 || status == 404) {
      return verify_rejected(status, reason_of(response));
    }
    if (is_transient(status)) return verify_retryable(status, reason_of(response));
    return verify_failed(status, reason_of(response));
  }
};

}  // namespace

const Provider& twilio_adapter() {
  static const Twilio instance;
  return instance;
}

}  // namespace herald::providers
