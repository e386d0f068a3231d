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
  ProviderId provider = ProviderId::resend;
  Secret api_key;           // Resend / SendGrid / Mailgun
  std::string account_sid;  // Twilio
  Secret auth_token;        // Twilio
  std::string domain;       // Mailgun sending domain
  Region region = Region::us;
  std::string base_url;   // scheme://host[:port], no trailing slash
  double rate_limit = 0;  // requests per second the account may take; 0: the configured default
};

// Per-provider API base URLs (HERALD_<PROVIDER>_BASE_URL overrides the real hosts).
struct BaseUrls {
  std::string resend = "https://api.resend.com";
  std::string sendgrid = "https://api.sendgrid.com";
  std::string mailgun_us = "https://api.mailgun.net";
  std::string mailgun_eu = "https://api.eu.mailgun.net";
  std::string twilio = "https://api.twilio.com";

  std::string for_provider(ProviderId p, Region r) const;
};

// The platform's own accounts, from RESEND_API_KEY, EMAIL_FROM, TWILIO_* and HERALD_*.
struct PlatformConfig {
  std::string name = "RealtorAI";
  ProviderId email_provider = ProviderId::resend;
  Secret email_api_key;
  Mailbox email_from;  // EMAIL_FROM; its display name is ignored in favour of branding
  std::string mailgun_domain;
  Region mailgun_region = Region::us;
  std::string twilio_account_sid;
  Secret twilio_auth_token;
  std::string twilio_phone_number;
  BaseUrls base_urls;
};

// The decision for one message: provider, credentials, sender identity, who pays.
struct Route {
  Channel channel = Channel::email;
  ProviderId provider = ProviderId::resend;
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
