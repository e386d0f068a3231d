#include "app/tracking.h"

#include <spdlog/spdlog.h>

#include "app/tracking_setup.h"
#include "core/id.h"

namespace herald::app {

std::string receiver_url(const App& app, const providers::Provider& provider,
                         std::string_view owner) {
  return receiver_url(app.config().public_url + "/webhooks", provider.info().id,
                      provider.info().channel, owner);
}

Result<void> receive_webhook(App& app, std::string_view provider_id, const std::string& owner,
                             const providers::WebhookRequest& request) {
  const providers::Provider* provider = providers::find_provider(provider_id);
  const providers::WebhookTwin* twin = provider ? provider->webhook() : nullptr;
  if (twin == nullptr) return fail(Error::not_found("no such receiver"));
  // The signature first: nothing is read or kept from an unverified request.
  auto key = tracking_key(app, provider_id, owner);
  if (!key) return std::unexpected(key.error());
  if (auto ok = twin->verify(request, key->reveal(), app.clock().now()); !ok) {
    spdlog::warn("webhook {} for {}: {}", provider_id, owner, ok.error().message);
    return ok;
  }
  store::WebhookPost post{
      new_id(),    std::string(provider_id), owner,        twin->replay_key(request),
      request.url, request.headers,          request.body, app.clock().now()};
  auto kept = app.post_inbox().keep(std::move(post));
  if (!kept) return std::unexpected(kept.error());
  if (!*kept) return fail(Error{Errc::forbidden, "this request was received before (a replay)"});
  app.wake_tracking();
  return {};
}

namespace {

// A post's events as its provider's twin reads them, or why they cannot be read.
store::PostEvents read_post(const store::WebhookPost& post) {
  const providers::Provider* provider = providers::find_provider(post.provider);
  const providers::WebhookTwin* twin = provider ? provider->webhook() : nullptr;
  if (twin == nullptr) return {&post, {}, "no provider " + post.provider};
  auto events = twin->parse(providers::WebhookRequest{post.url, post.headers, post.body});
  if (!events) {
    spdlog::warn("webhook {} for {}: cannot read post {}: {}", post.provider, post.owner, post.id,
                 events.error().message);
    return {&post, {}, events.error().message};
  }
  return {&post, *std::move(events), {}};
}

}  // namespace

Result<int> apply_pending_webhooks(App& app, int limit) {
  auto& tracking = app.store().tracking();
  auto posts = tracking.pending_posts(app.clock().now(), limit);
  if (!posts) return std::unexpected(posts.error());
  if (posts->empty()) return 0;
  std::vector<store::PostEvents> round;
  round.reserve(posts->size());
  for (const store::WebhookPost& post : *posts) round.push_back(read_post(post));
  // One transaction for the round: a commit per post would take the writer once per post.
  const store::TrackingPolicy policy{.soft_bounce_limit = app.config().soft_bounce_limit};
  auto applied = tracking.apply_posts(round, policy, app.clock().now());
  if (!applied) return std::unexpected(applied.error());
  return static_cast<int>(posts->size());
}

void TrackingWorker::report(std::string_view what, const Error& e) {
  if (!outage_.failed(e)) spdlog::error("{}: {}", what, e.message);
}

void TrackingWorker::start() {
  stopping_ = false;
  app_.on_tracking_wake([this] {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  });
  thread_ = std::thread([this] { loop(); });
}

void TrackingWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  app_.on_tracking_wake(nullptr);
}

void TrackingWorker::loop() {
  constexpr int kPostsPerRound = 200;
  constexpr int kRegistrationsPerRound = 4;
  std::unique_ptr<net::HttpClient> http = make_client_();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    int handled = 0;
    try {
      auto n = apply_pending_webhooks(app_, kPostsPerRound);
      if (n) {
        outage_.succeeded();
        handled = *n;
      } else {
        report("tracking", n.error());
      }
      if (!outage_.active()) {
        if (auto r = run_due_registrations(app_, *http, kRegistrationsPerRound); !r)
          report("tracking set-up", r.error());
      }
    } catch (const std::exception& e) {
      spdlog::error("tracking failed: {}", e.what());
    }
    lock.lock();
    if (handled == kPostsPerRound) continue;  // more are waiting
    // While the database is away, try again after the outage's back-off, not at once.
    const std::chrono::milliseconds wait =
        outage_.active() ? outage_.backoff() : std::chrono::seconds(1);
    cv_.wait_for(lock, wait, [&] { return stopping_ || (woken_ && !outage_.active()); });
  }
}

}  // namespace herald::app
