#include "delivery/dispatcher.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>

#include "delivery/admit.h"
#include "delivery/job.h"
#include "delivery/outage.h"
#include "delivery/outcome.h"
#include "delivery/plan.h"
#include "delivery/prepare.h"
#include "delivery/record.h"
#include "delivery/send.h"
#include "providers/provider.h"

namespace herald::delivery {

Dispatcher::Dispatcher(DispatcherParts parts, DispatcherOptions options, ClientFactory make_client)
    : sources_(std::move(parts.sources)),
      queue_(std::move(parts.queue)),
      clock_(*parts.clock),
      options_(std::move(options)),
      make_client_(std::move(make_client)),
      limiter_(clock_) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  stopping_ = false;
  sources_->on_new_work([this] { wake(); });
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (scheduler_.joinable()) scheduler_.join();
  sources_->on_new_work(nullptr);
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
}

int Dispatcher::run_once(net::HttpClient& http, const std::string& worker) {
  return pass(http, worker);
}

// The scheduler: starts scheduled campaigns when their time comes, completes finished ones and
// keeps the workers taking running campaigns' audiences (they take it themselves, pass by pass);
// now and then it also returns expired claims and chunks (a crashed or stuck worker's) to the
// queue. Where processes share the database, one of them sweeps at a time (Store::sweep).
void Dispatcher::scheduler_loop() {
  auto last_requeue = std::chrono::steady_clock::time_point{};
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    const bool requeue = now - last_requeue > requeue_interval();
    auto wait = std::chrono::milliseconds(50);
    if (sweep(requeue)) {
      if (requeue) last_requeue = now;
    } else if (outage_.active()) {
      wait = outage_.backoff();
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stopping_.load(); });
  }
}

// Often enough that a crashed process's claims are taken over soon after their leases expire.
std::chrono::milliseconds Dispatcher::requeue_interval() const {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(10), options_.lease / 4);
}

// One scheduler step (see scheduler_loop); false when the store failed.
bool Dispatcher::sweep(bool requeue) {
  try {
    const TimePoint now = clock_.now();
    if (requeue) {
      auto n = queue_->requeue_expired(now);
      if (!n) return store_failed("requeueing expired claims", n.error());
      if (*n > 0) spdlog::warn("requeued {} message(s) whose claim expired", *n);
    }
    auto open = queue_->advance_campaigns(now);
    if (!open) return store_failed("campaigns", open.error());
    outage_.succeeded();
    if (*open > 0) wake();  // running campaigns have audience left to take
    return true;
  } catch (const std::exception& e) {
    spdlog::error("campaigns failed: {}", e.what());
    return false;
  }
}

bool Dispatcher::store_failed(std::string_view what, const Error& e) {
  if (!outage_.failed(e)) spdlog::error("{}: {}", what, e.message);
  return false;
}

bool Dispatcher::wait_for_store(const Error& e, std::chrono::steady_clock::time_point give_up) {
  if (!outage_.failed(e)) return false;
  const auto wait = outage_.backoff();
  if (std::chrono::steady_clock::now() + wait >= give_up) return false;
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, wait, [&] { return stopping_.load(); });
}

void Dispatcher::worker_loop(int index) {
  auto http = make_client_();
  std::string name = options_.worker_prefix + std::to_string(index);
  while (!stopping_) {
    std::uint64_t seq;
    {
      std::lock_guard lock(mu_);
      seq = wake_seq_;
    }
    // With more than one worker, worker 0 serves only the transactional lane.
    const bool lane_only = index == 0 && options_.workers > 1;
    int processed = 0;
    try {
      processed = pass(*http, name, lane_only);
    } catch (const std::exception& e) {
      // Claimed messages stay 'sending' and are requeued when their lease expires.
      spdlog::error("worker {}: pass failed: {}", name, e.what());
    }
    if (processed > 0) continue;
    // While the database is away, back off (new work cannot be claimed either).
    const auto wait = outage_.active() ? outage_.backoff() : idle_wait(lane_only);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stopping_ || wake_seq_ != seq; });
  }
}

// How long an idle worker sleeps: until woken, the next message is due, or the idle poll
// elapses. (The lane's own worker is woken by whatever queues a transactional message; the
// other workers also take that lane first, so its retries are never left waiting.)
std::chrono::milliseconds Dispatcher::idle_wait(bool lane_only) {
  auto wait = options_.idle_poll;
  if (lane_only) return wait;
  if (auto due = queue_->next_due_at(); due && *due) {
    auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**due - clock_.now());
    // At least a moment: a due message this pass did not claim belongs to a paused
    // campaign, and looking again at once would spin.
    wait = std::min(wait, std::max(until, std::chrono::milliseconds(10)));
  }
  return wait;
}

// A pass, stage by stage: claim → prepare → (plan → admit → send → apply outcome → record)
// per round → finish. Round one goes over each message's resolved route; round two re-routes
// the messages whose agent credentials were rejected (fallback).
int Dispatcher::pass(net::HttpClient& http, const std::string& worker, bool transactional_only) {
  Pass p;
  p.worker = worker;
  p.now = clock_.now();
  p.retry = &options_.retry;
  p.random = [] { return std::uint64_t{randombytes_random()}; };
  // The pass holds claims: it waits for a database that went away for half their lease at
  // most, so that no other process takes them over meanwhile.
  const auto give_up = std::chrono::steady_clock::now() + options_.lease / 2;
  p.wait_for_store = [this, give_up](const Error& e) { return wait_for_store(e, give_up); };
  if (!claim(p, transactional_only)) return 0;
  // Messages to suppressed addresses (queue.h says which) end in prepare; never send unchecked.
  auto suppressed = until_stored(p.wait_for_store, [&] { return queue_->suppressed(p.claimed); });
  if (!suppressed) {
    store_failed("worker " + worker + ": suppression check failed", suppressed.error());
    return 0;  // claims expire and are retried
  }
  prepare_jobs(p, PrepareContext{*sources_, options_.quiet_hours, *suppressed});
  std::vector<Job*> round;
  for (Job& j : p.jobs)
    if (!j.done) round.push_back(&j);
  for (int r = 0; r < 2 && !round.empty(); ++r) round = send_round(p, http, round);
  finish_pass(p, *queue_);
  return static_cast<int>(p.jobs.size());
}

// Claims the pass's messages: the transactional lane first, so welcome messages never wait
// behind campaign traffic; else campaign traffic in bigger passes, so batch APIs get full
// batches: queued messages that are due (retries, deferrals) first, then recipients taken
// straight from running campaigns' audiences fill the pass (not in the queue until their
// outcomes are recorded, one write each; kept meanwhile by their chunks). False: nothing to do.
bool Dispatcher::claim(Pass& p, bool transactional_only) {
  Queue& queue = *queue_;
  store::ClaimRequest claim{p.now, p.now + options_.lease, p.worker, options_.batch,
                            MessageKind::transactional};
  auto claimed = queue.claim_due(claim);
  if (claimed && claimed->empty() && !transactional_only) {
    claim.kind.reset();
    claim.limit = std::max(options_.batch, options_.campaign_batch);
    claimed = queue.claim_due(claim);
    if (claimed && static_cast<int>(claimed->size()) < claim.limit) {
      p.fresh_from = claimed->size();
      auto taken =
          queue.take_campaign_recipients(p.now, claim.limit - static_cast<int>(claimed->size()),
                                         p.worker, claim.lease_until, *claimed, p.chunks);
      if (!taken)
        store_failed("worker " + p.worker + ": taking campaign recipients failed", taken.error());
    }
  }
  if (!claimed) return store_failed("worker " + p.worker + ": claim failed", claimed.error());
  outage_.succeeded();
  p.claimed = std::move(*claimed);
  return !p.claimed.empty();
}

// Sends every job of `round` over its current route and applies the answers, a slice of
// requests at a time, each slice's outcomes written as soon as it is answered. Returns the jobs
// to re-route through the platform (their agent's credentials were rejected).
std::vector<Job*> Dispatcher::send_round(Pass& p, net::HttpClient& http, std::vector<Job*>& round) {
  std::vector<SendUnit> ready = admit(p, plan_round(p, round));
  write_down_units(p, *queue_, ready);
  const SettleContext settle{*queue_, sources_->platform()};
  std::vector<Job*> reroutes;
  for (std::size_t first = 0; first < ready.size(); first += kRequestsPerSlice) {
    const std::size_t count = std::min(ready.size() - first, kRequestsPerSlice);
    auto answers = send_slice(p, http, std::span(ready).subspan(first, count));
    for (Answer& a : answers) {
      const int attempts = a.job->outcome.attempts;
      try {
        settle_answer(p, settle, a, reroutes);
      } catch (const std::exception& e) {
        fail_internally(p, *a.job, e.what(), a.job->outcome.attempts > attempts);
      }
    }
    flush(p, *queue_);
  }
  return reroutes;
}

// Each provider account spends only its own budget (one token per request); over it, the
// messages wait their turn in the queue (not an attempt).
std::vector<SendUnit> Dispatcher::admit(Pass& p, std::vector<SendUnit> units) {
  std::vector<SendUnit> ready;
  for (SendUnit& unit : units) {
    if (admit_unit(unit, limiter_, limit_for(*unit.front()->route), p.now))
      ready.push_back(std::move(unit));
  }
  return ready;
}

// The integration's own figure (its plan), else the operator's per-provider setting, else the
// provider's documented pace. The one place delivery reads rate-limit settings.
RateLimit Dispatcher::limit_for(const Route& route) const {
  if (route.credentials.rate_limit > 0)
    return {route.credentials.rate_limit, route.credentials.rate_limit * 2};
  if (auto it = options_.rate_limits.find(route.provider);
      it != options_.rate_limits.end() && it->second > 0)
    return {it->second, it->second * 2};
  return default_rate_limit(provider_of(route).info());
}

// Routes reach the send stages only once prepare has found their provider in the registry (an
// unknown stored provider fails its message there), so this never aborts.
const providers::Provider& provider_of(const Route& route) {
  return providers::provider_for(route.provider);
}

}  // namespace herald::delivery
