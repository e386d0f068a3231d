// Posts accepted messages' delivery events to the receivers registered for their accounts, on
// its own threads, so a send request only hands its message over (a bounded queue) and never
// waits for a receiver. A message's events go out in order, each after the one before has
// been answered; posts of different messages go out concurrently. A post that fails (no
// answer, non-2xx) is retried a few times with a short doubling backoff, then dropped and
// counted. Internal to src/sandbox.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "sandbox/events.h"
#include "sandbox/sandbox.h"

namespace herald::sandbox {

struct WebhookRegistry;

// How long receivers took to answer posts (2xx only), in 50 µs steps up to 250 ms.
class LatencyHistogram {
 public:
  void add(std::chrono::microseconds d);
  std::uint64_t count() const { return count_; }
  // The q-quantile (0 < q ≤ 1) in ms: the upper edge of its step, or the largest seen when it
  // lies beyond the last step. 0 when empty.
  double quantile_ms(double q) const;
  double max_ms() const { return static_cast<double>(max_.count()) / 1000.0; }

 private:
  static constexpr std::int64_t kStepUs = 50;
  static constexpr std::size_t kSteps = 5000;
  std::vector<std::uint64_t> steps_ = std::vector<std::uint64_t>(kSteps + 1);  // last: beyond
  std::uint64_t count_ = 0;
  std::chrono::microseconds max_{0};
};

// Counts since the start or the last clear_counts().
struct EventStats {
  std::uint64_t queued = 0;    // messages whose events are waiting or being posted
  std::uint64_t posted = 0;    // events a receiver answered with 2xx (one per receiver)
  std::uint64_t failed = 0;    // events dropped after their last retry
  std::uint64_t retried = 0;   // posts tried again
  std::uint64_t overflow = 0;  // messages whose events were not queued: the queue was full
  LatencyHistogram latency;    // of the posts answered with 2xx
};

class EventPoster {
 public:
  EventPoster(WebhookRegistry& registry, EventOptions options,
              std::shared_ptr<const TimeSource> clock);
  // Stops the threads; events still queued are not posted.
  ~EventPoster();
  EventPoster(const EventPoster&) = delete;
  EventPoster& operator=(const EventPoster&) = delete;

  // Queues the events of one request's `deliveries` together, so a poster takes them in one
  // batch (each after its fault's delay, if any). Never blocks on posting; what does not fit
  // in the queue is counted as overflow instead.
  void enqueue(std::vector<Delivery> deliveries);
  EventStats stats() const;
  void clear_counts();
  // Waits until nothing is queued or being posted; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  using Steady = std::chrono::steady_clock;
  struct Job {
    Delivery delivery;
    std::vector<Step> steps;
  };

  void run();
  std::vector<Job> take();
  void post_jobs(net::HttpClient& client, std::vector<Job>& jobs);
  std::vector<Post> shape_round(const std::vector<Job>& jobs, std::size_t round);
  void send(net::HttpClient& client, std::vector<Post> posts);
  bool pause(std::chrono::milliseconds duration);
  void finish(std::size_t jobs);

  WebhookRegistry& registry_;
  const EventOptions options_;
  std::shared_ptr<const TimeSource> clock_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // posters: work is due, or stop
  std::condition_variable idle_;      // wait_idle(): pending_ reached 0
  std::condition_variable stopping_;  // a backoff pause ends early
  std::deque<Delivery> ready_;
  std::multimap<Steady::time_point, Delivery> delayed_;  // by when they are due
  std::size_t pending_ = 0;                              // queued plus being posted
  bool stop_ = false;

  std::atomic<std::uint64_t> posted_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> retried_{0};
  std::atomic<std::uint64_t> overflow_{0};
  mutable std::mutex latency_mutex_;
  LatencyHistogram latency_;
  std::vector<std::thread> threads_;
};

}  // namespace herald::sandbox
