// Send workers: claim due messages from the store, render them with branding, resolve the
// route, call the provider and record the outcome. Transactional messages have their own
// lane so they never wait behind campaign traffic. A dispatcher knows the rest of Herald only
// through the interfaces delivery declares: its Sources (agents, templates, unsubscribe links,
// the platform's accounts), its Queue, and the transport its clients speak (net::HttpClient).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/quiet_hours.h"
#include "delivery/outage.h"
#include "delivery/queue.h"
#include "delivery/rate_limiter.h"
#include "delivery/retry.h"
#include "delivery/sources.h"
#include "net/http_client.h"

namespace herald::delivery {

struct DispatcherOptions {
  int workers = 4;
  int batch = 32;                             // transactional messages claimed per pass
  int campaign_batch = 1000;                  // messages of any kind claimed per pass
  std::chrono::seconds lease{120};            // a claim older than this is taken again
  std::chrono::milliseconds idle_poll{1000};  // longest sleep when the queue looks empty
  RetryPolicy retry;
  // Requests per second per account, by provider id (absent or 0: the provider's default).
  std::map<std::string, double, std::less<>> rate_limits;
  std::string worker_prefix = "w";
  QuietHours quiet_hours;  // campaign SMS waits for the recipient's local window
};

// What a dispatcher works with.
struct DispatcherParts {
  std::unique_ptr<Sources> sources;
  std::unique_ptr<Queue> queue;
  const TimeSource* clock = nullptr;
};

struct Pass;
struct Job;

using ClientFactory = std::function<std::unique_ptr<net::HttpClient>()>;

class Dispatcher {
 public:
  Dispatcher(DispatcherParts parts, DispatcherOptions options, ClientFactory make_client);
  ~Dispatcher();

  // Starts the worker threads and the scheduler thread (campaign starts and completions, expired
  // claims and chunks), and asks its sources to wake it when new work is queued.
  void start();
  // Stops taking new work, finishes the pass in progress, joins the threads.
  void stop();
  // Wakes sleeping workers (new work was queued).
  void wake();

  // One pass for tests: claims due messages (any lane) and processes them with `http`.
  // Returns how many messages were processed.
  int run_once(net::HttpClient& http, const std::string& worker = "test");

 private:
  void worker_loop(int index);
  std::chrono::milliseconds idle_wait(bool lane_only);
  void scheduler_loop();
  std::chrono::milliseconds requeue_interval() const;
  bool sweep(bool requeue);
  // Notes a failed store call: a database that cannot be reached is the outage's to log (once
  // per outage); any other failure is logged here with `what`. Returns false.
  bool store_failed(std::string_view what, const Error& e);
  // A pass holding claims meets a failed store call: true after waiting out the backoff when the
  // database could not be reached and `give_up` is not yet near; false to give up.
  bool wait_for_store(const Error& e, std::chrono::steady_clock::time_point give_up);
  // `transactional_only`: this worker is the transactional lane's own and never takes campaign
  // traffic, so a welcome email waits for no campaign pass to finish.
  int pass(net::HttpClient& http, const std::string& worker, bool transactional_only = false);
  // The pass's stages that use the dispatcher's own state (its store, options and limiter).
  bool claim(Pass& p, bool transactional_only);
  std::vector<Job*> send_round(Pass& p, net::HttpClient& http, std::vector<Job*>& round);
  std::vector<std::vector<Job*>> admit(Pass& p, std::vector<std::vector<Job*>> units);
  // The request budget of a route's account: the integration's own figure (its plan), else the
  // operator's per-provider setting, else the provider's documented pace.
  RateLimit limit_for(const Route& route) const;

  std::unique_ptr<Sources> sources_;
  std::unique_ptr<Queue> queue_;
  const TimeSource& clock_;
  DispatcherOptions options_;
  ClientFactory make_client_;
  std::vector<std::thread> threads_;
  std::thread scheduler_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t wake_seq_ = 0;
  RateLimiter limiter_;
  Outage outage_;
};

}  // namespace herald::delivery
