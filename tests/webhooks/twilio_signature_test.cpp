// Twilio's X-Twilio-Signature against the vectors in provider-specs/webhook-signature-vectors.json
// (copied here so the test is hermetic; cross-checked against the file when it is present).
#include "webhooks/twilio_signature.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace herald::webhooks {
namespace {

// "twilio_form": Twilio's documented example.
const FormParams kFormParams = {{"CallSid", "CA1234567890ABCDE"},
                                {"Caller", "+12349013030"},
                                {"Digits", "1234"},
                                {"From", "+12349013030"},
                                {"To", "+18005551212"}};
constexpr const char* kFormUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr const char* kFormSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

// "twilio_inbound_sms": an inbound STOP.
const FormParams kInboundParams = {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                                   {"ApiVersion", "2010-04-01"},
                                   {"Body", "STOP"},
                                   {"From", "+15558675310"},
                                   {"MessageSid", "SM0123456789abcdef0123456789abcdef"},
                                   {"NumMedia", "0"},
                                   {"SmsSid", "SM0123456789abcdef0123456789abcdef"},
                                   {"SmsStatus", "received"},
                                   {"To", "+15017122661"}};
constexpr const char* kInboundUrl = "https://hooks.example.com/twilio/sms?tenant=t1";
constexpr const char* kInboundSignature = "+AblgAnyd8DjHxGw32DnZifHKus=";

TEST(TwilioSignature, MatchesTheDocumentedVectors) {
  // Invariant: Herald computes exactly the signature Twilio sends.
  EXPECT_EQ(twilio_signature("12345", kFormUrl, kFormParams), kFormSignature);
  EXPECT_EQ(twilio_signature("test_auth_token", kInboundUrl, kInboundParams), kInboundSignature);
}

TEST(TwilioSignature, ParameterOrderOfArrivalDoesNotMatter) {
  // Invariant: parameters are signed sorted by name, whatever order the form had.
  FormParams reversed(kInboundParams.rbegin(), kInboundParams.rend());
  EXPECT_TRUE(verify_twilio_signature("test_auth_token", kInboundUrl, reversed, kInboundSignature));
}

TEST(TwilioSignature, RejectsForgeriesAndTampering) {
  // Invariant: a wrong key, a changed parameter, URL or signature never verifies.
  EXPECT_TRUE(
      verify_twilio_signature("test_auth_token", kInboundUrl, kInboundParams, kInboundSignature));
  EXPECT_FALSE(
      verify_twilio_signature("other_token", kInboundUrl, kInboundParams, kInboundSignature));
  FormParams changed = kInboundParams;
  changed[2].second = "START";
  EXPECT_FALSE(verify_twilio_signature("test_auth_token", kInboundUrl, changed, kInboundSignature));
  FormParams extra = kInboundParams;
  extra.emplace_back("Injected", "1");
  EXPECT_FALSE(verify_twilio_signature("test_auth_token", kInboundUrl, extra, kInboundSignature));
  EXPECT_FALSE(verify_twilio_signature("test_auth_token",
                                       "https://hooks.example.com/twilio/sms?tenant=t2",
                                       kInboundParams, kInboundSignature));
  EXPECT_FALSE(verify_twilio_signature("test_auth_token", kInboundUrl, kInboundParams, ""));
  EXPECT_FALSE(verify_twilio_signature("", kInboundUrl, kInboundParams, kInboundSignature));
  EXPECT_FALSE(verify_twilio_signature("test_auth_token", kInboundUrl, kInboundParams,
                                       "+AblgAnyd8DjHxGw32DnZifHKuS="));
}

TEST(TwilioSignature, RepeatedParametersAreSortedByValue) {
  // Invariant: repeated names sign as name+value pairs ordered by value (Twilio's SDK).
  FormParams a = {{"To", "+1"}, {"MediaUrl", "b"}, {"MediaUrl", "a"}};
  FormParams b = {{"MediaUrl", "a"}, {"MediaUrl", "b"}, {"To", "+1"}};
  EXPECT_EQ(twilio_signature("k", "https://x.test/h", a),
            twilio_signature("k", "https://x.test/h", b));
  EXPECT_EQ(twilio_signature("k", "https://x.test/h", b),
            twilio_signature("k", "https://x.test/hMediaUrlaMediaUrlbTo+1", FormParams{}));
}

TEST(TwilioSignature, AcceptsTheUrlWithOrWithoutTheDefaultPort) {
  // Invariant: like Twilio's SDK, a signature over https://host:443/… verifies for https://host/…
  // and vice versa, but never for another port.
  std::string with_port = "https://hooks.example.com:443/twilio/sms?tenant=t1";
  std::string sig = twilio_signature("tok", with_port, kInboundParams);
  EXPECT_TRUE(verify_twilio_signature("tok", kInboundUrl, kInboundParams, sig));
  EXPECT_TRUE(
      verify_twilio_signature("test_auth_token", with_port, kInboundParams, kInboundSignature));
  std::string other_port = twilio_signature(
      "tok", "https://hooks.example.com:8443/twilio/sms?tenant=t1", kInboundParams);
  EXPECT_FALSE(verify_twilio_signature("tok", kInboundUrl, kInboundParams, other_port));
  std::string http_sig = twilio_signature("tok", "http://127.0.0.1/hook", {});
  EXPECT_TRUE(verify_twilio_signature("tok", "http://127.0.0.1:80/hook", {}, http_sig));
}

TEST(TwilioSignature, AgreesWithTheSharedVectorsFile) {
  // Invariant: the vectors copied above are the ones in provider-specs (when that folder exists).
  const char* env = std::getenv("HERALD_PROVIDER_SPECS");
  std::filesystem::path dir =
      env ? std::filesystem::path(env)
          : std::filesystem::path(HERALD_SOURCE_DIR) / ".." / "shared" / "provider-specs";
  std::ifstream in(dir / "webhook-signature-vectors.json");
  if (!in) GTEST_SKIP() << "provider-specs not found at " << dir;
  auto vectors = nlohmann::json::parse(in);
  for (const char* name : {"twilio_form", "twilio_inbound_sms"}) {
    const auto& v = vectors.at(name);
    FormParams params;
    for (const auto& [k, val] : v.at("params").items())
      params.emplace_back(k, val.get<std::string>());
    EXPECT_EQ(twilio_signature(v.at("auth_token").get<std::string>(),
                               v.at("url").get<std::string>(), params),
              v.at("expected_x_twilio_signature").get<std::string>())
        << name;
  }
}

}  // namespace
}  // namespace herald::webhooks
