// Twilio adapter: exact requests and classification of Twilio's real response shapes
// (provider-specs/README.md § Twilio; spec twilio_api_v2010.json).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "providers/provider.h"
#include "providers/test_support.h"

namespace herald::providers {
namespace {

using nlohmann::json;
using namespace fixtures;

const Provider& twilio() {
  return provider_for("twilio");
}

HttpResponse twilio_error(int status, int code, std::string_view message) {
  return response(status,
                  json{{"code", code},
                       {"message", message},
                       {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                       {"status", status}}
                      .dump());
}

TEST(Twilio, CapabilitiesAreSmsOneAtATime) {
  // Invariant: Twilio sends SMS, one message per request, without idempotency keys.
  const Capabilities c = twilio().capabilities();
  EXPECT_EQ(c.channel, Channel::sms);
  EXPECT_EQ(c.max_batch, 1u);
  EXPECT_FALSE(c.idempotency_keys);
}

TEST(Twilio, SendIsExactFormRequest) {
  // Invariant: POST Accounts/{sid}/Messages.json, Basic sid:token, UA, form fields To, From,
  // Body, StatusCallback.
  const OutboundMessage m = sms_message();
  const HttpRequest r = twilio().build_send(twilio_credentials(), std::span(&m, 1));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url,
            "https://api.twilio.test/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/"
            "Messages.json");
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].first, "Authorization");
  EXPECT_EQ(basic_credentials(r.headers[0].second),
            "AC0123456789abcdef0123456789abcdef:f00dbabe0123456789abcdef01234567");
  EXPECT_EQ(r.headers[1],
            (std::pair<std::string, std::string>{"User-Agent", std::string(kUserAgent)}));
  EXPECT_EQ(r.headers[2], (std::pair<std::string, std::string>{
                              "Content-Type", "application/x-www-form-urlencoded"}));
  EXPECT_EQ(
      parse_form(r.body),
      (Fields{{"To", "+15558675310"},
              {"From", "+15017122661"},
              {"Body", "Sunset Properties: open house Sat 1-3pm & snacks. Reply STOP to opt out."},
              {"StatusCallback", "https://herald.example/webhooks/twilio/status?agent=a1"}}));
  // '+', '&', '=' and spaces must be escaped, or Twilio would read a different number/body.
  EXPECT_EQ(r.body.find('+'), std::string::npos);
  EXPECT_NE(r.body.find("To=%2B15558675310"), std::string::npos);
}

TEST(Twilio, StatusCallbackOmittedWhenUnset) {
  // Invariant: no empty StatusCallback (Twilio would refuse an invalid URL) when tracking is
  // off and the message names none.
  OutboundMessage m = sms_message();
  m.status_callback.clear();
  const HttpRequest r = twilio().build_send(twilio_credentials(), std::span(&m, 1));
  EXPECT_EQ(parse_form(r.body),
            (Fields{{"To", "+15558675310"}, {"From", "+15017122661"}, {"Body", m.body}}));
}

TEST(Twilio, StatusCallbackIsTheAccountsReceiverWithTheMessageId) {
  // Invariant: with tracking on, StatusCallback is the account's receiver plus
  // message=<Herald's id> (URL-encoded; `&` when the receiver already has a query), which is
  // how each status callback finds its message; it wins over a URL set on the message.
  OutboundMessage m = sms_message("id with/space");
  Credentials c = twilio_credentials();
  c.status_callback_url = "https://herald.example/webhooks/twilio/a1/status";
  auto callback_of = [&](const Credentials& credentials) {
    const HttpRequest r = twilio().build_send(credentials, std::span(&m, 1));
    EXPECT_NE(r.body.find("StatusCallback="), std::string::npos);
    return parse_form(r.body).back();
  };
  EXPECT_EQ(callback_of(c),
            (std::pair<std::string, std::string>{
                "StatusCallback",
                "https://herald.example/webhooks/twilio/a1/status?message=id%20with%2Fspace"}));
  c.status_callback_url = "https://herald.example/webhooks/twilio/status?owner=a1";
  EXPECT_EQ(callback_of(c).second,
            "https://herald.example/webhooks/twilio/status?owner=a1&message=id%20with%2Fspace");
  m.status_callback.clear();
  EXPECT_EQ(callback_of(c).second,
            "https://herald.example/webhooks/twilio/status?owner=a1&message=id%20with%2Fspace");
}

TEST(Twilio, UnicodeBodyIsPercentEncodedUtf8) {
  // Invariant: non-ASCII text (emoji, accents) arrives as the same UTF-8.
  OutboundMessage m = sms_message();
  m.body = "Open house 🏡 at Café";
  const HttpRequest r = twilio().build_send(twilio_credentials(), std::span(&m, 1));
  EXPECT_EQ(parse_form(r.body)[2].second, "Open house 🏡 at Café");
}

TEST(Twilio, VerifyIsGetAccount) {
  // Invariant: the credential check is a read-only GET Accounts/{sid}.json with Basic auth.
  const HttpRequest r = twilio().build_verify(twilio_credentials());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url,
            "https://api.twilio.test/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(basic_credentials(*r.header("Authorization")),
            "AC0123456789abcdef0123456789abcdef:f00dbabe0123456789abcdef01234567");
  EXPECT_EQ(*r.header("User-Agent"), kUserAgent);
  EXPECT_TRUE(r.body.empty());
}

TEST(Twilio, CreatedYieldsSid) {
  // Invariant: 201 Message → accepted with its sid.
  const auto out = twilio().classify_send(
      response(
          201,
          R"({"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","api_version":"2010-04-01","body":"Hello! 👍","direction":"outbound-api","error_code":null,"from":"+14155552345","sid":"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"queued","to":"+14155552345"})"),
      1);
  EXPECT_EQ(out[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(out[0].provider_message_id, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(out[0].http_status, 201);
}

TEST(Twilio, AuthenticationErrorIsBadCredentials) {
  // Invariant: 401 (20003) marks the integration failing.
  const auto out = twilio().classify_send(twilio_error(401, 20003, "Authenticate"), 1);
  EXPECT_EQ(out[0].kind, OutcomeKind::bad_credentials);
  EXPECT_EQ(out[0].reason, "20003: Authenticate");
  EXPECT_EQ(out[0].http_status, 401);
}

TEST(Twilio, TooManyRequestsIsRetryable) {
  // Invariant: 429 (20429) is retried, honouring Retry-After when given.
  auto r = twilio_error(429, 20429, "Too Many Requests");
  EXPECT_EQ(twilio().classify_send(r, 1)[0].kind, OutcomeKind::retryable);
  EXPECT_FALSE(twilio().classify_send(r, 1)[0].retry_after.has_value());
  r.headers.emplace_back("Retry-After", "2");
  EXPECT_EQ(twilio().classify_send(r, 1)[0].retry_after, std::chrono::seconds(2));
  EXPECT_EQ(twilio().classify_send(r, 1)[0].reason, "20429: Too Many Requests");
}

TEST(Twilio, ServerErrorsAndNoResponseAreRetryable) {
  // Invariant: 5xx (JSON or not) and no response are retried.
  EXPECT_EQ(twilio().classify_send(twilio_error(500, 20500, "Internal Server Error"), 1)[0].kind,
            OutcomeKind::retryable);
  EXPECT_EQ(twilio().classify_send(response(503, "Service Unavailable"), 1)[0].kind,
            OutcomeKind::retryable);
  EXPECT_EQ(twilio().classify_send(response(0), 1)[0].kind, OutcomeKind::retryable);
  EXPECT_EQ(twilio().classify_send(response(0), 1)[0].reason, "no response from Twilio");
}

TEST(Twilio, RecipientErrorsArePermanentWithCodeAndMessage) {
  // Invariant: 400s such as 21211 (invalid To) and 21610 (opted out) fail fast as "<code>:
  // <message>".
  const auto invalid = twilio().classify_send(
      twilio_error(400, 21211, "The 'To' number +1555 is not a valid phone number."), 1);
  EXPECT_EQ(invalid[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(invalid[0].reason, "21211: The 'To' number +1555 is not a valid phone number.");
  const auto opted_out = twilio().classify_send(
      twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), 1);
  EXPECT_EQ(opted_out[0].kind, OutcomeKind::permanent);
  EXPECT_EQ(opted_out[0].reason, "21610: Attempt to send to unsubscribed recipient");
}

TEST(Twilio, OnlyAnOptedOutRecipientIsToBeSuppressed) {
  // Invariant: 21610 (the recipient replied STOP) asks for the number to be suppressed; no
  // other refusal does, nor a 21610 in a message's text rather than its code.
  EXPECT_TRUE(twilio()
                  .classify_send(twilio_error(400, 21610, "Attempt to send to unsubscribed"), 1)[0]
                  .recipient_opted_out);
  EXPECT_FALSE(twilio()
                   .classify_send(twilio_error(400, 21211, "21610 is not a valid number"), 1)[0]
                   .recipient_opted_out);
  EXPECT_FALSE(twilio().classify_send(response(400, "21610"), 1)[0].recipient_opted_out);
  EXPECT_FALSE(twilio()
                   .classify_send(twilio_error(500, 21610, "Internal Server Error"), 1)[0]
                   .recipient_opted_out);
}

TEST(Twilio, VerifyClassification) {
  // Invariant: 200 with an active account proves the pair; suspended/closed accounts and
  // 401 are rejected; 429/5xx/0 retry later.
  const auto ok = twilio().classify_verify(response(
      200,
      R"({"auth_token":"auth_token","friendly_name":"friendly_name","sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"active","type":"Full"})"));
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.detail.find("auth_token"), std::string::npos);
  const auto suspended =
      twilio().classify_verify(response(200, R"({"sid":"AC1","status":"suspended"})"));
  EXPECT_FALSE(suspended.ok);
  EXPECT_TRUE(suspended.bad_credentials);
  EXPECT_EQ(suspended.detail, "account is suspended");
  const auto rejected = twilio().classify_verify(twilio_error(401, 20003, "Authenticate"));
  EXPECT_TRUE(rejected.bad_credentials);
  EXPECT_EQ(rejected.detail, "20003: Authenticate");
  EXPECT_TRUE(twilio()
                  .classify_verify(twilio_error(404, 20404, "The requested resource was not found"))
                  .bad_credentials);
  for (int status : {0, 429, 500})
    EXPECT_TRUE(twilio().classify_verify(response(status)).retryable) << status;
}

TEST(Twilio, ReasonNeverCarriesTheAuthToken) {
  // Invariant: a 32-hex auth token echoed in an error is redacted (SIDs stay readable).
  const auto out = twilio().classify_send(
      twilio_error(
          401, 20003,
          "Token f00dbabe0123456789abcdef01234567 rejected for AC0123456789abcdef0123456789abcdef"),
      1);
  EXPECT_EQ(out[0].reason,
            "20003: Token [redacted] rejected for AC0123456789abcdef0123456789abcdef");
}

}  // namespace
}  // namespace herald::providers
