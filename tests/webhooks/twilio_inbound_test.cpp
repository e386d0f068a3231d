// Twilio inbound SMS: keywords as Twilio's opt-out handling defines them, field parsing, TwiML.
#include "webhooks/twilio_inbound.h"

#include <gtest/gtest.h>

#include "webhooks/twilio_signature.h"

namespace herald::webhooks {
namespace {

TEST(TwilioInbound, OptOutOptInAndHelpKeywordsAreWholeMessagesInAnyCase) {
  // Invariant: exactly Twilio's keywords, alone in the message, trimmed, case-insensitive.
  for (const char* k : {"STOP", "stop", " Stop\n", "STOPALL", "unsubscribe", "CANCEL", "end",
                        "QUIT", "revoke", "OptOut"}) {
    EXPECT_EQ(classify_inbound(k), InboundKeyword::opt_out) << k;
  }
  for (const char* k : {"START", "unstop", "Yes", "\tstart "})
    EXPECT_EQ(classify_inbound(k), InboundKeyword::opt_in) << k;
  for (const char* k : {"HELP", "info", " Help"})
    EXPECT_EQ(classify_inbound(k), InboundKeyword::help) << k;
  for (const char* k :
       {"STOP PLEASE", "please stop", "STOP.", "", "  ", "STOPP", "hello", "ye", "yess"}) {
    EXPECT_EQ(classify_inbound(k), InboundKeyword::none) << k;
  }
}

TEST(TwilioInbound, ParsesTheFieldsHeraldUses) {
  // Invariant: sender, recipient, body and message id come from Twilio's field names.
  FormParams p = {{"SmsSid", "SM1"}, {"From", "+15558675310"}, {"To", "+15017122661"},
                  {"Body", "Stop"},  {"AccountSid", "AC1"},    {"From", "+1999"}};
  auto m = parse_inbound(std::span<const std::pair<std::string, std::string>>(p));
  EXPECT_EQ(m.message_sid, "SM1");
  EXPECT_EQ(m.from, "+15558675310");
  EXPECT_EQ(m.to, "+15017122661");
  EXPECT_EQ(m.body, "Stop");
  EXPECT_EQ(m.account_sid, "AC1");
}

TEST(TwilioInbound, TwimlRepliesAreEscaped) {
  // Invariant: text from branding can never break out of the <Message> element.
  EXPECT_EQ(
      twiml_message("Tom & Jerry <Realty>: \"hi\" 'x'\x01"),
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Tom &amp; Jerry &lt;Realty&gt;: &quot;hi&quot; &#39;x&#39;</Message></Response>)");
  EXPECT_EQ(twiml_empty(), R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

}  // namespace
}  // namespace herald::webhooks
