#include "sandbox/event_poster.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace herald::sandbox {

namespace {

bool answered_2xx(const Result<HttpResponse>& result) {
  return result && result->status >= 200 && result->status < 300;
}

}  // namespace

void LatencyHistogram::add(std::chrono::microseconds d) {
  const auto step = static_cast<std::size_t>(std::max<std::int64_t>(0, d.count()) / kStepUs);
  ++steps_[std::min(step, kSteps)];
  ++count_;
  max_ = std::max(max_, d);
}

double LatencyHistogram::quantile_ms(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kSteps; ++i) {
    seen += steps_[i];
    if (seen >= rank) return static_cast<double>((i + 1) * kStepUs) / 1000.0;
  }
  return max_ms();
}

EventPoster::EventPoster(WebhookRegistry& registry, EventOptions options,
                         std::shared_ptr<const TimeSource> clock)
    : registry_(registry), options_(options), clock_(std::move(clock)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.threads); ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

EventPoster::~EventPoster() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  stopping_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void EventPoster::enqueue(std::vector<Delivery> deliveries) {
  {
    std::lock_guard lock(mutex_);
    for (Delivery& d : deliveries) {
      if (pending_ >= options_.queue_limit) {
        ++overflow_;
      } else if (d.fault.delay.count() > 0) {
        delayed_.emplace(Steady::now() + d.fault.delay, std::move(d));
        ++pending_;
      } else {
        ready_.push_back(std::move(d));
        ++pending_;
      }
    }
  }
  wake_.notify_one();
}

EventStats EventPoster::stats() const {
  EventStats s;
  {
    std::lock_guard lock(mutex_);
    s.queued = pending_;
  }
  s.posted = posted_.load();
  s.failed = failed_.load();
  s.retried = retried_.load();
  s.overflow = overflow_.load();
  std::lock_guard lock(latency_mutex_);
  s.latency = latency_;
  return s;
}

void EventPoster::clear_counts() {
  posted_ = 0;
  failed_ = 0;
  retried_ = 0;
  overflow_ = 0;
  std::lock_guard lock(latency_mutex_);
  latency_ = {};
}

bool EventPoster::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return pending_ == 0; });
}

// One poster thread: take the messages that are due, post their events, repeat.
void EventPoster::run() {
  net::ClientOptions client_options;
  client_options.timeout = options_.timeout;
  client_options.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds(2000));
  auto client = net::make_curl_client(client_options);
  for (;;) {
    std::vector<Job> jobs = take();
    if (jobs.empty()) return;  // stopping
    post_jobs(*client, jobs);
    finish(jobs.size());
  }
}

// Up to options_.batch messages that are due, with their events scheduled; empty when stopping.
std::vector<EventPoster::Job> EventPoster::take() {
  std::vector<Job> jobs;
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (stop_) return {};
      // Delayed messages whose time has come join the line.
      const auto now = Steady::now();
      while (!delayed_.empty() && delayed_.begin()->first <= now) {
        ready_.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
      }
      if (!ready_.empty()) break;
      if (delayed_.empty()) {
        wake_.wait(lock);
      } else {
        // A copy: wait_until holds its deadline by reference while the lock is released, and
        // another poster may take (and erase) that delayed message meanwhile.
        const Steady::time_point due = delayed_.begin()->first;
        wake_.wait_until(lock, due);
      }
    }
    const std::size_t n = std::min(ready_.size(), std::max<std::size_t>(1, options_.batch));
    jobs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      jobs.push_back({std::move(ready_.front()), {}});
      ready_.pop_front();
    }
  }
  const TimePoint now = clock_->now();
  for (Job& job : jobs) job.steps = schedule(job.delivery, now);
  return jobs;
}

// Round r posts every message's r-th event, and starts only when round r-1 is answered: each
// message's events arrive in their order while different messages' go out together.
void EventPoster::post_jobs(net::HttpClient& client, std::vector<Job>& jobs) {
  std::size_t rounds = 0;
  for (const Job& job : jobs) rounds = std::max(rounds, job.steps.size());
  for (std::size_t round = 0; round < rounds; ++round) {
    send(client, shape_round(jobs, round));
  }
}

// The posts of one round, each provider's events shaped by that provider's shaper.
std::vector<Post> EventPoster::shape_round(const std::vector<Job>& jobs, std::size_t round) {
  std::vector<std::pair<Shaper, std::vector<EventItem>>> by_shaper;
  for (const Job& job : jobs) {
    if (round >= job.steps.size() || job.delivery.shaper == nullptr) continue;
    auto group = std::ranges::find(by_shaper, job.delivery.shaper,
                                   &std::pair<Shaper, std::vector<EventItem>>::first);
    if (group == by_shaper.end()) {
      by_shaper.emplace_back(job.delivery.shaper, std::vector<EventItem>{});
      group = by_shaper.end() - 1;
    }
    group->second.push_back({&job.delivery, &job.steps[round]});
  }
  std::vector<Post> posts;
  const TimePoint now = clock_->now();
  for (auto& [shaper, items] : by_shaper) {
    for (Post& p : shaper(items, registry_, now)) posts.push_back(std::move(p));
  }
  return posts;
}

// Performs `posts` together; the failed ones again after a pause, up to options_.retries times.
void EventPoster::send(net::HttpClient& client, std::vector<Post> posts) {
  for (int attempt = 0; !posts.empty(); ++attempt) {
    std::vector<HttpRequest> requests;
    requests.reserve(posts.size());
    for (Post& p : posts) requests.push_back(std::move(p.request));
    const auto results = client.perform_all(requests);
    {
      std::lock_guard lock(latency_mutex_);
      for (const auto& r : results)
        if (answered_2xx(r)) latency_.add(r->elapsed);
    }
    std::vector<Post> again;
    for (std::size_t i = 0; i < posts.size(); ++i) {
      Post& p = posts[i];
      const bool never_retry =
          results[i] && p.final_status != 0 && results[i]->status == p.final_status;
      if (answered_2xx(results[i])) {
        posted_ += p.events;
      } else if (never_retry || attempt >= options_.retries) {
        failed_ += p.events;
      } else {
        p.request = std::move(requests[i]);
        again.push_back(std::move(p));
      }
    }
    if (again.empty()) return;
    retried_ += again.size();
    if (!pause(options_.backoff * (1 << std::min(attempt, 16)))) {
      for (const Post& p : again) failed_ += p.events;
      return;
    }
    posts = std::move(again);
  }
}

// Waits `duration` unless the poster is stopping (then false).
bool EventPoster::pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stopping_.wait_for(lock, duration, [this] { return stop_; });
}

void EventPoster::finish(std::size_t jobs) {
  std::lock_guard lock(mutex_);
  pending_ -= jobs;
  if (pending_ == 0) idle_.notify_all();
}

}  // namespace herald::sandbox
