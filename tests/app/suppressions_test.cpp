// Suppression services and the Twilio inbound webhook over a real SQLite file: validation,
// idempotence, STOP / START / HELP per agent, and forged requests that change nothing.
#include "app/suppressions.h"

#include "app/contacts_fixture.h"
#include "support/accounts.h"
#include "webhooks/twilio_inbound.h"

namespace herald::app {
namespace {

using testing::ContactsFixture;
using SuppressionsTest = ContactsFixture;

constexpr const char* kAgentToken = "agent_twilio_auth_token_0042";

TEST_F(SuppressionsTest, ManualAddValidatesNormalizesAndIsIdempotent) {
  // Invariant: a manual suppression is stored normalized, once, and the answer says if it was new.
  auto bad = add_suppression(*app_, alice_, {"fax", "", "whatever", ""});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(fields(bad.error()), (std::vector<std::string>{"channel", "address", "reason"}));
  EXPECT_EQ(fields(add_suppression(*app_, alice_, {"sms", "555-0100", "", ""}).error()),
            std::vector<std::string>{"address"});

  auto first = add_suppression(*app_, alice_, {"email", " Ann@Example.com ", "", "asked by phone"});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->suppression.address, "ann@example.com");
  EXPECT_EQ(first->suppression.reason, store::SuppressionReason::manual);
  EXPECT_EQ(first->suppression.source, "api");
  auto again = add_suppression(*app_, alice_, {"email", "ANN@example.com", "manual", ""});
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->suppression.id, first->suppression.id);
  auto phone = add_suppression(*app_, alice_, {"sms", "+1 415 555 0100", "bounced", ""});
  ASSERT_TRUE(phone.has_value());
  EXPECT_EQ(phone->suppression.address, "+14155550100");
  EXPECT_TRUE(*app_->store().contacts().is_suppressed(alice_, Channel::email, "ann@example.com"));
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(bob_, Channel::email, "ann@example.com"));
  EXPECT_EQ(
      add_suppression(*app_, "no-such-agent", {"email", "a@example.com", "", ""}).error().code,
      Errc::not_found);
}

TEST_F(SuppressionsTest, RemovalByIdOrAddressIsScopedByAgent) {
  // Invariant: only the owning agent can lift a suppression; lifting an absent one is not found.
  auto s = *add_suppression(*app_, alice_, {"email", "ann@example.com", "", ""});
  ASSERT_TRUE(suppress(*app_, alice_, Channel::email, "ann@example.com",
                       store::SuppressionReason::bounced, "test"));
  EXPECT_EQ(delete_suppression(*app_, bob_, s.suppression.id).error().code, Errc::not_found);
  EXPECT_TRUE(delete_suppression(*app_, alice_, s.suppression.id).has_value());
  EXPECT_TRUE(*app_->store().contacts().is_suppressed(alice_, Channel::email,
                                                      "ann@example.com"));  // bounce stays
  EXPECT_EQ(remove_suppressions(*app_, bob_, Channel::email, "ann@example.com").error().code,
            Errc::not_found);
  EXPECT_EQ(*remove_suppressions(*app_, alice_, Channel::email, "ANN@example.com"), 1);
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::email, "ann@example.com"));
}

class TwilioInboundTest : public ContactsFixture {
 protected:
  void SetUp() override {
    ContactsFixture::SetUp();
    Branding b;
    b.company_name = "Wright & Sons <Realty>";
    b.sms_phone = "+14155559999";
    ASSERT_TRUE(put_branding(*app_, alice_, b).has_value());
    ASSERT_TRUE(test::connect_sms(
        *app_, alice_,
        {"twilio", "AC0123456789abcdef0123456789abcdef", kAgentToken, "+15017122661"}));
  }

  // A request as Twilio would send it for `agent_id`, signed with `token`.
  TwilioInboundRequest inbound(const std::string& agent_id, const std::string& body,
                               const std::string& token, const std::string& from = "+15558675310") {
    TwilioInboundRequest r;
    r.url = app_->config().public_url + "/webhooks/twilio/" + agent_id + "/inbound";
    r.params = {{"MessageSid", "SM0123"}, {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                {"From", from},           {"To", "+15017122661"},
                {"Body", body},           {"NumMedia", "0"}};
    r.signature = webhooks::twilio_signature(token, r.url, r.params);
    return r;
  }

  bool stopped(const std::string& agent_id, const std::string& phone = "+15558675310") {
    return *app_->store().contacts().is_suppressed(agent_id, Channel::sms, phone);
  }
};

TEST_F(TwilioInboundTest, StopSuppressesTheSenderForThisAgentOnlyAndStartLiftsIt) {
  // Invariant: STOP (any synonym, any case) suppresses exactly (agent, sms, From); START undoes it.
  auto r = handle_twilio_inbound(*app_, alice_, inbound(alice_, " stop ", kAgentToken));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, webhooks::twiml_empty());
  EXPECT_TRUE(stopped(alice_));
  EXPECT_FALSE(stopped(bob_));
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::email, "+15558675310"));
  auto list =
      app_->store().contacts().list_suppressions({alice_, Channel::sms, std::nullopt, "", "", 10});
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0].reason, store::SuppressionReason::stop);
  EXPECT_EQ(list->items[0].source, "twilio inbound");
  // Repeats are harmless.
  ASSERT_TRUE(handle_twilio_inbound(*app_, alice_, inbound(alice_, "UNSUBSCRIBE", kAgentToken)));
  EXPECT_EQ(app_->store()
                .contacts()
                .list_suppressions({alice_, Channel::sms, std::nullopt, "", "", 10})
                ->items.size(),
            1u);
  ASSERT_TRUE(handle_twilio_inbound(*app_, alice_, inbound(alice_, "Start", kAgentToken)));
  EXPECT_FALSE(stopped(alice_));
}

TEST_F(TwilioInboundTest, StartDoesNotLiftOtherReasons) {
  // Invariant: opting back in by SMS lifts only the STOP, never a manual or bounce suppression.
  ASSERT_TRUE(suppress(*app_, alice_, Channel::sms, "+15558675310",
                       store::SuppressionReason::manual, "api"));
  ASSERT_TRUE(handle_twilio_inbound(*app_, alice_, inbound(alice_, "STOP", kAgentToken)));
  ASSERT_TRUE(handle_twilio_inbound(*app_, alice_, inbound(alice_, "unstop", kAgentToken)));
  EXPECT_TRUE(stopped(alice_));
}

TEST_F(TwilioInboundTest, HelpRepliesWithTheAgentsNameAndNumberEscaped) {
  // Invariant: HELP gets the agent's identity and how to reach them, as valid TwiML.
  auto r = handle_twilio_inbound(*app_, alice_, inbound(alice_, "help", kAgentToken));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, webhooks::twiml_message(
                    "Wright & Sons <Realty>: reply STOP to unsubscribe. Contact: +14155559999"));
  EXPECT_NE(r->find("Wright &amp; Sons &lt;Realty&gt;"), std::string::npos);
  EXPECT_FALSE(stopped(alice_));
  // Anything else: no reply, nothing recorded.
  auto other = handle_twilio_inbound(*app_, alice_, inbound(alice_, "STOP PLEASE", kAgentToken));
  EXPECT_EQ(*other, webhooks::twiml_empty());
  EXPECT_FALSE(stopped(alice_));
}

TEST_F(TwilioInboundTest, AgentsWithoutTwilioAreVerifiedWithThePlatformToken) {
  // Invariant: the key is the Auth Token of the account that owns the number: the agent's own,
  // else the platform's; the other one never verifies.
  EXPECT_EQ(handle_twilio_inbound(*app_, bob_, inbound(bob_, "STOP", kAgentToken)).error().code,
            Errc::forbidden);
  ASSERT_TRUE(handle_twilio_inbound(*app_, bob_, inbound(bob_, "STOP", "platform_twilio_token")));
  EXPECT_TRUE(stopped(bob_));
  EXPECT_EQ(handle_twilio_inbound(*app_, alice_, inbound(alice_, "STOP", "platform_twilio_token"))
                .error()
                .code,
            Errc::forbidden);
  EXPECT_FALSE(stopped(alice_));
  auto help = handle_twilio_inbound(*app_, bob_, inbound(bob_, "INFO", "platform_twilio_token"));
  EXPECT_EQ(*help, webhooks::twiml_message("RealtorAI: reply STOP to unsubscribe."));
}

TEST_F(TwilioInboundTest, ForgedOrReplayedElsewhereRequestsRecordNothing) {
  // Invariant: a bad signature, another agent's URL or a tampered body is 403 and changes nothing.
  auto forged = inbound(alice_, "STOP", "guessed-token");
  EXPECT_EQ(handle_twilio_inbound(*app_, alice_, forged).error().code, Errc::forbidden);
  auto tampered = inbound(alice_, "HELP", kAgentToken);
  tampered.params[4].second = "STOP";
  EXPECT_EQ(handle_twilio_inbound(*app_, alice_, tampered).error().code, Errc::forbidden);
  // Signed for Alice's URL, replayed against Bob's (whose key is the platform's) and vice versa.
  auto for_bob = inbound(bob_, "STOP", "platform_twilio_token");
  EXPECT_EQ(handle_twilio_inbound(*app_, alice_, for_bob).error().code, Errc::forbidden);
  auto unsigned_request = inbound(alice_, "STOP", kAgentToken);
  unsigned_request.signature.clear();
  EXPECT_EQ(handle_twilio_inbound(*app_, alice_, unsigned_request).error().code, Errc::forbidden);
  EXPECT_FALSE(stopped(alice_));
  EXPECT_FALSE(stopped(bob_));
  EXPECT_EQ(
      handle_twilio_inbound(*app_, "no-such-agent", inbound("no-such-agent", "STOP", kAgentToken))
          .error()
          .code,
      Errc::not_found);
}

}  // namespace
}  // namespace herald::app
