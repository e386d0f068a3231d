// What the send pass reads from the rest of Herald, and nothing more: the agents it sends for
// (their integrations opened), the templates they send with, the unsubscribe links campaign
// messages carry, the platform's own accounts, and word of new work. The application implements
// it over its store, configuration and keys (app/delivery_sources.h); delivery never sees those.
#pragma once

#include <functional>
#include <string>

#include "core/route.h"
#include "core/templates.h"
#include "core/types.h"

namespace herald::delivery {

class Sources {
 public:
  virtual ~Sources() = default;

  // The agent with its integrations' secrets opened, ready for route resolution.
  virtual Result<Agent> agent(const std::string& agent_id) = 0;
  // The template the agent sends under `key` (a key or template id) on `channel`: its own if it
  // has one, else the platform's. Errc::not_found when there is neither.
  virtual Result<CompiledTemplate> template_for(const std::string& agent_id, const std::string& key,
                                                Channel channel) = 0;
  // The one-click unsubscribe link of a campaign recipient (RFC 8058).
  virtual std::string unsubscribe_url(const std::string& agent_id, Channel channel,
                                      const std::string& address) const = 0;
  // The platform's own accounts (the fallback route) and its name, for branding.
  virtual const PlatformConfig& platform() const = 0;
  // Calls `wake` whenever new messages are queued (null: stop calling).
  virtual void on_new_work(std::function<void()> wake) = 0;
};

}  // namespace herald::delivery
