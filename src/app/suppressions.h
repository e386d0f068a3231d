// Suppression services: the per-agent "do not send" list (manual entries from the API, and
// those Herald records itself: unsubscribe links, SMS STOP, bounces, complaints), and the
// Twilio inbound-SMS webhook that turns STOP / START / HELP into suppressions and replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "app/app.h"
#include "webhooks/twilio_signature.h"

namespace herald::app {

// A suppression as a caller sent it (strings, validated here).
struct NewSuppression {
  std::string channel;  // email | sms
  std::string address;  // an email address, or a phone number with its country code
  std::string reason;   // default manual
  std::string detail;
};

// The address normalized for its channel: an email lowercased, a phone in E.164; nullopt if it
// is not a valid address for the channel.
std::optional<std::string> normalize_address(Channel channel, std::string_view address);

// Validates and records a suppression from the API (source "api"). `created` is false when
// the address already had a suppression with that reason (the existing one is returned).
struct AddedSuppression {
  store::Suppression suppression;
  bool created = false;
};
Result<AddedSuppression> add_suppression(App& app, const std::string& agent_id,
                                         const NewSuppression& input);

// Records a suppression Herald decided on itself (unsubscribe link, STOP, bounce webhook…);
// idempotent: true if it is new. The address is normalized for the channel.
Result<bool> suppress(App& app, const std::string& agent_id, Channel channel,
                      std::string_view address, store::SuppressionReason reason, std::string source,
                      std::string detail = {});

// Removes one suppression by id; Errc::not_found if the agent has none with that id.
Result<void> delete_suppression(App& app, const std::string& agent_id, const std::string& id);
// Removes every suppression of an address (all reasons); Errc::not_found if there was none.
Result<int> remove_suppressions(App& app, const std::string& agent_id, Channel channel,
                                std::string_view address);
// The agent's suppressions, newest first; Errc::not_found for an unknown agent.
Result<store::Page<store::Suppression>> list_suppressions(App& app, store::SuppressionQuery query);

// An inbound SMS webhook request from Twilio, as received.
struct TwilioInboundRequest {
  std::string url;              // the URL Twilio posted to: public URL + request target
  webhooks::FormParams params;  // the form body, decoded
  std::string signature;        // X-Twilio-Signature
};

// Verifies the request with the agent's Twilio Auth Token (its SMS integration's, else the
// platform's TWILIO_AUTH_TOKEN), then acts on the message: STOP and its synonyms suppress the
// sender for SMS (reason stop), START / UNSTOP / YES lift that stop, HELP / INFO get a reply
// naming the agent and how to reach them. Returns the TwiML to answer with. Errc::not_found for
// an unknown agent, Errc::forbidden (nothing recorded) when the signature does not verify.
Result<std::string> handle_twilio_inbound(App& app, const std::string& agent_id,
                                          const TwilioInboundRequest& request);

}  // namespace herald::app
