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

std::string receiver_url(std::string_view base, std::string_view provider, Channel channel,
                         std::string_view owner) {
  std::string url = std::string(base) + "/" + std::string(provider) + "/" + std::string(owner);
  if (channel == Channel::sms) url += "/status";
  return url;
}

// Credentials for `provider`'s account from its fields, with the operator's base URL override
// and, when tracking is on, the receiver of its events for `owner`.
static Credentials credentials_for(const ProviderId& provider, Channel channel,
                                   std::string_view owner, const Params& params,
                                   const SecretParams& secrets, const PlatformConfig& platform) {
  Credentials c;
  c.provider = provider;
  c.params = params;
  c.secrets = secrets;
  c.base_url = platform.base_urls.get(provider);
  if (!platform.receiver_base.empty())
    c.status_callback_url = receiver_url(platform.receiver_base, provider, channel, owner);
  return c;
}

Result<Route> platform_route(const Agent& agent, Channel channel, const PlatformConfig& platform) {
  const PlatformAccount& account = channel == Channel::email ? platform.email : platform.sms;
  if (account.provider.empty() || !account.missing.empty()) {
    return fail(Errc::config, std::string(channel == Channel::email ? "email" : "SMS") +
                                  " via the platform is not set up (the operator must set " +
                                  account.missing + ")");
  }
  Route route;
  route.channel = channel;
  route.via = Via::platform;
  route.provider = account.provider;
  if (channel == Channel::email) {
    route.from = Mailbox{sender_name(agent, platform), account.sender};
    route.reply_to = reply_to_for(agent, route.from.address);
  } else {
    route.from_phone = account.sender;
  }
  route.credentials = credentials_for(account.provider, channel, kPlatformOwner, account.params,
                                      account.secrets, platform);
  return route;
}

// The agent's own account on `channel`; its From name is the company name, else the agent's.
static Route agent_route(const Agent& agent, Channel channel, const Integration& integration,
                         const PlatformConfig& platform) {
  Route route;
  route.channel = channel;
  route.via = Via::agent;
  route.provider = integration.provider;
  if (channel == Channel::email) {
    std::string name =
        agent.branding.company_name.empty() ? agent.name : agent.branding.company_name;
    route.from = Mailbox{std::move(name), integration.sender};
    route.reply_to = reply_to_for(agent, route.from.address);
  } else {
    route.from_phone = integration.sender;
  }
  route.credentials = credentials_for(integration.provider, channel, agent.id, integration.params,
                                      integration.secrets, platform);
  route.credentials.rate_limit = integration.rate_limit;
  return route;
}

Result<Route> resolve_email_route(const Agent& agent, const PlatformConfig& platform) {
  return resolve_route(agent, Channel::email, platform);
}

Result<Route> resolve_sms_route(const Agent& agent, const PlatformConfig& platform) {
  return resolve_route(agent, Channel::sms, platform);
}

Result<Route> resolve_route(const Agent& agent, Channel channel, const PlatformConfig& platform) {
  const auto& integration = agent.integration(channel);
  if (!integration || !integration->active) return platform_route(agent, channel, platform);
  return agent_route(agent, channel, *integration, platform);
}

}  // namespace herald
