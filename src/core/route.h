// Route resolution: the one place Herald decides which account sends a message, from whom,
// and who pays. A pure function of (agent, channel, platform config).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/types.h"

namespace herald {

// Whose account carries a message (and therefore who pays for it).
enum class Via { agent, platform };
std::string_view to_string(Via v);

// An email address with an optional display name.
struct Mailbox {
  std::string name;
  std::string address;

  // RFC 5322 form: `Name <address>`, quoting the name when it holds specials.
  std::string formatted() const;
  bool empty() const { return address.empty(); }
};

// Parses "Name <addr>" or "addr" (as EMAIL_FROM may be given). Does not validate the address.
Mailbox parse_mailbox(std::string_view text);

// What a provider needs to authenticate and where to send. Secrets stay in Secret.
struct Credentials {
  ProviderId provider;
  Params params;         // the account's plain fields, by the provider's field names
  SecretParams secrets;  // its secret fields
  std::string
      base_url;  // HERALD_<PROVIDER>_BASE_URL (no trailing slash); empty: the provider's host
  double rate_limit = 0;  // requests per second the account may take; 0: the configured default
  // Herald's receiver for this account's delivery events when tracking is on (empty: off), for
  // providers whose callback is set per message (Twilio's StatusCallback): the adapter appends
  // "?message=<Herald's message id>".
  std::string status_callback_url;
};

// The platform's own account on one channel, from the environment variables the provider's
// registry entry names (RESEND_API_KEY, EMAIL_FROM, TWILIO_*, …).
struct PlatformAccount {
  ProviderId provider;
  std::string sender;  // EMAIL_FROM's address, or TWILIO_PHONE_NUMBER
  Params params;
  SecretParams secrets;
  // Empty when the account is usable; else which settings are missing (for the error).
  std::string missing;
};

// The platform's own accounts and provider settings.
struct PlatformConfig {
  std::string name = "RealtorAI";
  PlatformAccount email;
  PlatformAccount sms;
  const PlatformAccount& account(Channel c) const { return c == Channel::email ? email : sms; }
  // Per provider id: HERALD_<PROVIDER>_BASE_URL overrides (providers absent use their host).
  Params base_urls;
  // Where providers post delivery events ("<public URL>/webhooks") when tracking can use it;
  // empty: tracking is off, and no send asks for per-message callbacks.
  std::string receiver_base;
};

// Who a receiver URL is for when it is not an agent.
inline constexpr std::string_view kPlatformOwner = "platform";

// Herald's receiver of `provider`'s delivery events for `owner` (an agent id or "platform")
// under `base`: <base>/<provider>/<owner>, and /status after it for SMS status callbacks.
std::string receiver_url(std::string_view base, std::string_view provider, Channel channel,
                         std::string_view owner);

// The decision for one message: provider, credentials, sender identity, who pays.
struct Route {
  Channel channel = Channel::email;
  ProviderId provider;
  Via via = Via::platform;
  Mailbox from;            // email
  std::string from_phone;  // sms (E.164)
  std::string reply_to;    // email, may be empty
  Credentials credentials;

  Via payer() const { return via; }
  // The sender as shown to recipients: `Name <addr>` for email, the number for SMS.
  std::string from_display() const;
};

// Email route: the agent's active integration if any, else the platform's account with
// the agent's branding. Fails only when the platform route is needed but not configured.
Result<Route> resolve_email_route(const Agent& agent, const PlatformConfig& platform);

// SMS route: the agent's active Twilio if any, else the platform's Twilio.
Result<Route> resolve_sms_route(const Agent& agent, const PlatformConfig& platform);

// Route for a channel (dispatches to the two above).
Result<Route> resolve_route(const Agent& agent, Channel channel, const PlatformConfig& platform);

// The platform's route for this agent (branding applied), ignoring the agent's integrations.
// Used directly when an agent's credentials are rejected and fallbackToPlatform is on.
Result<Route> platform_route(const Agent& agent, Channel channel, const PlatformConfig& platform);

}  // namespace herald
