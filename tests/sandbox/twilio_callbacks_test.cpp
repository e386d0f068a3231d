// Protects the Twilio status callbacks: a form post per status change to the message's own
// StatusCallback (Herald's receiver with ?message=<id>), signed with the auth token the send
// used, which Herald's twin verifies and reads.
#include "sandbox/webhook_loop_fixture.h"

namespace herald::sandbox::testing {
namespace {

class TwilioCallbacksTest : public WebhookLoopTest {};

TEST_F(TwilioCallbacksTest, SentThenDeliveredOrUndeliveredByTheNumbersRule) {
  // Invariant: a number ending 0005 is sent then undelivered with ErrorCode 30005, any other
  // sent then delivered; every callback verifies with the auth token and carries Herald's id
  // (from ?message=) and the MessageSid.
  Credentials c = credentials("twilio");
  const std::string token = register_receiver(c);
  ASSERT_EQ(token, "f00dbabe0123456789abcdef01234567");
  EXPECT_TRUE(requests_.empty());  // nothing to register at Twilio
  const std::string ok_sid = send(c, sms("m-ok", "+15558675310"));
  const std::string bad_sid = send(c, sms("m-bad", "+15558670005"));
  wait_for_events();
  auto events = seen("twilio", token);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(types(events["m-ok"]), (std::vector{EventType::sent, EventType::delivered}));
  EXPECT_EQ(types(events["m-bad"]), (std::vector{EventType::sent, EventType::failed}));
  for (const Seen& e : events["m-ok"]) EXPECT_EQ(e.provider_message_id, ok_sid);
  EXPECT_EQ(events["m-bad"].back().reason, "error 30005: unknown or inactive number");
  EXPECT_EQ(events["m-bad"].back().provider_message_id, bad_sid);
}

TEST_F(TwilioCallbacksTest, CallbacksAreFormPostsToTheGivenUrl) {
  // Invariant: each callback goes to the StatusCallback exactly as given, as a form with
  // MessageStatus, MessageSid, AccountSid, To and From, and a forged token fails to verify.
  Credentials c = credentials("twilio");
  const std::string sid = send(c, sms("m-1", "+15558675310"));
  wait_for_events();
  auto posts = receiver_.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].url, receiver_url("twilio") + "?message=m-1");
  EXPECT_EQ(posts[0].header("Content-Type").value_or(""), "application/x-www-form-urlencoded");
  auto form = http::parse_form(posts[1].body);
  auto field = [&](std::string_view name) {
    for (const auto& [k, v] : form) {
      if (k == name) return v;
    }
    return std::string();
  };
  EXPECT_EQ(field("MessageStatus"), "delivered");
  EXPECT_EQ(field("MessageSid"), sid);
  EXPECT_EQ(field("AccountSid"), "AC0123456789abcdef0123456789abcdef");
  EXPECT_EQ(field("To"), "+15558675310");
  EXPECT_EQ(field("From"), "+15017122661");
  EXPECT_FALSE(twin("twilio").verify(posts[1], "not-the-token", Clock::now()).has_value());
}

TEST_F(TwilioCallbacksTest, NoStatusCallbackNoPosts) {
  // Invariant: a message sent without a StatusCallback gets no callbacks.
  Credentials c = credentials("twilio");
  c.status_callback_url.clear();
  send(c, sms("m-1", "+15558675310"));
  wait_for_events();
  EXPECT_TRUE(receiver_.posts().empty());
  EXPECT_EQ(stats()["events"]["posted"], 0);
}

}  // namespace
}  // namespace herald::sandbox::testing
