// Test shorthands for provider accounts: connecting an agent's email or SMS account with the
// fields by position, and the platform's own accounts pointed at one sandbox URL.
#pragma once

#include <optional>
#include <string>

#include "app/agents.h"
#include "providers/provider.h"

namespace herald::test {

// An agent's email account: provider, key, From address, Mailgun's domain and region.
struct EmailAccount {
  std::string provider;
  std::string api_key;
  std::string from_email;
  std::string domain;
  std::string region;
  std::optional<double> rate_limit;
};

// An agent's Twilio account.
struct SmsAccount {
  std::string provider = "twilio";
  std::string account_sid;
  std::string auth_token;
  std::string phone_number;
  std::optional<double> rate_limit;
};

inline Result<store::IntegrationRow> connect_email(app::App& app, const std::string& agent_id,
                                                   const EmailAccount& a) {
  app::ConnectInput in{a.provider,
                       {{"apiKey", a.api_key},
                        {"fromEmail", a.from_email},
                        {"domain", a.domain},
                        {"region", a.region}},
                       a.rate_limit};
  return app::connect_integration(app, agent_id, Channel::email, in);
}

inline Result<store::IntegrationRow> connect_sms(app::App& app, const std::string& agent_id,
                                                 const SmsAccount& a) {
  app::ConnectInput in{
      a.provider,
      {{"accountSid", a.account_sid}, {"authToken", a.auth_token}, {"phoneNumber", a.phone_number}},
      a.rate_limit};
  return app::connect_integration(app, agent_id, Channel::sms, in);
}

// The platform's Resend account (key, From address) for tests.
inline void platform_email(PlatformConfig& p, std::string key = "re_platform_key_0001",
                           std::string from = "noreply@platform.com") {
  p.email = PlatformAccount{.provider = "resend", .sender = std::move(from)};
  p.email.secrets.set("apiKey", Secret(std::move(key)));
}

// The platform's Twilio account for tests.
inline void platform_sms(PlatformConfig& p, std::string token = "platform_auth_token_00",
                         std::string sid = "AC00000000000000000000000000000000",
                         std::string phone = "+14155550100") {
  p.sms = PlatformAccount{.provider = "twilio", .sender = std::move(phone)};
  p.sms.params.set("accountSid", std::move(sid));
  p.sms.secrets.set("authToken", Secret(std::move(token)));
}

// Every registered provider's API at `url` (the sandbox serves them all).
inline void all_providers_at(PlatformConfig& p, const std::string& url) {
  for (const providers::Provider* provider : providers::all_providers())
    p.base_urls.set(provider->id(), url);
}

}  // namespace herald::test
