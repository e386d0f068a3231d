// The application's side of delivery: delivery::Sources over the App (its store, keys and
// configuration), and the parts a dispatcher is built from.
#pragma once

#include "app/app.h"
#include "app/unsubscribe.h"
#include "delivery/dispatcher.h"

namespace herald::app {

class AppSources final : public delivery::Sources {
 public:
  explicit AppSources(App& app);

  Result<Agent> agent(const std::string& agent_id) override;
  Result<CompiledTemplate> template_for(const std::string& agent_id, const std::string& key,
                                        Channel channel) override;
  std::string unsubscribe_url(const std::string& agent_id, Channel channel,
                              const std::string& address) const override;
  const PlatformConfig& platform() const override { return app_.platform(); }
  void on_new_work(std::function<void()> wake) override { app_.on_wake(std::move(wake)); }

 private:
  App& app_;
  UnsubscribeSigner unsubscribe_;
};

// A dispatcher's parts for `app`: its sources, its store's queue, its clock.
delivery::DispatcherParts dispatcher_parts(App& app);

// The dispatcher's settings from the configuration (workers, retries, rate limits, quiet
// hours).
delivery::DispatcherOptions dispatcher_options(const Config& config);

}  // namespace herald::app
