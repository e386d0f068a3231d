// Agent services: accounts, branding, integrations (connect / disconnect / activate / test)
// and the routes an agent's messages take. Secrets are sealed here before they are stored
// and opened here when a worker needs them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// What an agent sends to connect an account (the seed's connectEmailProvider and
// connectTwilio, for any provider): the provider's id and its fields by name, as given.
struct ConnectInput {
  std::string provider;
  std::vector<std::pair<std::string, std::string>> fields;
  // Requests per second this account may take (the provider's plan); none: Herald's default
  // for the provider (HERALD_RATE_LIMIT_<PROVIDER>, else the provider's documented pace).
  std::optional<double> rate_limit;
};

Result<store::AgentRow> create_agent(App& app, const NewAgent& input);

// The agent's stored record; Errc::not_found if there is no such agent.
Result<store::AgentRecord> get_agent(App& app, const std::string& agent_id);

// Validates and saves branding (all fields replaced); returns what was saved (normalized).
Result<Branding> put_branding(App& app, const std::string& agent_id, Branding branding);

// Validates the fields against the provider's registry entry (each invalid field named), seals
// its secret fields and stores the integration, replacing the channel's previous one.
Result<store::IntegrationRow> connect_integration(App& app, const std::string& agent_id,
                                                  Channel channel, const ConnectInput& input);

// Checks `input` as connect_integration does, without storing: the fields as they would be kept
// (sender normalized, defaults filled in), or the errors. `env` names fields by their
// environment variable instead (for the platform's own accounts).
struct CheckedFields {
  const providers::Provider* provider = nullptr;
  std::string sender;
  Params params;
  SecretParams secrets;
};
Result<CheckedFields> check_fields(Channel channel, const ConnectInput& input, bool env = false);

// The associated data a secret field is sealed under ("email.api_key"): the channel and the
// field's name, so a sealed value cannot be moved to another field or agent.
std::string seal_label(Channel channel, std::string_view field);
// Disconnects the agent's integration on `channel`. While the integration still holds the
// account's credentials, the webhook Herald registered for it is removed from the provider
// through `http` (tracking_setup.h's unregister_receiver, within kUnregisterBudget): best
// effort, as a provider that refuses or cannot be reached is logged and does not stop the
// disconnect. Then the integration and its tracking set-up are forgotten.
// Errc::not_found when the agent or the integration does not exist.
Result<void> disconnect(App& app, const std::string& agent_id, Channel channel,
                        net::HttpClient& http);
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
