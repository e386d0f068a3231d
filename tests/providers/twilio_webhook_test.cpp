// Twilio's webhook twin: X-Twilio-Signature on raw form bodies (Twilio's documented vector and
// every tampered copy), the status mapping and error codes on callbacks shaped like Twilio's
// docs, Herald's id from the StatusCallback URL the send adapter writes, and no registration.
#include <gtest/gtest.h>

#include "providers/encoding.h"
#include "providers/test_support.h"
#include "providers/webhook_fixtures.h"
#include "webhooks/twilio_signature.h"

namespace herald::providers {
namespace {

using namespace fixtures;

const WebhookTwin& twilio() {
  return twin_of("twilio");
}

// "twilio_form" in provider-specs/webhook-signature-vectors.json: Twilio's documented example.
constexpr std::string_view kToken = "12345";
constexpr const char* kUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr std::string_view kSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
const FormFields kParams = {{"CallSid", "CA1234567890ABCDE"},
                            {"Caller", "+12349013030"},
                            {"Digits", "1234"},
                            {"From", "+12349013030"},
                            {"To", "+18005551212"}};

WebhookRequest form_post(std::string url, const FormFields& fields, std::string_view signature) {
  return post(std::move(url),
              {{"Content-Type", "application/x-www-form-urlencoded"},
               {"X-Twilio-Signature", std::string(signature)}},
              form_urlencode(fields));
}

TEST(TwilioWebhook, DocumentedVectorVerifiesFromTheRawBody) {
  // Invariant: Twilio's example signature verifies over the URL and the form as it arrives
  // (percent-encoded, fields in any order); Twilio signs no time, so any `now` will do.
  EXPECT_TRUE(twilio().verify(form_post(kUrl, kParams, kSignature), kToken, at(0)).has_value());
  const FormFields reversed(kParams.rbegin(), kParams.rend());
  EXPECT_TRUE(
      twilio().verify(form_post(kUrl, reversed, kSignature), kToken, at(1700000000)).has_value());
  // '+' for a space and lowercase escapes decode the same.
  WebhookRequest plus = form_post(kUrl, kParams, kSignature);
  plus.body =
      "CallSid=CA1234567890ABCDE&Caller=%2b12349013030&Digits=1234&From=%2B12349013030&To=%"
      "2B18005551212";
  EXPECT_TRUE(twilio().verify(plus, kToken, at(0)).has_value());
}

TEST(TwilioWebhook, VectorAgreesWithTheSharedFile) {
  // Invariant: the vector copied above is the one in provider-specs (when that folder exists).
  const auto vectors = signature_vectors();
  if (!vectors) GTEST_SKIP() << "provider-specs not found";
  const auto& v = vectors->at("twilio_form");
  EXPECT_EQ(v.at("auth_token"), kToken);
  EXPECT_EQ(v.at("url"), kUrl);
  EXPECT_EQ(v.at("expected_x_twilio_signature"), kSignature);
  FormFields params;
  for (const auto& [k, val] : v.at("params").items())
    params.emplace_back(k, val.get<std::string>());
  EXPECT_EQ(params, kParams);
}

TEST(TwilioWebhook, EveryTamperedCopyIsRefused) {
  // Invariant: a changed field, an added field, another URL (another message id), another
  // token or a cut signature is forbidden; no signature header is unauthorized.
  FormFields changed = kParams;
  changed[2].second = "9999";
  EXPECT_TRUE(failed_with(twilio().verify(form_post(kUrl, changed, kSignature), kToken, at(0)),
                          Errc::forbidden));
  FormFields added = kParams;
  added.emplace_back("ErrorCode", "21610");
  EXPECT_TRUE(failed_with(twilio().verify(form_post(kUrl, added, kSignature), kToken, at(0)),
                          Errc::forbidden));
  EXPECT_TRUE(failed_with(
      twilio().verify(form_post("https://mycompany.com/myapp.php?foo=1&bar=3", kParams, kSignature),
                      kToken, at(0)),
      Errc::forbidden));
  EXPECT_TRUE(failed_with(twilio().verify(form_post(kUrl, kParams, kSignature), "54321", at(0)),
                          Errc::forbidden));
  EXPECT_TRUE(failed_with(
      twilio().verify(form_post(kUrl, kParams, kSignature.substr(0, 20)), kToken, at(0)),
      Errc::forbidden));
  WebhookRequest missing = form_post(kUrl, kParams, kSignature);
  missing.headers.pop_back();
  EXPECT_TRUE(failed_with(twilio().verify(missing, kToken, at(0)), Errc::unauthorized));
  WebhookRequest broken = form_post(kUrl, kParams, kSignature);
  broken.body += "&Bad=%zz";
  EXPECT_TRUE(failed_with(twilio().verify(broken, kToken, at(0)), Errc::forbidden));
}

constexpr const char* kCallback =
    "https://herald.example/webhooks/twilio/platform/status?message=0190b2a4-7c1e-7d3a-9f00-"
    "3c4d5e6f7a90";

// A status callback as Twilio posts it (track-outbound-message-status docs).
FormFields callback(std::string_view status, std::string_view error_code = "") {
  FormFields f = {{"ApiVersion", "2010-04-01"},
                  {"MessageStatus", std::string(status)},
                  {"SmsSid", "SM0123456789abcdef0123456789abcdef"},
                  {"SmsStatus", std::string(status)},
                  {"To", "+15558675310"},
                  {"MessageSid", "SM0123456789abcdef0123456789abcdef"},
                  {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                  {"From", "+15017122661"}};
  if (!error_code.empty()) f.emplace_back("ErrorCode", std::string(error_code));
  return f;
}

DeliveryEvent parse_one(const FormFields& fields, std::string url = kCallback) {
  const auto events = twilio().parse(form_post(std::move(url), fields, "sig"));
  EXPECT_TRUE(events.has_value()) << (events ? "" : events.error().message);
  if (!events || events->size() != 1) {
    ADD_FAILURE() << "expected one event";
    return {};
  }
  return events->front();
}

TEST(TwilioWebhook, MapsEveryMessageStatus) {
  // Invariant: MessageStatus values map onto Herald's vocabulary as the table says; statuses
  // Herald does not track are unknown, never an error.
  const std::vector<std::pair<std::string, EventType>> cases = {
      {"queued", EventType::queued},
      {"accepted", EventType::queued},
      {"scheduled", EventType::queued},
      {"sending", EventType::sent},
      {"sent", EventType::sent},
      {"delivered", EventType::delivered},
      {"read", EventType::delivered},
      {"undelivered", EventType::failed},
      {"failed", EventType::failed},
      {"canceled", EventType::unknown},
      {"partially_delivered", EventType::unknown},
  };
  for (const auto& [status, expected] : cases) {
    const DeliveryEvent e = parse_one(callback(status));
    EXPECT_EQ(e.type, expected) << status;
    EXPECT_EQ(e.provider_event, status);
  }
}

TEST(TwilioWebhook, EventCarriesIdsRecipientAndRaw) {
  // Invariant: MessageSid + ":" + MessageStatus keys the event, the callback URL's message=
  // names Herald's message, MessageSid is the provider's id, To the recipient; the form is
  // kept raw; Twilio gives no time.
  const WebhookRequest r = form_post(kCallback, callback("delivered"), "sig");
  const DeliveryEvent e = twilio().parse(r)->front();
  EXPECT_EQ(e.event_key, "SM0123456789abcdef0123456789abcdef:delivered");
  EXPECT_EQ(e.message_id, "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a90");
  EXPECT_EQ(e.provider_message_id, "SM0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.recipient, "+15558675310");
  EXPECT_FALSE(e.occurred_at.has_value());
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(e.raw, r.body);
}

TEST(TwilioWebhook, DeliveryErrorCodesReadInWords) {
  // Invariant: 30003/30005/30006/30007/30008 on a failed or undelivered message give the
  // reason "error <code>: <meaning>"; another code just "error <code>".
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"30003", "error 30003: unreachable handset"},
      {"30005", "error 30005: unknown or inactive number"},
      {"30006", "error 30006: landline or unreachable carrier"},
      {"30007", "error 30007: carrier filtering"},
      {"30008", "error 30008: unknown error"},
      {"30034", "error 30034"},
  };
  for (const auto& [code, reason] : cases) {
    const DeliveryEvent e = parse_one(callback("undelivered", code));
    EXPECT_EQ(e.type, EventType::failed) << code;
    EXPECT_EQ(e.reason, reason);
  }
  EXPECT_EQ(parse_one(callback("failed", "30007")).type, EventType::failed);
}

TEST(TwilioWebhook, OptOutErrorIsOptedOut) {
  // Invariant: error 21610 (the recipient replied STOP) is an opt-out, whatever the status.
  for (const char* status : {"failed", "undelivered"}) {
    const DeliveryEvent e = parse_one(callback(status, "21610"));
    EXPECT_EQ(e.type, EventType::opted_out) << status;
    EXPECT_EQ(e.reason, "error 21610");
  }
}

TEST(TwilioWebhook, TheSendsStatusCallbackBringsBackTheMessageId) {
  // Invariant: the StatusCallback build_send writes (the account's receiver + ?message=<id>)
  // is the URL parse reads Herald's id from, and it still verifies when Twilio signs it.
  const OutboundMessage m = sms_message("0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a99");
  Credentials c = twilio_credentials();
  c.status_callback_url = "https://herald.example/webhooks/twilio/platform/status";
  const HttpRequest send = provider_for("twilio").build_send(c, std::span(&m, 1));
  std::string status_callback;
  for (const auto& [k, v] : parse_form(send.body)) {
    if (k == "StatusCallback") status_callback = v;
  }
  ASSERT_EQ(status_callback, c.status_callback_url + "?message=" + m.id);
  const FormFields fields = callback("delivered");
  const std::string signature =
      webhooks::twilio_signature("f00dbabe0123456789abcdef01234567", status_callback, fields);
  const WebhookRequest r = form_post(status_callback, fields, signature);
  EXPECT_TRUE(twilio().verify(r, "f00dbabe0123456789abcdef01234567", at(0)).has_value());
  EXPECT_EQ(twilio().parse(r)->front().message_id, m.id);
}

TEST(TwilioWebhook, MalformedBodiesAreInvalidInputNamingTheField) {
  // Invariant: a body that is not a status callback form is invalid_input naming what is wrong.
  auto parse = [](std::string body) { return twilio().parse(post(kCallback, {}, body)); };
  const auto broken = parse("MessageSid=SM1&MessageStatus=sent%");
  ASSERT_TRUE(failed_with(broken, Errc::invalid_input));
  EXPECT_EQ(broken.error().fields.front().field, "body");
  const auto no_sid = parse("MessageStatus=sent");
  ASSERT_TRUE(failed_with(no_sid, Errc::invalid_input));
  EXPECT_EQ(no_sid.error().fields.front().field, "MessageSid");
  const auto no_status = parse("MessageSid=SM1");
  ASSERT_TRUE(failed_with(no_status, Errc::invalid_input));
  EXPECT_EQ(no_status.error().fields.front().field, "MessageStatus");
}

TEST(TwilioWebhook, NothingToRegister) {
  // Invariant: Twilio's callbacks are set per message, so registration has no step: neither a
  // request nor a key nor an error.
  const RegistrationStep step = twilio().register_step(
      twilio_credentials(), "https://herald.example/webhooks/twilio/platform/status", {});
  EXPECT_FALSE(step.request.has_value());
  EXPECT_FALSE(step.key.has_value());
  EXPECT_FALSE(step.error.has_value());
}

TEST(TwilioWebhook, NothingToUnregister) {
  // Invariant: with nothing registered (callbacks ride on each message), removal has no step
  // either: neither a request nor an error.
  const RegistrationStep step = twilio().unregister_step(
      twilio_credentials(), "https://herald.example/webhooks/twilio/platform/status", {});
  EXPECT_FALSE(step.request.has_value());
  EXPECT_FALSE(step.key.has_value());
  EXPECT_FALSE(step.error.has_value());
}

}  // namespace
}  // namespace herald::providers
