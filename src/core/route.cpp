#include "core/route.h"

#include <algorithm>

namespace herald {

std::string_view to_string(Via v) {
  return v == Via::agent ? "agent" : "platform";
}

std::string Mailbox::formatted() const {
  if (name.empty()) return address;
  // Quote the display name when it holds RFC 5322 specials.
  constexpr std::string_view kSpecials = "()<>[]:;@\\,.\"";
  bool needs_quotes = name.find_first_of(kSpecials) != std::string::npos;
  if (!needs_quotes) return name + " <" + address + ">";
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += "\"";
  return quoted + " <" + address + ">";
}

static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Mailbox parse_mailbox(std::string_view text) {
  text = trim(text);
  auto lt = text.rfind('<');
  if (lt == std::string_view::npos || text.back() != '>') return Mailbox{"", std::string(text)};
  std::string_view name = trim(text.substr(0, lt));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return Mailbox{std::string(name), std::string(trim(text.substr(lt + 1, text.size() - lt - 2)))};
}

std::string BaseUrls::for_provider(ProviderId p, Region r) const {
  switch (p) {
    case ProviderId::resend:
      return resend;
    case ProviderId::sendgrid:
      return sendgrid;
    case ProviderId::mailgun:
      return r == Region::eu ? mailgun_eu : mailgun_us;
    case ProviderId::twilio:
      return twilio;
  }
  return {};
}

std::string Route::from_display() const {
  return channel == Channel::email ? from.formatted() : from_phone;
}

// The display name the agent's email goes out under: company name, else the platform name.
static std::string sender_name(const Agent& agent, const PlatformConfig& platform) {
  return agent.branding.company_name.empty() ? platform.name : agent.branding.company_name;
}

// Reply-To is the branding's reply email, unless it is the From address already.
static std::string reply_to_for(const Agent& agent, const std::string& from_address) {
  const auto& r = agent.branding.reply_email;
  return (r.empty() || r == from_address) ? std::string() : r;
}

Result<Route> platform_route(const Agent& agent, Channel channel, const PlatformConfig& platform) {
  Route route;
  route.channel = channel;
  route.via = Via::platform;
  if (channel == Channel::email) {
    if (platform.email_api_key.empty() || platform.email_from.address.empty()) {
      return fail(Errc::config,
                  "platform email account is not configured (set the API key and EMAIL_FROM)");
    }
    route.provider = platform.email_provider;
    route.from = Mailbox{sender_name(agent, platform), platform.email_from.address};
    route.reply_to = reply_to_for(agent, route.from.address);
    route.credentials.provider = platform.email_provider;
    route.credentials.api_key = platform.email_api_key;
    route.credentials.domain = platform.mailgun_domain;
    route.credentials.region = platform.mailgun_region;
    route.credentials.base_url =
        platform.base_urls.for_provider(platform.email_provider, platform.mailgun_region);
    return route;
  }
  if (platform.twilio_account_sid.empty() || platform.twilio_auth_token.empty() ||
      platform.twilio_phone_number.empty()) {
    return fail(Errc::config,
                "platform SMS account is not configured (set TWILIO_ACCOUNT_SID, "
                "TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER)");
  }
  route.provider = ProviderId::twilio;
  route.from_phone = platform.twilio_phone_number;
  route.credentials.provider = ProviderId::twilio;
  route.credentials.account_sid = platform.twilio_account_sid;
  route.credentials.auth_token = platform.twilio_auth_token;
  route.credentials.base_url = platform.base_urls.twilio;
  return route;
}

Result<Route> resolve_email_route(const Agent& agent, const PlatformConfig& platform) {
  if (!agent.email || !agent.email->active) return platform_route(agent, Channel::email, platform);
  const EmailIntegration& integration = *agent.email;
  Route route;
  route.channel = Channel::email;
  route.via = Via::agent;
  route.provider = integration.provider;
  std::string name = agent.branding.company_name.empty() ? agent.name : agent.branding.company_name;
  route.from = Mailbox{name, integration.from_email};
  route.reply_to = reply_to_for(agent, route.from.address);
  route.credentials.provider = integration.provider;
  route.credentials.api_key = integration.api_key;
  route.credentials.domain = integration.domain;
  route.credentials.region = integration.region;
  route.credentials.base_url =
      platform.base_urls.for_provider(integration.provider, integration.region);
  route.credentials.rate_limit = integration.rate_limit;
  return route;
}

Result<Route> resolve_sms_route(const Agent& agent, const PlatformConfig& platform) {
  if (!agent.sms || !agent.sms->active) return platform_route(agent, Channel::sms, platform);
  const SmsIntegration& integration = *agent.sms;
  Route route;
  route.channel = Channel::sms;
  route.via = Via::agent;
  route.provider = ProviderId::twilio;
  route.from_phone = integration.phone_number;
  route.credentials.provider = ProviderId::twilio;
  route.credentials.account_sid = integration.account_sid;
  route.credentials.auth_token = integration.auth_token;
  route.credentials.base_url = platform.base_urls.twilio;
  route.credentials.rate_limit = integration.rate_limit;
  return route;
}

Result<Route> resolve_route(const Agent& agent, Channel channel, const PlatformConfig& platform) {
  return channel == Channel::email ? resolve_email_route(agent, platform)
                                   : resolve_sms_route(agent, platform);
}

}  // namespace herald
