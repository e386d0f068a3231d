// Delivery tracking's receivers and their worker: a provider's post is verified with the key of
// the account it came for (an agent's own integration, or the platform's), kept durably, and
// answered; its events are then read and applied (store/tracking.h) by the tracking worker.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "app/app.h"
#include "delivery/outage.h"
#include "net/http_client.h"
#include "providers/provider.h"

namespace herald::app {

// The receiver URL of `provider`'s events for `owner` under the public URL.
std::string receiver_url(const App& app, const providers::Provider& provider,
                         std::string_view owner);

// Verifies `request` (signature, freshness, replay) and keeps it for the tracking worker.
// Errc::not_found: Herald has no such provider, owner or account of that provider for the owner;
// Errc::unauthorized / forbidden: unsigned, forged, stale or replayed (nothing is kept).
Result<void> receive_webhook(App& app, std::string_view provider_id, const std::string& owner,
                             const providers::WebhookRequest& request);

// Reads and applies up to `limit` kept posts, oldest first; a post that cannot be read is
// set aside with its reason. Returns how many posts were handled.
Result<int> apply_pending_webhooks(App& app, int limit);

// The tracking worker: applies kept posts as they arrive (woken by receive_webhook) and, now and
// then, whatever an earlier run left; and registers Herald's receivers with providers
// (tracking_setup.h) through a client of its own.
class TrackingWorker {
 public:
  using ClientFactory = std::function<std::unique_ptr<net::HttpClient>()>;
  TrackingWorker(App& app, ClientFactory make_client)
      : app_(app),
        make_client_(std::move(make_client)),
        outage_(/*log=*/app.config().workers == 0) {}
  ~TrackingWorker() { stop(); }
  void start();
  void stop();

 private:
  void loop();
  // Logs a failed round, once per outage when the database is away.
  void report(std::string_view what, const Error& e);

  App& app_;
  ClientFactory make_client_;
  // The send workers log an outage; a process without them (HERALD_WORKERS=0) logs it here.
  delivery::Outage outage_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
};

}  // namespace herald::app
