// The application context shared by the API, the workers and the CLI: configuration, the
// store, the sealer and the clock, plus the services that act on them.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "app/config.h"
#include "app/post_inbox.h"
#include "app/tracking_keys.h"
#include "core/clock.h"
#include "secrets/sealer.h"
#include "store/store.h"

namespace herald::app {

class App {
 public:
  App(Config config, std::unique_ptr<store::Store> store, secrets::Sealer sealer,
      const TimeSource& clock)
      : config_(std::move(config)),
        store_(std::move(store)),
        sealer_(std::move(sealer)),
        clock_(clock),
        post_inbox_(store_->tracking()) {}

  const Config& config() const { return config_; }
  // Listens on `listen` after all (a port 0 made real); see app::use_listen. Only before the
  // workers start and the address is announced: nothing else reads the configuration then.
  Result<void> use_listen(const std::string& listen) {
    return app::use_listen(config_, listen, "--listen");
  }
  const PlatformConfig& platform() const { return config_.platform; }
  store::Store& store() { return *store_; }
  const secrets::Sealer& sealer() const { return sealer_; }
  const TimeSource& clock() const { return clock_; }
  // The webhook keys the receivers used in the last few seconds (tracking_keys.h).
  TrackingKeys& tracking_keys() { return tracking_keys_; }
  // Where the receivers keep verified webhook posts, a wave at a time (post_inbox.h).
  PostInbox& post_inbox() { return post_inbox_; }

  // Asks the send workers to look at the queue now (the seed's runAfter(0, …)).
  void wake_workers() const {
    std::lock_guard lock(wake_mu_);
    if (wake_) wake_();
  }
  void on_wake(std::function<void()> f) {
    std::lock_guard lock(wake_mu_);
    wake_ = std::move(f);
  }
  // Asks the tracking worker to apply the webhook posts just recorded.
  void wake_tracking() const {
    std::lock_guard lock(wake_mu_);
    if (wake_tracking_) wake_tracking_();
  }
  void on_tracking_wake(std::function<void()> f) {
    std::lock_guard lock(wake_mu_);
    wake_tracking_ = std::move(f);
  }

 private:
  Config config_;
  std::unique_ptr<store::Store> store_;
  secrets::Sealer sealer_;
  const TimeSource& clock_;
  TrackingKeys tracking_keys_;
  PostInbox post_inbox_;
  mutable std::mutex wake_mu_;
  std::function<void()> wake_;
  std::function<void()> wake_tracking_;
};

}  // namespace herald::app
