// Agent services: accounts, branding, integrations (connect / disconnect / activate / test)
// and the routes an agent's messages take. Secrets are sealed here before they are stored
// and opened here when a worker needs them.
#pragma once

#include <optional>
#include <string>

#include "app/app.h"
#include "core/route.h"
#include "net/http_client.h"
#include "providers/provider.h"

namespace herald::app {

struct NewAgent {
  std::string name;
  std::string email;
  std::string password;  // optional: enables the dashboard login (Argon2id-hashed)
};

// The seed's connectEmailProvider input.
struct EmailConnect {
  std::string provider;
  std::string api_key;
  std::string from_email;
  std::string domain;  // Mailgun
  std::string region;  // Mailgun: us (default) | eu
  // Requests per second this account may take (the provider's plan); none: Herald's default
  // for the provider (HERALD_RATE_LIMIT_<PROVIDER>, else the provider's documented pace).
  std::optional<double> rate_limit;
};

// The seed's connectTwilio input.
struct SmsConnect {
  std::string provider = "twilio";
  std::string account_sid;
  std::string auth_token;
  std::string phone_number;
  std::optional<double> rate_limit;  // as EmailConnect::rate_limit
};

Result<store::AgentRow> create_agent(App& app, const NewAgent& input);

// The agent's stored record; Errc::not_found if there is no such agent.
Result<store::AgentRecord> get_agent(App& app, const std::string& agent_id);

// Validates and saves branding (all fields replaced); returns what was saved (normalized).
Result<Branding> put_branding(App& app, const std::string& agent_id, Branding branding);

Result<store::IntegrationRow> connect_email(App& app, const std::string& agent_id,
                                            const EmailConnect& input);
Result<store::IntegrationRow> connect_sms(App& app, const std::string& agent_id,
                                          const SmsConnect& input);
// Errc::not_found when the agent or the integration does not exist.
Result<void> disconnect(App& app, const std::string& agent_id, Channel channel);
Result<store::IntegrationRow> set_integration_active(App& app, const std::string& agent_id,
                                                     Channel channel, bool active);

// The agent with its integrations' secrets opened, ready for route resolution.
Result<Agent> load_agent(App& app, const std::string& agent_id);
// Same, from a record already read.
Result<Agent> open_agent(const App& app, const store::AgentRecord& record);

// Both routes of an agent (each may be an error, e.g. platform account not configured).
struct Routes {
  Result<Route> email;
  Result<Route> sms;
};
Result<Routes> routes(App& app, const std::string& agent_id);

// Calls the provider's read-only credential check for the agent's integration; records
// the integration as ok / failing accordingly.
Result<providers::VerifyOutcome> test_integration(App& app, const std::string& agent_id,
                                                  Channel channel, net::HttpClient& http);

}  // namespace herald::app
