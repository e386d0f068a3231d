// Domain types: agents, branding, integrations, channels and providers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/secret.h"

namespace herald {

enum class Channel { email, sms };

// Every provider Herald speaks to. Email: resend, sendgrid, mailgun. SMS: twilio.
enum class ProviderId { resend, sendgrid, mailgun, twilio };

// Mailgun accounts live in one region; the region fixes the API host.
enum class Region { us, eu };

std::string_view to_string(Channel c);
std::string_view to_string(ProviderId p);
std::string_view to_string(Region r);
std::optional<Channel> parse_channel(std::string_view s);
std::optional<ProviderId> parse_provider(std::string_view s);
std::optional<Region> parse_region(std::string_view s);
Channel channel_of(ProviderId p);

// The agent's branding settings (the seed's brandingSettings). Empty string = not set.
struct Branding {
  std::string company_name;
  std::string reply_email;
  std::string sms_phone;
  std::string email_signature;
  std::string website;
  std::string postal_address;

  bool empty() const {
    return company_name.empty() && reply_email.empty() && sms_phone.empty() &&
           email_signature.empty() && website.empty() && postal_address.empty();
  }
};

// Health of a connected integration as last observed.
enum class IntegrationStatus { ok, failing };
std::string_view to_string(IntegrationStatus s);

// The agent's own email provider account (decrypted, in memory only).
struct EmailIntegration {
  ProviderId provider = ProviderId::resend;
  Secret api_key;
  std::string from_email;
  std::string domain;  // Mailgun sending domain
  Region region = Region::us;
  bool active = true;
  IntegrationStatus status = IntegrationStatus::ok;
  std::string status_reason;
  double rate_limit = 0;  // requests per second; 0: the provider's default
};

// The agent's own Twilio account (decrypted, in memory only).
struct SmsIntegration {
  ProviderId provider = ProviderId::twilio;
  std::string account_sid;
  Secret auth_token;
  std::string phone_number;
  bool active = true;
  IntegrationStatus status = IntegrationStatus::ok;
  std::string status_reason;
  double rate_limit = 0;  // requests per second; 0: the provider's default
};

// An agent (tenant) with what route resolution needs to know about it.
struct Agent {
  std::string id;
  std::string name;
  std::string contact_email;
  bool fallback_to_platform = true;
  Branding branding;
  std::optional<EmailIntegration> email;
  std::optional<SmsIntegration> sms;
};

}  // namespace herald
