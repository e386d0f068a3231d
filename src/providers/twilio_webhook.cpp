// Twilio's SMS status callbacks: form posts, one status change each, to the StatusCallback URL
// set on every message (Herald's receiver with ?message=<Herald's id>), signed with the
// account's Auth Token. Facts and sources: provider-specs/WEBHOOKS.md § Twilio,
// provider-specs/README.md § Twilio ("Status callback", "Webhook signature");
// https://www.twilio.com/docs/messaging/guides/track-outbound-message-status.
#include <string>

#include "providers/adapters.h"
#include "providers/encoding.h"
#include "providers/webhook_support.h"
#include "webhooks/twilio_signature.h"

namespace herald::providers {
namespace {

// MessageStatus values (spec `message_enum_status`) and what each is in Herald's vocabulary.
// canceled (a scheduled message Herald never schedules), partially_delivered (MMS groups),
// receiving / received (inbound) are EventType::unknown.
constexpr NameTable<EventType, 9> kStatuses = {{
    {"queued", EventType::queued},
    {"accepted", EventType::queued},
    {"scheduled", EventType::queued},
    {"sending", EventType::sent},
    {"sent", EventType::sent},
    {"delivered", EventType::delivered},
    {"read", EventType::delivered},
    {"undelivered", EventType::failed},
    {"failed", EventType::failed},
}};

// The delivery error codes worth words (WEBHOOKS.md § Twilio; twilio.com/docs/api/errors).
constexpr NameTable<std::string_view, 5> kErrors = {{
    {"30003", "unreachable handset"},
    {"30005", "unknown or inactive number"},
    {"30006", "landline or unreachable carrier"},
    {"30007", "carrier filtering"},
    {"30008", "unknown error"},
}};

// The recipient replied STOP: Twilio refuses every message to them from this sender until
// they reply START.
constexpr std::string_view kOptedOut = "21610";

// The first value of `name` in a decoded form ("" when absent).
std::string field(const FormFields& form, std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return {};
}

class TwilioWebhook final : public WebhookTwin {
 public:
  // X-Twilio-Signature over the URL Twilio was given plus the sorted form fields
  // (webhooks/twilio_signature.h, which also accepts the URL with or without the default
  // port). Twilio signs no timestamp, so there is no freshness window; a replayed callback
  // repeats an event key (MessageSid + status) and is recorded once.
  Result<void> verify(const WebhookRequest& request, std::string_view key,
                      TimePoint /*now*/) const override {
    const auto signature = request.header("X-Twilio-Signature");
    if (!signature || signature->empty()) {
      return fail(unsigned_request("no X-Twilio-Signature header"));
    }
    const auto form = form_decode(request.body);
    if (!form) return fail(bad_signature("the body is not a form Twilio signs"));
    if (key.empty()) return fail(bad_signature("the account has no Twilio auth token"));
    if (!webhooks::verify_twilio_signature(key, request.url, *form, *signature)) {
      return fail(bad_signature("X-Twilio-Signature does not match"));
    }
    return {};
  }

  // MessageSid, MessageStatus, ErrorCode, To, … (the set grows over time: unknown fields are
  // kept in raw). Herald's id comes from the callback URL's ?message=. Twilio sends no event
  // time, so occurred_at is left for the receiver's clock.
  Result<std::vector<DeliveryEvent>> parse(const WebhookRequest& request) const override {
    const auto form = form_decode(request.body);
    if (!form) {
      return fail(malformed("body", "is not an application/x-www-form-urlencoded form"));
    }
    const std::string sid = field(*form, "MessageSid");
    const std::string status = field(*form, "MessageStatus");
    if (sid.empty()) return fail(malformed("MessageSid", "is missing"));
    if (status.empty()) return fail(malformed("MessageStatus", "is missing"));

    DeliveryEvent e;
    e.provider_event = status;
    e.type = lookup(kStatuses, status).value_or(EventType::unknown);
    e.event_key = sid + ":" + status;
    e.message_id = query_param(request.url, "message");
    e.provider_message_id = sid;
    e.recipient = field(*form, "To");
    const std::string code = field(*form, "ErrorCode");
    if (!code.empty() && code != "0") {
      const auto meaning = lookup(kErrors, code);
      e.reason = "error " + code + (meaning ? ": " + std::string(*meaning) : "");
      if (code == kOptedOut) e.type = EventType::opted_out;
    }
    e.raw = cap_raw_event(request.body);
    return std::vector<DeliveryEvent>{std::move(e)};
  }

  // The callback is set per message (StatusCallback on each send), so there is nothing to
  // register.
  RegistrationStep register_step(const Credentials& /*credentials*/,
                                 std::string_view /*receiver_url*/,
                                 std::span<const HttpResponse> /*answers*/) const override {
    return {};
  }
};

}  // namespace

const WebhookTwin& twilio_webhook() {
  static const TwilioWebhook instance;
  return instance;
}

}  // namespace herald::providers
