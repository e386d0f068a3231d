// Twilio inbound SMS (the webhook Twilio posts when someone texts the agent's number):
// the fields Herald reads, the opt-out / opt-in / help keywords, and TwiML replies.
// https://www.twilio.com/docs/messaging/guides/webhook-request and
// https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out (see provider-specs/README.md).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace herald::webhooks {

// What an inbound text asks for. Keywords count only as the whole message (one word,
// case-insensitive, surrounding whitespace ignored): "STOP PLEASE" is not an opt-out.
enum class InboundKeyword {
  opt_out,  // STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT
  opt_in,   // START, UNSTOP, YES
  help,     // HELP, INFO
  none,
};
InboundKeyword classify_inbound(std::string_view body);

// The parts of an inbound message Herald uses.
struct InboundSms {
  std::string message_sid;
  std::string account_sid;
  std::string from;  // the sender, E.164
  std::string to;    // the agent's (or platform's) number
  std::string body;
};
InboundSms parse_inbound(std::span<const std::pair<std::string, std::string>> params);

// TwiML answers (Content-Type text/xml): one reply message, or no reply at all.
std::string twiml_message(std::string_view text);
std::string twiml_empty();

}  // namespace herald::webhooks
