#include "app/delivery_sources.h"

#include "app/agents.h"
#include "app/templates.h"

namespace herald::app {

AppSources::AppSources(App& app) : app_(app), unsubscribe_(app.sealer().current()) {}

Result<Agent> AppSources::agent(const std::string& agent_id) {
  return load_agent(app_, agent_id);
}

Result<CompiledTemplate> AppSources::template_for(const std::string& agent_id,
                                                  const std::string& key, Channel channel) {
  auto resolved = resolve_template(app_, agent_id, key, channel);
  if (!resolved) return std::unexpected(resolved.error());
  return std::move(resolved->compiled);
}

std::string AppSources::unsubscribe_url(const std::string& agent_id, Channel channel,
                                        const std::string& address) const {
  return contact_unsubscribe_url(app_, unsubscribe_, agent_id, channel, address);
}

delivery::DispatcherParts dispatcher_parts(App& app) {
  return {std::make_unique<AppSources>(app), std::make_unique<delivery::StoreQueue>(app.store()),
          &app.clock()};
}

delivery::DispatcherOptions dispatcher_options(const Config& config) {
  delivery::DispatcherOptions options;
  options.workers = config.workers;
  options.lease = std::chrono::seconds(config.lease_seconds);
  options.retry.max_attempts = config.max_attempts;
  options.retry.base = std::chrono::milliseconds(config.retry_base_ms);
  options.rate_limits = config.rate_limits;
  options.quiet_hours = {config.sms_window, config.default_time_zone};
  return options;
}

}  // namespace herald::app
