// Protects the Twilio emulation: the 201 Message JSON, Basic auth against the path's
// AccountSid, and Twilio's coded errors.
#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

const std::string kSid = "AC0123456789abcdef0123456789abcdef";
const std::string kAuth = kSid + ":token-1234";

class TwilioTest : public SandboxTest {
 protected:
  HttpResult send(const std::string& form, const std::string& auth = kAuth,
                  const std::string& sid = kSid) {
    return client_.post(url("/2010-04-01/Accounts/" + sid + "/Messages.json"), form,
                        {{"Content-Type", "application/x-www-form-urlencoded"}}, auth);
  }
  static void expect_error(const HttpResult& r, int status, int code) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["code"], code);
    EXPECT_EQ(j["status"], status);
    EXPECT_EQ(j["more_info"], "https://www.twilio.com/docs/errors/" + std::to_string(code));
    EXPECT_TRUE(j["message"].is_string());
  }
};

TEST_F(TwilioTest, AcceptsAMessageWith201) {
  // Invariant: a valid send answers the spec's Message shape and records To/From/Body under the
  // SID.
  auto r = send(
      "To=%2B15558675310&From=%2B15017122661&Body=Hello+%F0%9F%91%8D"
      "&StatusCallback=https%3A%2F%2Fherald.local%2Fwebhooks%2Ftwilio%3Fmessage%3Dm-1");
  ASSERT_EQ(r.status, 201) << r.body;
  json j = json::parse(r.body);
  std::string sid = j["sid"];
  EXPECT_EQ(sid.size(), 34u);
  EXPECT_TRUE(sid.starts_with("SM"));
  EXPECT_EQ(j["status"], "queued");
  EXPECT_EQ(j["account_sid"], kSid);
  EXPECT_EQ(j["to"], "+15558675310");
  EXPECT_EQ(j["from"], "+15017122661");
  EXPECT_EQ(j["body"], "Hello \xF0\x9F\x91\x8D");
  EXPECT_EQ(j["direction"], "outbound-api");
  EXPECT_EQ(j["num_segments"], "1");
  EXPECT_TRUE(j["error_code"].is_null());
  EXPECT_EQ(j["uri"], "/2010-04-01/Accounts/" + kSid + "/Messages/" + sid + ".json");
  json items = messages();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["provider"], "twilio");
  EXPECT_EQ(items[0]["account"], kSid);
  EXPECT_EQ(items[0]["to"], "+15558675310");
  EXPECT_EQ(items[0]["from"], "+15017122661");
  EXPECT_EQ(items[0]["body"], "Hello \xF0\x9F\x91\x8D");
  EXPECT_TRUE(items[0]["subject"].is_null());
  EXPECT_EQ(items[0]["heraldMessageId"], "m-1");
  EXPECT_EQ(items[0]["providerMessageId"], sid);
}

TEST_F(TwilioTest, AcceptsMessagingServiceAndMediaOnly) {
  // Invariant: MessagingServiceSid may replace From (status accepted); MediaUrl may replace Body.
  auto r = send(
      "To=%2B15558675310&MessagingServiceSid=MG0123456789abcdef0123456789abcdef"
      "&MediaUrl=https%3A%2F%2Fx%2Fa.jpg");
  ASSERT_EQ(r.status, 201) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["status"], "accepted");
  EXPECT_TRUE(j["from"].is_null());
  EXPECT_EQ(j["num_media"], "1");
}

TEST_F(TwilioTest, CodedErrorsForBadInput) {
  // Invariant: missing To 21604, invalid To 21211, missing From 21603, missing Body 21602, too long
  // 21617, a recipient who replied STOP (a number ending in 21610) 21610.
  expect_error(send("From=%2B15017122661&Body=x"), 400, 21604);
  expect_error(send("To=%2B14155521610&From=%2B15017122661&Body=x"), 400, 21610);
  expect_error(send("To=5558675310&From=%2B15017122661&Body=x"), 400, 21211);
  expect_error(send("To=%2B15558675310&Body=x"), 400, 21603);
  expect_error(send("To=%2B15558675310&From=%2B15017122661"), 400, 21602);
  expect_error(send("To=%2B15558675310&From=%2B15017122661&Body=" + std::string(1601, 'a')), 400,
               21617);
  EXPECT_TRUE(messages().empty());
}

TEST_F(TwilioTest, AuthMustMatchTheAccount) {
  // Invariant: no auth, another account's SID, or a revoked token → 401 code 20003; an SK key is
  // accepted.
  expect_error(send("To=%2B15558675310&From=%2B15017122661&Body=x", ""), 401, 20003);
  expect_error(send("To=%2B15558675310&From=%2B15017122661&Body=x",
                    "AC99999999999999999999999999999999:tok"),
               401, 20003);
  expect_error(send("To=%2B15558675310&From=%2B15017122661&Body=x", kSid + ":revoked-token"), 401,
               20003);
  EXPECT_EQ(send("To=%2B15558675310&From=%2B15017122661&Body=x",
                 "SK0123456789abcdef0123456789abcdef:secret")
                .status,
            201);
  EXPECT_EQ(messages().size(), 1u);
}

TEST_F(TwilioTest, MalformedAccountSidIsNotFound) {
  // Invariant: the AccountSid must match ^AC[0-9a-fA-F]{32}$.
  expect_error(send("To=%2B15558675310&From=%2B15017122661&Body=x", "ACbad:tok", "ACbad"), 404,
               20404);
}

TEST_F(TwilioTest, AccountFetchIsTheCredentialCheck) {
  // Invariant: GET /2010-04-01/Accounts/{sid}.json is 200 with the right auth, 401 otherwise.
  auto ok = client_.request("GET", url("/2010-04-01/Accounts/" + kSid + ".json"), {}, {}, kAuth);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["sid"], kSid);
  EXPECT_EQ(json::parse(ok.body)["status"], "active");
  expect_error(client_.request("GET", url("/2010-04-01/Accounts/" + kSid + ".json"), {}, {},
                               kSid + ":revoked"),
               401, 20003);
}

}  // namespace
}  // namespace herald::sandbox::testing
